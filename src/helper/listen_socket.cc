#include "helper/listen_socket.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"

namespace confcom::helper {

namespace {

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("socket path must be 1 to " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes: '" + path + "'");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// True when something accepts connections on `path`.
bool SomeoneListens(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

}  // namespace

Status CheckSocketPath(const std::string& path) {
  CONFCOM_RETURN_IF_ERROR(Address(path).status());
  std::string name = std::filesystem::path(path).filename().string();
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument("'" + path + "' names a folder, not a socket file (e.g. /var/run/aesmd/aesm.socket)");
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return Status::AlreadyExists(path + " exists and is not a socket; refusing to replace it");
  }
  return Status::Ok();
}

Result<ListenSocket> ListenSocket::Open(const std::string& path, mode_t mode, int backlog) {
  CONFCOM_RETURN_IF_ERROR(CheckSocketPath(path));
  CONFCOM_ASSIGN_OR_RETURN(sockaddr_un addr, Address(path));
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) CONFCOM_RETURN_IF_ERROR(MakeDirs(dir, 0755).WithContext("socket folder"));

  std::string lock_path = path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd < 0) return Status::FromErrno("open lock file " + lock_path, errno);
  auto fail = [&](Status st) {
    ::close(lock_fd);
    return st;
  };
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return fail(Status::AlreadyExists("another process holds " + lock_path +
                                        ": a quote helper is already serving " + path));
    }
    return fail(Status::FromErrno("flock " + lock_path, errno));
  }

  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return fail(Status::AlreadyExists(path + " exists and is not a socket; refusing to replace it"));
    }
    if (SomeoneListens(addr)) {
      return fail(Status::AlreadyExists("a live service already answers on " + path));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return fail(Status::FromErrno("remove stale socket " + path, errno));
    }
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(Status::FromErrno("socket", errno));
  auto fail_fd = [&](Status s) {
    ::close(fd);
    return fail(std::move(s));
  };
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail_fd(Status::FromErrno("bind " + path, errno));
  }
  if (::chmod(path.c_str(), mode) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return fail_fd(Status::FromErrno("chmod " + ModeString(mode) + " " + path, err));
  }
  if (::lstat(path.c_str(), &st) != 0 || ::listen(fd, backlog) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return fail_fd(Status::FromErrno("listen on " + path, err));
  }
  return ListenSocket(path, fd, lock_fd, st.st_ino);
}

ListenSocket::ListenSocket(ListenSocket&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), lock_fd_(o.lock_fd_), inode_(o.inode_) {
  o.fd_ = -1;
  o.lock_fd_ = -1;
}

ListenSocket::~ListenSocket() { Close(); }

void ListenSocket::Close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_) {
      ::unlink(path_.c_str());
    }
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

}  // namespace confcom::helper
