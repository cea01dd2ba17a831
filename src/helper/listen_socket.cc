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
#include <thread>

#include "common/file_util.h"

namespace confcom::helper {

namespace {

constexpr auto kLockPoll = std::chrono::milliseconds(5);

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("socket path must be 1 to " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes: '" + path +
                                   "'");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// True when something listens on `path`. Never blocks: a listener whose backlog is full (busy or
// frozen) answers EAGAIN to a non-blocking AF_UNIX connect and counts as live.
bool SomeoneListens(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  bool live =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno == EAGAIN;
  ::close(fd);
  return live;
}

Result<int> OpenLockFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::FromErrno("open lock file " + path, errno);
  return fd;
}

// flock(LOCK_EX) with a deadline: true when taken, false when `wait` passed (or an error).
bool LockWithin(int fd, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kLockPoll);
  }
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
  return st.st_ino;
}

// "<lock base>.handover.lock" taken without waiting: its fd, or -1 when a successor holds it (or
// on error).
int TryHandoverLock(const std::string& lock_base) {
  auto fd = OpenLockFile(lock_base + ".handover.lock");
  if (!fd.ok()) return -1;
  if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(*fd);
    return -1;
  }
  return *fd;
}

// Whether two paths name the same folder (same device and inode).
bool SameFolder(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// An earlier version's "<path>.lock" beside the socket, opened read-only (never created): its fd
// if some process holds it, else -1.
int HeldLegacyLock(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::close(fd);  // a shared lock is granted only while nobody holds it exclusively
    return -1;
  }
  return fd;
}

// Removes "<dir>/.<name>.<pid>.new" sockets of `path` on which nothing listens, left by helpers
// that died before their rename. Called with the hand-over lock held, so no other successor is
// between its bind and its rename; one that listens is left alone anyway.
void RemoveStaleTemporaries(const std::filesystem::path& path, const std::string& own_temp) {
  std::string prefix = "." + path.filename().string() + ".";
  std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  // increment(ec), not ++: no exceptions from here.
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 4, 4, ".new") != 0) {
      continue;
    }
    std::string file = it->path().string();
    if (file == own_temp || InodeOf(file) == 0) continue;
    auto addr = Address(file);
    if (addr.ok() && !SomeoneListens(*addr)) ::unlink(file.c_str());
  }
}

}  // namespace

Status CheckSocketPath(const std::string& path) {
  CONFCOM_RETURN_IF_ERROR(Address(path).status());
  std::string name = std::filesystem::path(path).filename().string();
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(
        "'" + path + "' names a folder, not a socket file (e.g. /var/run/aesmd/aesm.socket)");
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return Status::AlreadyExists(path + " exists and is not a socket; refusing to replace it");
  }
  return Status::Ok();
}

static std::string LockBase(const std::string& path, const std::string& lock_dir) {
  if (lock_dir.empty()) return path;
  return lock_dir + "/" + std::filesystem::path(path).filename().string();
}

