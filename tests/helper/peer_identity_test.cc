#include "helper/peer_identity.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace confcom::helper {
namespace {

constexpr char kUid[] = "6b1f1a0a-5b0e-4c4f-9e3c-2f8f0f0f0f0f";
constexpr char kUidSystemd[] = "6b1f1a0a_5b0e_4c4f_9e3c_2f8f0f0f0f0f";
constexpr char kOther[] = "0d3c2b1a-aaaa-4bbb-8ccc-123456789abc";
constexpr char kStaticPod[] = "7c4e1d2f9a8b7c6d5e4f3a2b1c0d9e8f";  // MD5 hex: a static pod
const std::string kContainer(64, 'e');                             // a container id

std::string PodOf(std::string_view contents) {
  auto pod = PodUidFromCgroupFile(contents);
  return pod ? std::string(pod->view()) : "<none>";
}

TEST(PeerIdentityTest, CgroupV2SystemdDriverEveryQosClass) {
  const std::string u = kUidSystemd;
  EXPECT_EQ(PodOf("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u +
                  ".slice/cri-containerd-" + kContainer + ".scope\n"),
            kUid);
  EXPECT_EQ(PodOf("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + u +
                  ".slice/cri-containerd-" + kContainer + ".scope\n"),
            kUid);
  // Guaranteed pods sit right under kubepods.slice.
  EXPECT_EQ(PodOf("0::/kubepods.slice/kubepods-pod" + u + ".slice/crio-" + kContainer + ".scope\n"),
            kUid);
  // The pause container, or a process in the pod's cgroup itself.
  EXPECT_EQ(PodOf("0::/kubepods.slice/kubepods-pod" + u + ".slice\n"), kUid);
  // kind and others run kubelet with --cgroup-root=/kubelet: the slices gain a prefix.
  EXPECT_EQ(PodOf("0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
                  "kubelet-kubepods-besteffort-pod" +
                  u + ".slice/cri-containerd-" + kContainer + ".scope"),
            kUid);
  EXPECT_EQ(
      PodOf(std::string("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod") +
            kStaticPod + ".slice/cri-containerd-" + kContainer + ".scope\n"),
      kStaticPod);
}

TEST(PeerIdentityTest, CgroupfsDriverEveryQosClass) {
  const std::string u = kUid;
  EXPECT_EQ(PodOf("0::/kubepods/burstable/pod" + u + "/" + kContainer + "\n"), kUid);
  EXPECT_EQ(PodOf("0::/kubepods/besteffort/pod" + u + "/" + kContainer + "\n"), kUid);
  EXPECT_EQ(PodOf("0::/kubepods/pod" + u + "/" + kContainer + "\n"), kUid);
  EXPECT_EQ(PodOf(std::string("0::/kubepods/burstable/pod") + kStaticPod + "/" + kContainer),
            kStaticPod);
  // Below kubepods any UID kubelet could have been given counts (a static pod's own uid).
  EXPECT_EQ(PodOf("0::/kubepods/besteffort/podmy-static-pod-1/" + kContainer), "my-static-pod-1");
}

TEST(PeerIdentityTest, CgroupV1LinesAndHybrid) {
  const std::string u = kUid;
  const std::string path = "/kubepods/burstable/pod" + u + "/" + kContainer;
  std::string v1 = "12:pids:" + path + "\n11:hugetlb:" + path + "\n10:net_cls,net_prio:" + path +
                   "\n9:cpu,cpuacct:" + path + "\n8:memory:" + path + "\n1:name=systemd:" + path +
                   "\n";
  EXPECT_EQ(PodOf(v1), kUid);
  // Hybrid: the v2 line is the root, the v1 controllers name the pod.
  EXPECT_EQ(PodOf(v1 + "0::/\n"), kUid);
  const std::string sd = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
                         std::string(kUidSystemd) + ".slice/docker-" + kContainer + ".scope";
  EXPECT_EQ(PodOf("11:cpu,cpuacct:" + sd + "\n4:memory:" + sd + "\n0::/\n"), kUid);
  // A controller line of another pod: the lines disagree, so no pod is trusted.
  EXPECT_EQ(PodOf(v1 + "3:blkio:/kubepods/burstable/pod" + kOther + "/" + kContainer + "\n"),
            "<none>");
}

TEST(PeerIdentityTest, PathsRelativeToAnotherCgroupNamespace) {
  // The helper in a pod of its own cgroup namespace sees other pods' paths from its root.
  EXPECT_EQ(PodOf("0::/../../kubepods-besteffort-pod" + std::string(kUidSystemd) +
                  ".slice/cri-containerd-" + kContainer + ".scope\n"),
            kUid);
  EXPECT_EQ(PodOf("0::/../../pod" + std::string(kUid) + "/" + kContainer + "\n"), kUid);
  EXPECT_EQ(PodOf("0::/../../../pod" + std::string(kStaticPod) + "/" + kContainer), kStaticPod);
  // A process of the helper's own pod: nothing above the namespace's root is visible.
  EXPECT_EQ(PodOf("0::/\n"), "<none>");
  EXPECT_EQ(PodOf("0::/../cri-containerd-" + kContainer + ".scope\n"), "<none>");
}

TEST(PeerIdentityTest, TheOutermostPodCountsNotOneAContainerNamesBelowIt) {
  // A container that may create cgroups (cgroupns, delegated) cannot pose as another pod.
  EXPECT_EQ(PodOf("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
                  std::string(kUidSystemd) + ".slice/cri-containerd-" + kContainer +
                  ".scope/kubepods-pod" + std::string(kOther) + ".slice\n"),
            kUid);
  EXPECT_EQ(PodOf("0::/kubepods/pod" + std::string(kUid) + "/" + kContainer + "/pod" + kOther),
            kUid);
}

TEST(PeerIdentityTest, ProcessesOutsidePodsNameNone) {
  for (std::string_view host : {
           "0::/\n",
           "0::/init.scope\n",
           "0::/system.slice/containerd.service\n",
           "0::/system.slice/kubelet.service\n",
           "0::/user.slice/user-1000.slice/session-3.scope\n",
           "0::/kubepods.slice\n",
           "0::/kubepods.slice/kubepods-burstable.slice\n",
           "0::/kubepods/burstable\n",
           "4:memory:/process_api/b754f562b72287ed1d7e4d0f06bc65a8\n0::/\n",
           "0::/machine.slice/libpod-0123456789abcdef.scope\n",
           // A host folder that starts with "pod" is not kubelet's, unless it has a UID's shape.
           "0::/podman/0123\n",
           "0::/system.slice/pod-thing.slice\n",
       }) {
    EXPECT_EQ(PodOf(host), "<none>") << host;
  }
}

TEST(PeerIdentityTest, GarbageNamesNoPod) {
  const std::string u = kUidSystemd;
  for (const std::string& bad : {
           std::string(),
           std::string("\n\n\n"),
           std::string("no colons at all"),
           std::string("0:/kubepods/pod") + kUid,            // one colon: no path field
           std::string("0::kubepods/pod") + kUid,            // the path is not absolute
           std::string("0::/kubepods-burstable-pod.slice"),  // an empty UID
           std::string("0::/kubepods-pod6b1f!a.slice"),      // a character no UID has
           std::string("0::/kubepods-pod6b1f/a.slice"),
           std::string("0::/kube-pods-pod") + u + ".slice",  // no "kubepods" segment
           std::string("0::/x-pod") + u + ".slice",
           std::string("0::/kubepods-pod") + u + ".slicex",
           std::string("0::/kubepods-pod") + std::string(65, 'a') + ".slice",  // too long
           std::string("0::/kubepods/pod") + std::string(65, 'a'),
           std::string("0::/kubepods/pod"),
           std::string("\0\0\0:\xff:\x01/pod", 10),
       }) {
    EXPECT_EQ(PodOf(bad), "<none>") << bad;
  }
  // The longest UID that fits.
  EXPECT_EQ(PodOf("0::/kubepods-pod" + std::string(64, 'a') + ".slice"), std::string(64, 'a'));
}

// Mutations of real files (a fixed seed, so a failure repeats): the parser never reads past
// its input (ASan builds check), and whatever it returns is a UID it could have read.
TEST(PeerIdentityTest, MutatedFilesNeverYieldAnInvalidUid) {
  const std::string u = kUidSystemd;
  const std::vector<std::string> seeds = {
      "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + u +
          ".slice/cri-containerd-" + kContainer + ".scope\n",
      "12:pids:/kubepods/besteffort/pod" + std::string(kUid) + "/" + kContainer +
          "\n1:name=systemd:/kubepods/besteffort/pod" + kUid + "/" + kContainer + "\n0::/\n",
      "0::/../../pod" + std::string(kStaticPod) + "/x\n",
  };
  const std::string alphabet = ":/-_.\n\0podkubepodsslice0123456789abcdef";
  uint64_t state = 0x2545f4914f6cdd1dull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int found = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s = seeds[next() % seeds.size()];
    for (int edits = int(next() % 4) + 1; edits > 0; --edits) {
      size_t at = s.empty() ? 0 : size_t(next() % s.size());
      switch (next() % 3) {
        case 0:
          if (!s.empty()) s[at] = alphabet[next() % alphabet.size()];
          break;
        case 1: s.insert(at, 1, alphabet[next() % alphabet.size()]); break;
        default:
          if (!s.empty()) s.erase(at, size_t(next() % 8) + 1);
      }
    }
    auto pod = PodUidFromCgroupFile(s);
    if (!pod) continue;
    ++found;
    std::string_view v = pod->view();
    ASSERT_FALSE(v.empty()) << s;
    ASSERT_LE(v.size(), PodUid::kMaxSize) << s;
    for (char c : v) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-') << s;
  }
  EXPECT_GT(found, 1000) << "most mutations keep some line intact";
}

