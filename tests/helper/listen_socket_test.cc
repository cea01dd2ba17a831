#include "helper/listen_socket.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "common/file_util.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

// Leaves a socket file behind with nobody listening, as a crashed daemon does.
void MakeStaleSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
}

TEST(ListenSocketTest, CreatesFolderAndSetsMode) {
  testing::TempDir dir;
  std::string path = dir.File("run/aesmd/aesm.socket");
  auto s = ListenSocket::Open(path, 0666, 16);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  EXPECT_TRUE(testing::WaitForSocket(path, std::chrono::milliseconds(500)));
  s->Close();
  EXPECT_FALSE(PathExists(path)) << "Close removes our socket";
}

TEST(ListenSocketTest, ReplacesAStaleSocket) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  MakeStaleSocket(path);
  ASSERT_TRUE(PathExists(path));
  auto s = ListenSocket::Open(path, 0600, 16);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(testing::WaitForSocket(path, std::chrono::milliseconds(500)));
}

TEST(ListenSocketTest, RefusesWhenAnotherServesOrHoldsTheLock) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto first = ListenSocket::Open(path, 0666, 16);
  ASSERT_TRUE(first.ok());
  auto second = ListenSocket::Open(path, 0666, 16);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(testing::WaitForSocket(path, std::chrono::milliseconds(500)))
      << "the refused attempt must not disturb the first";
}

TEST(ListenSocketTest, RefusesToReplaceSomethingThatIsNotASocket) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  testing::WriteAll(path, "precious");
  auto s = ListenSocket::Open(path, 0666, 16);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a socket"), std::string::npos);
  EXPECT_EQ(testing::ReadAll(path), "precious");
}

TEST(ListenSocketTest, CloseLeavesASuccessorsSocketAlone) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto s = ListenSocket::Open(path, 0666, 16);
  ASSERT_TRUE(s.ok());
  // Someone replaced the path (e.g. an operator cleaned up and a new daemon started).
  std::filesystem::remove(path);
  MakeStaleSocket(path);
  s->Close();
  EXPECT_TRUE(PathExists(path));
}

ino_t InodeAt(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(ListenSocketTest, TakeOverRenamesOverTheLivePathAndWaitsForThePredecessor) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto old = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->has_predecessor());
  EXPECT_TRUE(old->OwnsPath());
  ino_t old_inode = InodeAt(path);

  auto next =
      ListenSocket::Open(path, 0600, 16, Takeover::kTakeOver, std::chrono::milliseconds(200));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->has_predecessor());
  EXPECT_TRUE(old->OwnsPath()) << "nothing changes for clients before Publish()";
  EXPECT_EQ(InodeAt(path + ".prev"), old_inode);
  ASSERT_TRUE(next->Publish().ok());
  EXPECT_FALSE(old->OwnsPath());
  EXPECT_TRUE(next->OwnsPath());
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the successor's mode, set before the rename";
  EXPECT_FALSE(old->Restore()) << "a live successor holds the hand-over lock";
  // The predecessor still holds <path>.lock.
  EXPECT_EQ(next->WaitForPredecessor(std::chrono::milliseconds(50)).code(),
            Status::Code::kDeadlineExceeded);
  old->Close();
  EXPECT_TRUE(next->OwnsPath()) << "the predecessor never unlinks a path it does not own";
  EXPECT_TRUE(next->WaitForPredecessor(std::chrono::milliseconds(500)).ok());
  EXPECT_FALSE(PathExists(path + ".prev"));
  EXPECT_TRUE(testing::WaitForSocket(path, std::chrono::milliseconds(500)));
}

TEST(ListenSocketTest, RestorePutsTheOldSocketBackAfterTheSuccessorDied) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto old = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(old.ok());
  ino_t old_inode = InodeAt(path);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The successor: takes the path, then dies without cleaning up.
    auto next =
        ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::milliseconds(500));
    if (!next.ok() || !next->has_predecessor() || !next->Publish().ok()) ::_exit(1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(old->OwnsPath());
  EXPECT_NE(InodeAt(path), old_inode);
  EXPECT_TRUE(old->Restore());
  EXPECT_TRUE(old->OwnsPath());
  EXPECT_EQ(InodeAt(path), old_inode);
  EXPECT_TRUE(testing::WaitForSocket(path, std::chrono::milliseconds(500)))
      << "the old listener answers again";
}