Result<ListenSocket> ListenSocket::Open(const std::string& path, mode_t mode, int backlog,
                                        Takeover takeover, std::chrono::milliseconds lock_wait,
                                        const std::string& lock_dir) {
  CONFCOM_RETURN_IF_ERROR(CheckSocketPath(path));
  CONFCOM_ASSIGN_OR_RETURN(sockaddr_un addr, Address(path));
  std::filesystem::path fs_path(path);
  std::string dir = fs_path.parent_path().string();
  if (!dir.empty()) CONFCOM_RETURN_IF_ERROR(MakeDirs(dir, 0755).WithContext("socket folder"));
  // Whoever can open a lock file can flock it and stall every hand-over: the folder is ours only.
  if (!lock_dir.empty())
    CONFCOM_RETURN_IF_ERROR(EnsurePrivateDir(lock_dir).WithContext("lock folder"));
  const std::string lock_base = LockBase(path, lock_dir);
  // Locks in a folder of their own: "<path>.lock" beside the socket can only be an earlier
  // version's (the admin socket sits in its lock folder: there it is ours).
  const bool locks_elsewhere = !lock_dir.empty() && !SameFolder(dir.empty() ? "." : dir, lock_dir);
  // The temporary name must fit sun_path too; fall back to a short one.
  std::string temp = (dir.empty() ? std::string() : dir + "/") + "." + fs_path.filename().string() +
                     "." + std::to_string(::getpid()) + ".new";
  if (temp.size() >= sizeof addr.sun_path) {
    temp = (dir.empty() ? std::string() : dir + "/") + ".h" + std::to_string(::getpid());
  }
  CONFCOM_ASSIGN_OR_RETURN(sockaddr_un temp_addr, Address(temp));

  int handover_fd = -1;
  if (takeover == Takeover::kTakeOver) {
    std::string handover_path = lock_base + ".handover.lock";
    CONFCOM_ASSIGN_OR_RETURN(handover_fd, OpenLockFile(handover_path));
    if (!LockWithin(handover_fd, lock_wait)) {
      ::close(handover_fd);
      return Status::DeadlineExceeded("another helper has been taking over " + path + " for " +
                                      std::to_string(lock_wait.count()) + " ms (it holds " +
                                      handover_path + ")");
    }
  }
  std::string lock_path = lock_base + ".lock";
  auto lock_fd = OpenLockFile(lock_path);
  if (!lock_fd.ok()) {
    if (handover_fd >= 0) ::close(handover_fd);
    return lock_fd.status();
  }
  auto fail = [&](Status st) {
    ::close(*lock_fd);
    if (handover_fd >= 0) ::close(handover_fd);
    return st;
  };
  bool predecessor = false;
  if (::flock(*lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail(Status::FromErrno("flock " + lock_path, errno));
    if (takeover == Takeover::kRefuse) {
      return fail(Status::AlreadyExists(
          "another process holds " + lock_path + ": a quote helper is already serving " + path +
          " (without --no-takeover a new helper takes over from it)"));
    }
    predecessor = true;
  }
  // A helper of an earlier version keeps "<path>.lock" beside the socket: while one holds it and
  // answers on the path, it is our predecessor (an upgrade), never "a service that is not ours".
  int legacy_fd = -1;
  if (!predecessor && locks_elsewhere && takeover == Takeover::kTakeOver && InodeOf(path) != 0 &&
      SomeoneListens(addr)) {
    legacy_fd = HeldLegacyLock(path + ".lock");
    predecessor = legacy_fd >= 0;
  }
  auto fail_legacy = [&](Status st) {
    if (legacy_fd >= 0) ::close(legacy_fd);
    return fail(std::move(st));
  };

  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return fail_legacy(
          Status::AlreadyExists(path + " exists and is not a socket; refusing to replace it"));
    }
    if (!predecessor && SomeoneListens(addr)) {
      return fail_legacy(
          Status::AlreadyExists("a live service that is not a quote helper (it holds no " +
                                lock_path + ") already answers on " + path));
    }
  }
  std::string prev = path + ".prev";
  if (takeover == Takeover::kTakeOver) {
    // A successor that died after its rename left a dead socket at the path; the link is the live
    // predecessor's socket: put it back before linking, or the predecessor could never restore it.
    if (predecessor && InodeOf(prev) != 0 && !SomeoneListens(addr))
      ::rename(prev.c_str(), path.c_str());
    RemoveStaleTemporaries(fs_path, temp);
    if (locks_elsewhere && legacy_fd < 0) {
      // An earlier version's lock files that no live helper holds: nothing to flock for tenants.
      ::unlink((path + ".lock").c_str());
      ::unlink((path + ".handover.lock").c_str());
    }
    // A link left by a hand-over that never finished is stale: we hold the hand-over lock.
    if (::unlink(prev.c_str()) != 0 && errno != ENOENT) {
      return fail_legacy(Status::FromErrno("remove stale " + prev, errno));
    }
    if (predecessor && ::link(path.c_str(), prev.c_str()) != 0) {
      // Without the link the predecessor could not restore the path if we died mid-way;
      // the predecessor still drains only after it has reached us through the path.
      if (errno != ENOENT)
        return fail_legacy(Status::FromErrno("link " + path + " to " + prev, errno));
    }
  }

  ::unlink(temp.c_str());  // ours by name (pid): left by an earlier process with our pid
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail_legacy(Status::FromErrno("socket", errno));
  auto fail_fd = [&](Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    if (predecessor) ::unlink(prev.c_str());
    return fail_legacy(std::move(s));
  };
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&temp_addr), sizeof temp_addr) != 0) {
    return fail_fd(Status::FromErrno("bind " + temp, errno));
  }
  if (::chmod(temp.c_str(), mode) != 0) {
    return fail_fd(Status::FromErrno("chmod " + ModeString(mode) + " " + temp, errno));
  }
  if (::lstat(temp.c_str(), &st) != 0 || ::listen(fd, backlog) != 0) {
    return fail_fd(Status::FromErrno("listen on " + temp, errno));
  }
  ListenSocket s(path, lock_base, fd, *lock_fd, handover_fd, st.st_ino, temp);
  s.has_predecessor_ = predecessor;
  s.legacy_fd_ = legacy_fd;
  if (!predecessor) {
    // Nobody to wait for: take the path now (a stale socket file is replaced atomically).
    CONFCOM_RETURN_IF_ERROR(s.Publish());
    s.ReleaseHandoverLock();
  }
  return s;
}

ListenSocket::ListenSocket(ListenSocket&& o) noexcept
    : path_(std::move(o.path_)),
      lock_base_(std::move(o.lock_base_)),
      fd_(o.fd_),
      lock_fd_(o.lock_fd_),
      handover_fd_(o.handover_fd_),
      legacy_fd_(o.legacy_fd_),
      inode_(o.inode_),
      temp_path_(std::move(o.temp_path_)),
      has_predecessor_(o.has_predecessor_) {
  o.fd_ = -1;
  o.lock_fd_ = -1;
  o.handover_fd_ = -1;
  o.legacy_fd_ = -1;
  o.temp_path_.clear();
}

