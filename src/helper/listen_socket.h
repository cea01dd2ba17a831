// Owning the service's UNIX socket path, and handing it over to a successor without a gap.
// Open() binds a fresh socket beside the path (".<name>.<pid>.new"); Publish() renames it over
// the path, so connect() reaches the previous socket or ours, never nothing. In the lock folder
// (helper-only: apps mount the socket's folder, and whoever opens a lock can flock it):
// "<name>.lock" (flock of the helper serving the path) and "<name>.handover.lock" (flock of a
// helper taking it over); beside the path "<path>.prev" (a link to the predecessor's socket
// during a hand-over, for Restore()). Locks die with their process. A socket on which something
// answers without a live owner (e.g. Intel's aesmd) is refused. docs/helper-handover.md tells
// the whole protocol, and the upgrade from helpers that kept their locks beside the socket.
//
// Thread safety: one thread calls the methods; fd() is also read by the server's loops.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "common/status.h"

namespace confcom::helper {

// Whether `path` can name our socket, checked before anything is created: 1 to 107 bytes,
// a file name after the last '/' (not a folder such as "/" or "dir/."), and, if something
// exists there, a socket (a stale one is replaced). Open() calls it first.
Status CheckSocketPath(const std::string& path);

enum class Takeover { kRefuse, kTakeOver };

class ListenSocket {
 public:
  // Checks the path (CheckSocketPath), creates its folder (0755) and the lock folder (0700,
  // tightened if looser; empty `lock_dir`: the locks sit beside the path, for tests only) and
  // binds a listening socket beside the path. kRefuse: fails (AlreadyExists) while a live helper
  // holds the lock. kTakeOver: takes the hand-over lock (waiting up to `lock_wait`) and, with a
  // live helper there (or an earlier version's, holding "<path>.lock"), links "<path>.prev" and
  // reports has_predecessor(). Errors: the path's, the folders', the lock wait's, syscalls'.
  static Result<ListenSocket> Open(const std::string& path, mode_t mode, int backlog,
                                   Takeover takeover = Takeover::kRefuse,
                                   std::chrono::milliseconds lock_wait = std::chrono::seconds(60),
                                   const std::string& lock_dir = "");

  ListenSocket(ListenSocket&& other) noexcept;
  ListenSocket& operator=(ListenSocket&&) = delete;
  ListenSocket(const ListenSocket&) = delete;
  ~ListenSocket();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // A live helper served the path when we opened it: it must be waited for after Publish().
  bool has_predecessor() const { return has_predecessor_; }
  // Renames our socket over the path (atomic for connecting clients). Idempotent.
  Status Publish();
  // Blocks until the predecessor released the lock (it exited or finished its hand-over; an
  // earlier version's: or its socket stopped listening), then takes that lock, removes
  // "<path>.prev" (and an earlier version's lock files) and releases the hand-over lock.
  // DeadlineExceeded after `timeout` (the predecessor hangs; we keep serving the path anyway).
  Status WaitForPredecessor(std::chrono::milliseconds timeout);
  // After WaitForPredecessor timed out: takes the lock if the predecessor has released it
  // by now (never blocks) and finishes the take-over as above, so that the next helper finds a
  // live owner. True once no predecessor is left to wait for. Call it periodically.
  bool TryFinishTakeOver();
  // Whether the path names our socket (same inode): false once a successor renamed its own over it.
  bool OwnsPath() const;
  // After a successor took the path and then died (nobody answers there and no helper holds
  // the hand-over lock): renames "<path>.prev" — our socket — back over the path. True if
  // the path is ours again; false if it cannot be (the lock is held: the successor lives).
  bool Restore();
  // Stops listening and removes the socket file if it is still ours. Idempotent.
  void Close();

 private:
  ListenSocket(std::string path, std::string lock_base, int fd, int lock_fd, int handover_fd,
               ino_t inode, std::string temp_path)
      : path_(std::move(path)),
        lock_base_(std::move(lock_base)),
        fd_(fd),
        lock_fd_(lock_fd),
        handover_fd_(handover_fd),
        inode_(inode),
        temp_path_(std::move(temp_path)) {}
  void ReleaseHandoverLock();
  void FinishTakeOver();
  bool LegacyPredecessorGone() const;
  std::string path_;
  std::string lock_base_;  // "<lock folder>/<socket file name>", the locks' names without suffix
  int fd_ = -1;
  int lock_fd_ = -1;       // "<lock base>.lock"; locked unless waiting for a predecessor
  int handover_fd_ = -1;   // "<lock base>.handover.lock", locked while taking over
  int legacy_fd_ = -1;     // an earlier version's "<path>.lock" while its helper is our predecessor
  ino_t inode_ = 0;        // of our socket file
  std::string temp_path_;  // non-empty until published
  bool has_predecessor_ = false;
};

}  // namespace confcom::helper