TEST(ListenSocketTest, AfterATimeOutTheSuccessorTakesTheLockOnceThePredecessorExits) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto old = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(old.ok());
  auto next =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::milliseconds(200));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->Publish().ok());
  // The predecessor hangs: the successor times out and serves anyway.
  EXPECT_EQ(next->WaitForPredecessor(std::chrono::milliseconds(20)).code(),
            Status::Code::kDeadlineExceeded);
  EXPECT_FALSE(next->TryFinishTakeOver()) << "the predecessor still holds <path>.lock";
  old->Close();  // it exits at last
  EXPECT_TRUE(next->TryFinishTakeOver());
  EXPECT_FALSE(next->has_predecessor());
  EXPECT_FALSE(PathExists(path + ".prev"));
  // A third helper finds a live owner of <path>.lock, not "a live service that is not a quote helper".
  auto third =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::milliseconds(200));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->has_predecessor());
  EXPECT_FALSE(ListenSocket::Open(path, 0666, 16, Takeover::kRefuse).ok());
}

TEST(ListenSocketTest, CloseLeavesThePathAloneWhileASuccessorHoldsTheHandoverLock) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto s = ListenSocket::Open(path, 0666, 16);
  ASSERT_TRUE(s.ok());
  // A successor mid-way holds the hand-over lock and may rename over the path at any moment:
  // an inode check followed by unlink could delete its socket.
  int held = ::open((path + ".handover.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX | LOCK_NB), 0);
  s->Close();
  EXPECT_TRUE(PathExists(path));
  ::close(held);
  // Without a successor, Close removes our socket (CreatesFolderAndSetsMode).
}

TEST(ListenSocketTest, AFullBacklogStillCountsAsALiveServiceWithoutBlocking) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  // A frozen listener that never accepts, with its backlog full.
  int frozen = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(frozen, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(frozen, 0), 0);
  std::vector<int> queued;
  for (int i = 0; i < 64; ++i) {
    int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ASSERT_EQ(errno, EAGAIN) << std::strerror(errno);
      ::close(c);
      break;
    }
    queued.push_back(c);
  }
  ASSERT_LT(queued.size(), 64u) << "the backlog never filled";
  // A blocking connect() would hang here for ever.
  auto s = ListenSocket::Open(path, 0666, 16);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kAlreadyExists);
  EXPECT_NE(s.status().message().find("not a quote helper"), std::string::npos)
      << s.status().ToString();
  for (int c : queued) ::close(c);
  ::close(frozen);
}

TEST(ListenSocketTest, TakeOverPutsTheLiveOwnersLinkBackOverADeadPath) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto old = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(old.ok());
  ino_t old_inode = InodeAt(path);
  // A successor linked .prev, renamed its socket over the path and died before the old helper
  // noticed: the path is a dead socket, .prev the live one.
  ASSERT_EQ(::link(path.c_str(), (path + ".prev").c_str()), 0);
  std::string dead = dir.File(".aesm.socket.999999.new");
  MakeStaleSocket(dead);
  ASSERT_EQ(::rename(dead.c_str(), path.c_str()), 0);
  ASSERT_FALSE(old->OwnsPath());
  auto next =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::milliseconds(200));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->has_predecessor());
  EXPECT_TRUE(old->OwnsPath()) << "the old helper serves the path again";
  EXPECT_EQ(InodeAt(path + ".prev"), old_inode) << "its restore link names its live socket";
}

TEST(ListenSocketTest, TakeOverRemovesDeadTemporariesButNotLiveOnes) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  std::string dead = dir.File(".aesm.socket.999998.new");
  MakeStaleSocket(dead);
  std::string other = dir.File(".other.socket.999998.new");
  MakeStaleSocket(other);
  std::string live = dir.File(".aesm.socket.999997.new");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, live.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  auto s = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(PathExists(dead));
  EXPECT_TRUE(PathExists(live));
  EXPECT_TRUE(PathExists(other)) << "another service's files are not ours to remove";
  ::close(fd);
}