ListenSocket::~ListenSocket() { Close(); }

Status ListenSocket::Publish() {
  if (temp_path_.empty()) return Status::Ok();
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return Status::FromErrno("rename " + temp_path_ + " over " + path_, errno);
  }
  temp_path_.clear();
  return Status::Ok();
}

bool ListenSocket::LegacyPredecessorGone() const {
  if (::flock(legacy_fd_, LOCK_SH | LOCK_NB) == 0) return true;
  // A tenant of the old helper's uid may hold the old lock file too: the predecessor is also
  // gone once its socket (our "<path>.prev" link, or the link it removed) stops listening.
  auto prev = Address(path_ + ".prev");
  return prev.ok() && !SomeoneListens(*prev);
}

Status ListenSocket::WaitForPredecessor(std::chrono::milliseconds timeout) {
  if (!has_predecessor_) return Status::Ok();
  if (legacy_fd_ >= 0) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!LegacyPredecessorGone()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ReleaseHandoverLock();
        return Status::DeadlineExceeded("the previous helper still serves " + path_ +
                                        ".prev after " + std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(kLockPoll);
    }
    FinishTakeOver();
    return Status::Ok();
  }
  if (!LockWithin(lock_fd_, timeout)) {
    ReleaseHandoverLock();  // a hung predecessor must not block our own successor too
    return Status::DeadlineExceeded("the previous helper still holds " + lock_base_ +
                                    ".lock after " + std::to_string(timeout.count()) + " ms");
  }
  FinishTakeOver();
  return Status::Ok();
}

bool ListenSocket::TryFinishTakeOver() {
  if (!has_predecessor_) return true;
  if (legacy_fd_ >= 0) {
    if (!LegacyPredecessorGone()) return false;
  } else if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return false;
  }
  FinishTakeOver();
  return true;
}

void ListenSocket::FinishTakeOver() {
  has_predecessor_ = false;
  std::string prev = path_ + ".prev";
  if (legacy_fd_ >= 0) {
    // The earlier version's lock files beside the socket: nothing there may be flock'ed any more.
    ::close(legacy_fd_);
    legacy_fd_ = -1;
    ::unlink((path_ + ".lock").c_str());
    ::unlink((path_ + ".handover.lock").c_str());
  }
  if (handover_fd_ >= 0) {
    ::unlink(prev.c_str());  // our own hand-over's link to the predecessor's socket
  } else if (int fd = TryHandoverLock(lock_base_); fd >= 0) {
    // Late (after a time-out): the link may be a later successor's to our socket, which we keep
    // for Restore(); while a successor holds the lock, it is its link: leave it.
    if (InodeOf(prev) != inode_) ::unlink(prev.c_str());
    ::close(fd);
  }
  ReleaseHandoverLock();
}

bool ListenSocket::OwnsPath() const {
  return fd_ >= 0 && temp_path_.empty() && InodeOf(path_) == inode_;
}

bool ListenSocket::Restore() {
  if (fd_ < 0) return false;
  if (OwnsPath()) return true;
  int fd = TryHandoverLock(lock_base_);
  bool restored = false;
  if (fd >= 0) {
    std::string prev = path_ + ".prev";
    auto addr = Address(path_);
    // Under the lock no successor is mid-way: if the path is dead and the link is ours, the
    // successor died after its rename.
    if (InodeOf(prev) == inode_ && addr.ok() && !SomeoneListens(*addr)) {
      restored = ::rename(prev.c_str(), path_.c_str()) == 0;
    }
    ::close(fd);
  }
  return restored || OwnsPath();
}

void ListenSocket::ReleaseHandoverLock() {
  if (handover_fd_ >= 0) {
    ::close(handover_fd_);
    handover_fd_ = -1;
  }
}

void ListenSocket::Close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) {
      ::unlink(temp_path_.c_str());
      temp_path_.clear();
    } else {
      // Check-then-unlink is safe only while no successor can rename over the path between the
      // two: under the hand-over lock. If a successor holds it, it is replacing the path: leave it.
      int held = handover_fd_ >= 0 ? -1 : TryHandoverLock(lock_base_);
      if (handover_fd_ >= 0 || held >= 0) {
        if (InodeOf(path_) == inode_) ::unlink(path_.c_str());
        // A link to our socket (a hand-over a successor did not finish) names a dead socket now.
        std::string prev = path_ + ".prev";
        if (InodeOf(prev) == inode_) ::unlink(prev.c_str());
      }
      if (held >= 0) ::close(held);
    }
  }
  ReleaseHandoverLock();
  if (legacy_fd_ >= 0) {
    ::close(legacy_fd_);
    legacy_fd_ = -1;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

}  // namespace confcom::helper
