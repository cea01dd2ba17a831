#include "helper/memory_budget.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace confcom::helper {
namespace {

TEST(MemoryBudgetTest, ChargesWhatFitsAndGivesItBack) {
  std::atomic<int64_t> charged{0}, peak{0};
  MemoryBudget budget(1000, &charged, &peak);
  EXPECT_TRUE(budget.TryCharge(600));
  EXPECT_FALSE(budget.TryCharge(401)) << "over the limit: nothing charged";
  EXPECT_EQ(budget.charged(), 600);
  EXPECT_TRUE(budget.TryCharge(400)) << "exactly the limit fits";
  EXPECT_EQ(charged.load(), 1000) << "the count is the caller's counter";
  budget.Release(1000);
  EXPECT_EQ(budget.charged(), 0);
  EXPECT_EQ(peak.load(), 1000);
}

TEST(MemoryBudgetTest, AForcedChargeMayOverdrawAndRaisesThePeak) {
  std::atomic<int64_t> charged{0}, peak{0};
  MemoryBudget budget(100, &charged, &peak);
  ASSERT_TRUE(budget.TryCharge(100));
  budget.ForceCharge(20);  // a short BUSY reply is answered anyway
  EXPECT_EQ(budget.charged(), 120);
  EXPECT_EQ(peak.load(), 120);
  EXPECT_FALSE(budget.TryCharge(1));
  budget.Release(120);
  EXPECT_TRUE(budget.TryCharge(1));
  EXPECT_EQ(peak.load(), 120) << "the peak stays";
}

TEST(MemoryBudgetTest, ConcurrentChargesNeverPassTheLimit) {
  std::atomic<int64_t> charged{0}, peak{0};
  MemoryBudget budget(1000, &charged, &peak);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (budget.TryCharge(10)) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted, 100);
  EXPECT_EQ(budget.charged(), 1000);
  EXPECT_EQ(peak.load(), 1000);
}

TEST(MemoryBudgetTest, CheckHoldsEveryRequestAndEveryLoopsReply) {
  // 10 connections x (1000 + 4) + 1 loop x (1000 + 4) bytes.
  EXPECT_TRUE(MemoryBudget::CheckHolds(11 * 1004, 10, 1000, 1, 1000).ok());
  Status st = MemoryBudget::CheckHolds(11 * 1004 - 1, 10, 1000, 1, 1000);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  for (const char* flag : {"--max-buffered-mib", "--max-connections", "--max-frame-size"}) {
    EXPECT_NE(st.message().find(flag), std::string::npos) << st.message();
  }
  // Each loop holds a reply in progress: more loops need more room.
  EXPECT_FALSE(MemoryBudget::CheckHolds(11 * 1004, 10, 1000, 2, 1000).ok());
}

}  // namespace
}  // namespace confcom::helper