TEST(ListenSocketTest, NoTakeoverRefusesWhileTakeOverNeedsNoLiveOwner) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  MakeStaleSocket(path);
  testing::WriteAll(path + ".prev", "left by a crashed hand-over");
  auto first = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->has_predecessor()) << "a stale socket is no predecessor";
  EXPECT_FALSE(PathExists(path + ".prev"));
  auto refused = ListenSocket::Open(path, 0666, 16, Takeover::kRefuse);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(first->OwnsPath());
}

TEST(ListenSocketTest, AFolderIsRefusedBeforeAnyLockFileOrFolderIsCreated) {
  testing::TempDir dir;
  // "--socket /" left "/.lock" behind; these are the same cases inside a temp dir.
  for (const std::string& path :
       {dir.path() + "/", dir.File("sub/."), dir.File("sub/.."), dir.path()}) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(CheckSocketPath(path).ok());
    auto s = ListenSocket::Open(path, 0666, 16);
    ASSERT_FALSE(s.ok());
    EXPECT_FALSE(PathExists(dir.File(".lock")));
    EXPECT_FALSE(PathExists(dir.path() + ".lock"));
    EXPECT_FALSE(PathExists(dir.File("sub")));
  }
  EXPECT_TRUE(CheckSocketPath(dir.File("aesm.socket")).ok());
}

TEST(ListenSocketTest, RejectsOverlongPaths) {
  auto s = ListenSocket::Open("/tmp/" + std::string(200, 'x'), 0666, 16);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
}

// Files a process can open (and so flock) in `folder`, the folder itself aside: sockets cannot
// be opened (ENXIO), so with the locks elsewhere there is nothing.
std::vector<std::string> OpenableFiles(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    names.push_back(entry.path().filename().string());
    ::close(fd);
  }
  return names;
}

TEST(ListenSocketTest, WithALockFolderNothingButTheSocketIsBesideThePath) {
  testing::TempDir dir;
  std::string path = dir.File("run/aesmd/aesm.socket");
  std::string locks = dir.File("state");
  auto old =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::seconds(1), locks);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(locks.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "the lock folder is the helper's only";
  EXPECT_TRUE(PathExists(locks + "/aesm.socket.lock"));
  EXPECT_TRUE(OpenableFiles(dir.File("run/aesmd")).empty());

  // A hand-over through the locks in the lock folder: the successor sees the live owner.
  auto next =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::seconds(1), locks);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->has_predecessor());
  ASSERT_TRUE(next->Publish().ok());
  EXPECT_TRUE(OpenableFiles(dir.File("run/aesmd")).empty()) << "the .prev link is a socket too";
  EXPECT_EQ(next->WaitForPredecessor(std::chrono::milliseconds(50)).code(),
            Status::Code::kDeadlineExceeded);
  old->Close();
  EXPECT_TRUE(next->WaitForPredecessor(std::chrono::milliseconds(500)).ok());
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.File("run/aesmd")))
    left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"aesm.socket"});
  // --no-takeover finds the live owner in the lock folder too.
  auto refused =
      ListenSocket::Open(path, 0666, 16, Takeover::kRefuse, std::chrono::seconds(1), locks);
  EXPECT_EQ(refused.status().code(), Status::Code::kAlreadyExists);
}

