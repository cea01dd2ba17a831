#include "common/file_util.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <unistd.h>

#include <filesystem>

#include "testing/test_util.h"

namespace confcom {
namespace {

TEST(FileUtilTest, WriteFileAtomicSetsModeAndLeavesNoTemporaries) {
  testing::TempDir dir;
  std::string path = dir.File("key.pem");
  ASSERT_TRUE(WriteFileAtomic(path, "secret-1", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "secret-2", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "secret-2");
  EXPECT_EQ(*FileMode(path), mode_t(0600));
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "temporary files left behind";
}

TEST(FileUtilTest, FailedWriteLeavesTheOldFileIntactAndNoTemporary) {
  testing::TempDir dir;
  std::string path = dir.File("f");
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  // A file size limit makes the write itself fail (like a full disk), even for root.
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status st = WriteFileAtomic(path, std::string(4096, 'n'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*ReadFile(path), "old");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "temporary file left behind";
}

TEST(FileUtilTest, FailedRenameLeavesNoTemporary) {
  testing::TempDir dir;
  std::string path = dir.File("occupied");
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
  testing::WriteAll(path + "/inside", "x");
  EXPECT_FALSE(WriteFileAtomic(path, "data").ok());
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(FileUtilTest, WriteIntoMissingDirectoryFailsCleanly) {
  testing::TempDir dir;
  Status st = WriteFileAtomic(dir.File("missing/f"), "x");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("missing"), std::string::npos);
}

TEST(FileUtilTest, ReadFileEnforcesTheSizeLimit) {
  testing::TempDir dir;
  std::string path = dir.File("big");
  ASSERT_TRUE(WriteFileAtomic(path, std::string(100, 'x')).ok());
  EXPECT_TRUE(ReadFile(path, 100).ok());
  auto r = ReadFile(path, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos);
  EXPECT_EQ(ReadFile(dir.File("nope")).status().code(), Status::Code::kNotFound);
}

TEST(FileUtilTest, EnsurePrivateDirCreatesAndTightens) {
  testing::TempDir dir;
  std::string state = dir.File("a/b/state");
  ASSERT_TRUE(EnsurePrivateDir(state).ok());
  EXPECT_EQ(*FileMode(state), mode_t(0700));
  ::chmod(state.c_str(), 0755);
  ASSERT_TRUE(EnsurePrivateDir(state).ok());
  EXPECT_EQ(*FileMode(state), mode_t(0700));
  testing::WriteAll(dir.File("file"), "x");
  EXPECT_FALSE(EnsurePrivateDir(dir.File("file")).ok());
}

}  // namespace
}  // namespace confcom
