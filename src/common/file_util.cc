#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

namespace confcom {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string Parent(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno("open " + dir, errno);
  if (::fsync(fd.get()) != 0) return Status::FromErrno("fsync " + dir, errno);
  return Status::Ok();
}

}  // namespace

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::InvalidArgument("empty directory path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::AlreadyExists(path + " exists and is not a directory");
    return Status::Ok();
  }
  std::string parent = Parent(path);
  if (parent != path && parent != "." && parent != "/") {
    CONFCOM_RETURN_IF_ERROR(MakeDirs(parent, 0755));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Status::FromErrno("mkdir " + path, errno);
  }
  // mkdir applies the umask; set the intended mode explicitly.
  if (::chmod(path.c_str(), mode) != 0) return Status::FromErrno("chmod " + path, errno);
  return Status::Ok();
}

Status EnsurePrivateDir(const std::string& path, mode_t mode) {
  CONFCOM_RETURN_IF_ERROR(MakeDirs(path, mode));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) != 0) {
    return Status::FromErrno("chmod " + ModeString(mode) + " " + path, errno);
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  std::random_device rd;
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) return Status::FromErrno("create " + tmp, errno);
  auto fail = [&](Status st) {
    ::unlink(tmp.c_str());
    return st;
  };
  // O_CREAT applies the umask, which can only tighten; still set it exactly.
  if (::fchmod(fd.get(), mode) != 0) return fail(Status::FromErrno("fchmod " + tmp, errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Status::FromErrno("write " + tmp, errno));
    }
    done += size_t(n);
  }
  if (::fsync(fd.get()) != 0) return fail(Status::FromErrno("fsync " + tmp, errno));
  if (::close(fd.release()) != 0) return fail(Status::FromErrno("close " + tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(Status::FromErrno("rename " + tmp + " -> " + path, errno));
  }
  return FsyncDir(Parent(path));
}

Result<std::string> ReadFile(const std::string& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::FromErrno("open " + path, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  if (size_t(st.st_size) > max_size) {
    return Status::InvalidArgument(path + " is " + std::to_string(st.st_size) +
                                   " bytes, more than the limit of " + std::to_string(max_size));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path, errno);
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
    if (out.size() > max_size) return Status::InvalidArgument(path + " grew past the size limit");
  }
  return out;
}

Result<mode_t> FileMode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::FromErrno("stat " + path, errno);
  }
  return mode_t(st.st_mode & 07777);
}

}  // namespace confcom
