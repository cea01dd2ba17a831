#include "helper/listen_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

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

TEST(ListenSocketTest, AFolderIsRefusedBeforeAnyLockFileOrFolderIsCreated) {
  testing::TempDir dir;
  // "--socket /" left "/.lock" behind; these are the same cases inside a temp dir.
  for (const std::string& path : {dir.path() + "/", dir.File("sub/."), dir.File("sub/.."), dir.path()}) {
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

}  // namespace
}  // namespace confcom::helper