TEST(PeerIdentityTest, PodUidReadsSystemdEscapesAndCompares) {
  auto a = PodUid::Parse(kUidSystemd);
  auto b = PodUid::Parse(kUid);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->view(), kUid);
  EXPECT_FALSE(PodUid::Parse(""));
  EXPECT_FALSE(PodUid::Parse(std::string(65, '1')));
  EXPECT_FALSE(PodUid::Parse("a b"));
  EXPECT_EQ(ClientKey::OfPod(*a).ToString(), std::string("pod ") + kUid);
  EXPECT_EQ(ClientKey::OfUid(0).ToString(), "uid 0");
  EXPECT_EQ(std::hash<ClientKey>()(ClientKey::OfPod(*a)),
            std::hash<ClientKey>()(ClientKey::OfPod(*b)));
}

// A fake proc folder with <pid>/cgroup files.
class FakeProc {
 public:
  std::string root() const { return dir_.File("proc"); }
  void Write(int64_t pid, const std::string& contents) {
    std::filesystem::create_directories(root() + "/" + std::to_string(pid));
    testing::WriteAll(Path(pid), contents);
  }
  std::string Path(int64_t pid) const { return root() + "/" + std::to_string(pid) + "/cgroup"; }

 private:
  testing::TempDir dir_;
};