TEST(ListenSocketTest, ALooserLockFolderIsTightened) {
  testing::TempDir dir;
  std::string locks = dir.File("state");
  ASSERT_EQ(::mkdir(locks.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(locks.c_str(), 0777), 0);
  auto s = ListenSocket::Open(dir.File("aesm.socket"), 0666, 16, Takeover::kTakeOver,
                              std::chrono::seconds(1), locks);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(locks.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// A flock on the socket folder's old lock names (a tenant's, through the apps' mount) stalls
// nothing any more: a hand-over never looks at them while a helper of this version serves.
TEST(ListenSocketTest, ATenantsLockOnTheOldNamesStallsNoHandOver) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  std::string locks = dir.File("state");
  auto old =
      ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::seconds(1), locks);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  std::vector<int> held;
  for (const char* name : {".lock", ".handover.lock"}) {
    int fd = ::open((path + name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    held.push_back(fd);
  }
  auto next = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver,
                                 std::chrono::milliseconds(200), locks);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->Publish().ok());
  old->Close();
  EXPECT_TRUE(next->WaitForPredecessor(std::chrono::milliseconds(500)).ok());
  for (int fd : held) ::close(fd);
}

// An upgrade: the running helper is an earlier version, with its locks beside the socket. The
// new one sees it as its predecessor (not as "a live service that is not a quote helper"),
// waits for it, then removes the old lock files so that tenants have nothing left to flock.
TEST(ListenSocketTest, TakesOverFromAHelperThatKeptItsLocksBesideTheSocket) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  std::string locks = dir.File("state");
  auto legacy = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  ASSERT_TRUE(PathExists(path + ".lock"));
  auto next = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver,
                                 std::chrono::milliseconds(200), locks);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->has_predecessor());
  ASSERT_TRUE(next->Publish().ok());
  EXPECT_FALSE(legacy->OwnsPath());
  EXPECT_EQ(next->WaitForPredecessor(std::chrono::milliseconds(50)).code(),
            Status::Code::kDeadlineExceeded);
  EXPECT_FALSE(next->TryFinishTakeOver());
  legacy->Close();
  EXPECT_TRUE(next->TryFinishTakeOver());
  EXPECT_FALSE(PathExists(path + ".lock"));
  EXPECT_FALSE(PathExists(path + ".handover.lock"));
  EXPECT_FALSE(PathExists(path + ".prev"));
  EXPECT_TRUE(next->OwnsPath());
}

// The same upgrade while a tenant of the old helper's uid grabbed the old "<path>.lock" the
// moment the old helper let it go: its socket stopped listening, which is enough.
TEST(ListenSocketTest, AnUpgradeEndsWhenTheOldSocketStopsEvenIfATenantHoldsTheOldLock) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  auto legacy = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  auto next = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver,
                                 std::chrono::milliseconds(200), dir.File("state"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->Publish().ok());
  int tenant = ::open((path + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(tenant, 0);
  legacy->Close();
  ASSERT_EQ(::flock(tenant, LOCK_EX | LOCK_NB), 0);
  EXPECT_TRUE(next->WaitForPredecessor(std::chrono::milliseconds(500)).ok());
  EXPECT_FALSE(next->has_predecessor());
  ::close(tenant);
}

// No live helper of either version: old lock files left beside the socket are removed.
TEST(ListenSocketTest, StaleOldLockFilesBesideTheSocketAreRemoved) {
  testing::TempDir dir;
  std::string path = dir.File("aesm.socket");
  testing::WriteAll(path + ".lock", "");
  testing::WriteAll(path + ".handover.lock", "");
  auto s = ListenSocket::Open(path, 0666, 16, Takeover::kTakeOver, std::chrono::seconds(1),
                              dir.File("state"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->has_predecessor());
  EXPECT_FALSE(PathExists(path + ".lock"));
  EXPECT_FALSE(PathExists(path + ".handover.lock"));
}

// The admin socket sits in its own lock folder: "<path>.lock" is then its own lock, never an
// earlier version's to clean up (removing it would let a second helper in beside the first).
TEST(ListenSocketTest, ASocketInsideItsLockFolderKeepsItsLock) {
  testing::TempDir dir;
  std::string locks = dir.File("state");
  std::string path = locks + "/admin.sock";
  auto first =
      ListenSocket::Open(path, 0600, 16, Takeover::kTakeOver, std::chrono::seconds(1), locks);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(PathExists(path + ".lock"));
  auto refused =
      ListenSocket::Open(path, 0600, 16, Takeover::kRefuse, std::chrono::seconds(1), locks);
  EXPECT_EQ(refused.status().code(), Status::Code::kAlreadyExists);
  auto next = ListenSocket::Open(path, 0600, 16, Takeover::kTakeOver,
                                 std::chrono::milliseconds(200), locks);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->has_predecessor());
}

}  // namespace
}  // namespace confcom::helper
