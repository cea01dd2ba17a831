// Owning the service's UNIX socket path, and handing it over to a successor without a gap.
//
// ListenSocket::Open checks the path (CheckSocketPath), creates the socket's folder and binds a
// fresh socket at a temporary name beside the path ("<dir>/.<name>.<pid>.new"); Publish()
// renames it over the path, so connect() on the path reaches either the previous socket or
// ours, never nothing. Files beside the path (docs/helper-handover.md):
//   "<path>.lock"          flock held exclusively by the helper that serves the path, for as
//                          long as it runs (the kernel drops it when the process dies);
//   "<path>.handover.lock" flock held by a helper while it takes the path over, so two
//                          successors never race;
//   "<path>.prev"          a hard link to the predecessor's socket during a hand-over, so the
//                          predecessor can rename it back if the successor dies (Restore()).
//
// Open with Takeover::kRefuse fails when a live helper holds "<path>.lock" (the old
// behaviour). With Takeover::kTakeOver it takes "<path>.handover.lock" (waiting up to
// `lock_wait`), and if a live helper holds "<path>.lock", links "<path>.prev" to the path and
// reports has_predecessor(): the caller starts serving, calls Publish(), then
// WaitForPredecessor() until the predecessor has drained and exited (it notices that the path
// no longer names its socket: OwnsPath() is false); if that times out, TryFinishTakeOver() until
// it succeeds. A stale socket file, lock file or link left by a crashed helper never blocks: locks
// die with their process; a stale socket at the path is replaced, a stale ".prev" removed (or
// renamed back over a dead path while its owner lives), and, in kTakeOver mode, temporaries
// ".<name>.*.new" on which nothing listens are removed.
// Without a live owner, a socket file on which something still answers (e.g. Intel's aesmd) is
// refused in both modes.
// Close() stops listening and removes the socket file only if it is still ours (same inode),
// checked under "<path>.handover.lock" (not waited for: if a successor holds it, the path is left).
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
  static Result<ListenSocket> Open(const std::string& path, mode_t mode, int backlog,
                                   Takeover takeover = Takeover::kRefuse,
                                   std::chrono::milliseconds lock_wait = std::chrono::seconds(60));

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
  // Blocks until the predecessor released "<path>.lock" (it exited or finished its hand-over),
  // then takes that lock, removes "<path>.prev" and releases "<path>.handover.lock".
  // DeadlineExceeded after `timeout` (the predecessor hangs; we keep serving the path anyway).
  Status WaitForPredecessor(std::chrono::milliseconds timeout);
  // After WaitForPredecessor timed out: takes "<path>.lock" if the predecessor has released it
  // by now (never blocks) and finishes the take-over as above, so that the next helper finds a
  // live owner. True once no predecessor is left to wait for. Call it periodically.
  bool TryFinishTakeOver();
  // Whether the path names our socket (same inode): false once a successor renamed its own over it.
  bool OwnsPath() const;
  // After a successor took the path and then died (nobody answers there and no helper holds
  // "<path>.handover.lock"): renames "<path>.prev" — our socket — back over the path. True if
  // the path is ours again; false if it cannot be (the lock is held: the successor lives).
  bool Restore();
  // Stops listening and removes the socket file if it is still ours. Idempotent.
  void Close();

 private:
  ListenSocket(std::string path, int fd, int lock_fd, int handover_fd, ino_t inode, std::string temp_path)
      : path_(std::move(path)), fd_(fd), lock_fd_(lock_fd), handover_fd_(handover_fd), inode_(inode),
        temp_path_(std::move(temp_path)) {}
  void ReleaseHandoverLock();
  void FinishTakeOver();
  std::string path_;
  int fd_ = -1;
  int lock_fd_ = -1;      // "<path>.lock"; locked unless waiting for a predecessor
  int handover_fd_ = -1;  // "<path>.handover.lock", locked while taking over
  ino_t inode_ = 0;       // of our socket file
  std::string temp_path_;  // non-empty until published
  bool has_predecessor_ = false;
};

}  // namespace confcom::helper