TEST(PeerIdentityTest, IdentifyReadsTheCgroupOfThePid) {
  FakeProc proc;
  proc.Write(100, "0::/kubepods.slice/kubepods-pod" + std::string(kUidSystemd) + ".slice/x\n");
  proc.Write(101, "0::/system.slice/cron.service\n");
  PeerIdentifier by_pod(ClientIdentity::kPod, proc.root());

  Identification pod = by_pod.Identify(100, 0);
  EXPECT_EQ(pod.by, IdentifiedBy::kPod);
  EXPECT_EQ(pod.key.ToString(), std::string("pod ") + kUid);

  Identification host = by_pod.Identify(101, 0);
  EXPECT_EQ(host.by, IdentifiedBy::kUidNotInPod);
  EXPECT_EQ(host.key, ClientKey::OfUid(0));

  for (int64_t pid : {int64_t(0), int64_t(-1)}) {
    Identification hidden = by_pod.Identify(pid, 1000);
    EXPECT_EQ(hidden.by, IdentifiedBy::kUidPidNotVisible);
    EXPECT_EQ(hidden.key, ClientKey::OfUid(1000));
  }

  // No <pid> any more: the peer exited, its connection held by another process. Every such
  // peer shares one key, whatever its uid.
  Identification gone = by_pod.Identify(102, 5);
  EXPECT_EQ(gone.by, IdentifiedBy::kExited);
  EXPECT_EQ(gone.error, ENOENT);
  EXPECT_EQ(gone.key, ClientKey::OfExited());
  EXPECT_EQ(by_pod.Identify(103, 0).key, gone.key);
  EXPECT_EQ(gone.key.ToString(), "exited peers");

  // --client-identity=uid reads nothing.
  PeerIdentifier by_uid(ClientIdentity::kUid, proc.root());
  Identification flag = by_uid.Identify(100, 0);
  EXPECT_EQ(flag.by, IdentifiedBy::kUidFlag);
  EXPECT_EQ(flag.key, ClientKey::OfUid(0));
  EXPECT_STREQ(IdentifiedByName(IdentifiedBy::kUidUnreadable), "cgroup_unreadable");
}

