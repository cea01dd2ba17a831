#include "helper/client_shares.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace confcom::helper {
namespace {

// Keyed by a plain uid, as the server did before pods (the template is the same).
using UidShares = ConnectionShares<int64_t>;

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

// The server's key: two pods whose processes share uid 0 have a share each; processes
// outside pods share their uid's, apart from every pod's.
TEST(ClientSharesTest, PodsOfOneUidHaveAShareEach) {
  ClientShares shares(2, 1);
  const ClientKey pod_a = ClientKey::OfPod(*PodUid::Parse("aaaaaaaa-0000-4000-8000-000000000001"));
  const ClientKey pod_b = ClientKey::OfPod(*PodUid::Parse("bbbbbbbb-0000-4000-8000-000000000002"));
  const ClientKey root = ClientKey::OfUid(0);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(shares.Admit(pod_a), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(pod_a), ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.Admit(pod_a), ShareAdmission::kClosed);
  // pod_a holds all it may: pod_b and the host's root processes are untouched.
  EXPECT_EQ(shares.Admit(pod_b), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(root), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.clients(), 3u);
  // The same pod UID written with systemd's '_' is the same pod.
  EXPECT_EQ(shares.Admit(ClientKey::OfPod(*PodUid::Parse("aaaaaaaa_0000_4000_8000_000000000001"))),
            ShareAdmission::kClosed);
  shares.Release(pod_a, ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.Admit(pod_a), ShareAdmission::kRefusalSlot);
  // A uid key and a pod key never meet, whatever the uid.
  EXPECT_FALSE(ClientKey::OfUid(0) == pod_a);
  EXPECT_EQ(ClientKey::OfUid(0), root);
  // The exited peers (of any uid) have one share together, apart from pods and uids.
  const ClientKey exited = ClientKey::OfExited();
  EXPECT_FALSE(exited == root);
  EXPECT_FALSE(exited == ClientKey::OfUid(-1));
  EXPECT_EQ(shares.Admit(exited), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(ClientKey::OfExited()), ShareAdmission::kWithinShare);
  EXPECT_EQ(shares.Admit(exited), ShareAdmission::kRefusalSlot);
  EXPECT_EQ(shares.Admit(ClientKey::OfUid(0)), ShareAdmission::kWithinShare);
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
