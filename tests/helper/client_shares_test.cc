#include "helper/client_shares.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace confcom::helper {
namespace {

TEST(ClientSharesTest, AShareThenRefusalSlotsThenClosed) {
  UidShares shares(2, 1);
  EXPECT_EQ(shares.Admit(1000), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(1000), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(1000), ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.Admit(1000), ShareAdmission::kClosed);
  EXPECT_EQ(shares.Admit(1000), ShareAdmission::kClosed) << "a closed connection counts nothing";
  // Another client has its own share.
  EXPECT_EQ(shares.Admit(1001), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.clients(), 2u);
}

TEST(ClientSharesTest, ReleasingGivesBackTheRightKindOfPlace) {
  UidShares shares(1, 1);
  ASSERT_EQ(shares.Admit(7), ShareAdmission::kWithinShare);
  ASSERT_EQ(shares.Admit(7), ShareAdmission::kRefusalSlot);
  // A refusal slot given back: the next is in a refusal slot again, not within the share.
  shares.Release(7, ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.Admit(7), ShareAdmission::kRefusalSlot);
  // A place within the share given back: the next is served.
  shares.Release(7, ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(7), ShareAdmission::kWithinShare);
  shares.Release(7, ShareAdmission::kClosed);  // nothing was counted: nothing changes
  EXPECT_EQ(shares.Admit(7), ShareAdmission::kClosed);
}

TEST(ClientSharesTest, AClientIsForgottenWithItsLastConnection) {
  UidShares shares(2, 2);
  shares.Admit(-1);  // uid unknown: one client of its own
  shares.Admit(5);
  shares.Admit(5);
  shares.Admit(5);
  EXPECT_EQ(shares.clients(), 2u);
  shares.Release(-1, ShareAdmission::kWithinShare);
  shares.Release(5, ShareAdmission::kWithinShare);
  shares.Release(5, ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.clients(), 1u);
  shares.Release(5, ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.clients(), 0u);
  shares.Release(5, ShareAdmission::kWithinShare);  // unknown client: ignored
  EXPECT_EQ(shares.clients(), 0u);
}

// The key is a type parameter: a later key (a pod) needs no new class.
TEST(ClientSharesTest, AnyHashableKey) {
  ConnectionShares<std::string> shares(1, 0);
  EXPECT_EQ(shares.Admit("pod-a"), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit("pod-a"), ShareAdmission::kClosed);
  EXPECT_EQ(shares.Admit("pod-b"), ShareAdmission::kWithinShare);
}

TEST(ClientSharesTest, ConcurrentAdmitsNeverExceedTheShareAndSlots) {
  UidShares shares(50, 10);
  std::atomic<int> within{0}, slots{0}, closed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        switch (shares.Admit(42)) {
          case ShareAdmission::kWithinShare: ++within; break;
          case ShareAdmission::kRefusalSlot: ++slots; break;
          case ShareAdmission::kClosed: ++closed; break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(within, 50);
  EXPECT_EQ(slots, 10);
  EXPECT_EQ(closed, 400 - 60);
}

}  // namespace
}  // namespace confcom::helper