TEST(PeerIdentityTest, UnreadableFilesFallBackToTheUid) {
  FakeProc proc;
  PeerIdentifier by_pod(ClientIdentity::kPod, proc.root());
  // A folder where the file should be.
  std::filesystem::create_directories(proc.Path(200));
  Identification dir = by_pod.Identify(200, 7);
  EXPECT_EQ(dir.by, IdentifiedBy::kUidUnreadable);
  EXPECT_EQ(dir.error, EISDIR);
  EXPECT_EQ(dir.key, ClientKey::OfUid(7));
  // A FIFO nobody writes: read at once (empty), never waited on.
  std::filesystem::create_directories(proc.root() + "/201");
  ASSERT_EQ(::mkfifo(proc.Path(201).c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  Identification fifo = by_pod.Identify(201, 7);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(fifo.by, IdentifiedBy::kUidNotInPod);
  // A proc root too long for a path.
  PeerIdentifier long_root(ClientIdentity::kPod, std::string(5000, 'x'));
  Identification too_long = long_root.Identify(1, 7);
  EXPECT_EQ(too_long.by, IdentifiedBy::kUidUnreadable);
  EXPECT_EQ(too_long.error, ENAMETOOLONG);
}

TEST(PeerIdentityTest, HugeFilesAreReadOnlyAsFarAsTheBound) {
  FakeProc proc;
  PeerIdentifier by_pod(ClientIdentity::kPod, proc.root());
  const std::string pod_line =
      "9:memory:/kubepods/burstable/pod" + std::string(kUid) + "/" + kContainer + "\n";
  // The pod first, then 1 MiB of lines: found in the first 4 KiB.
  std::string junk;
  while (junk.size() < (1u << 20)) junk += "7:freezer:/some/other/cgroup/of/the/host\n";
  proc.Write(300, pod_line + junk);
  EXPECT_EQ(by_pod.Identify(300, 0).by, IdentifiedBy::kPod);
  // 1 MiB of one line, then the pod: past the bound, so the uid.
  proc.Write(301, std::string(1u << 20, 'x') + "\n" + pod_line);
  EXPECT_EQ(by_pod.Identify(301, 0).by, IdentifiedBy::kUidNotInPod);
  // A pod line cut by the bound is not read as a (shorter) pod UID.
  std::string pad(PeerIdentifier::kMaxCgroupRead - 20, 'x');
  proc.Write(302, pad + "\n0::/kubepods/pod" + std::string(kUid) + "\n");
  EXPECT_EQ(by_pod.Identify(302, 0).by, IdentifiedBy::kUidNotInPod);
  // A file just under the bound, without a final newline, is whole.
  std::string under = "0::/kubepods/pod" + std::string(kUid);
  proc.Write(303,
             std::string(PeerIdentifier::kMaxCgroupRead - under.size() - 2, 'y') + "\n" + under);
  EXPECT_EQ(by_pod.Identify(303, 0).by, IdentifiedBy::kPod);
}

// The real /proc: this process's own cgroup (a pod's, or none), at a cost per connection.
TEST(PeerIdentityTest, TheRealProcCostsMicroseconds) {
  PeerIdentifier by_pod(ClientIdentity::kPod, "/proc");
  Identification self = by_pod.Identify(::getpid(), ::getuid());
  EXPECT_TRUE(self.by == IdentifiedBy::kPod || self.by == IdentifiedBy::kUidNotInPod)
      << IdentifiedByName(self.by) << " " << self.error;
  constexpr int kRounds = 20000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) by_pod.Identify(::getpid(), ::getuid());
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      kRounds;
  std::cout << "peer identity: " << IdentifiedByName(self.by) << ", " << us
            << " us per /proc/<pid>/cgroup read" << std::endl;
  EXPECT_LT(us, 1000.0);
}

}  // namespace
}  // namespace confcom::helper
