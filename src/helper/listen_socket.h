// Owning the service's UNIX socket path safely.
//
// ListenSocket::Open checks the path (CheckSocketPath), then creates the socket's folder, takes an exclusive lock (flock on
// "<path>.lock") so two daemons never fight over one path, replaces a stale socket file left
// by a dead daemon, refuses to start when a live service answers on the path (or when the path
// is something other than a socket), binds, sets the socket file's mode and listens.
// Close() removes the socket file only if it is still ours (same inode), so a successor that
// already bound the path keeps its socket.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace confcom::helper {

// Whether `path` can name our socket, checked before anything is created: 1 to 107 bytes,
// a file name after the last '/' (not a folder such as "/" or "dir/."), and, if something
// exists there, a socket (a stale one is replaced). Open() calls it first.
Status CheckSocketPath(const std::string& path);

class ListenSocket {
 public:
  static Result<ListenSocket> Open(const std::string& path, mode_t mode, int backlog);

  ListenSocket(ListenSocket&& other) noexcept;
  ListenSocket& operator=(ListenSocket&&) = delete;
  ListenSocket(const ListenSocket&) = delete;
  ~ListenSocket();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Stops listening and removes the socket file if it is still ours. Idempotent.
  void Close();

 private:
  ListenSocket(std::string path, int fd, int lock_fd, ino_t inode)
      : path_(std::move(path)), fd_(fd), lock_fd_(lock_fd), inode_(inode) {}
  std::string path_;
  int fd_ = -1;
  int lock_fd_ = -1;
  ino_t inode_ = 0;
};

}  // namespace confcom::helper
