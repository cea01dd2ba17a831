// A small inotify wrapper: watch folders for files appearing and disappearing, read the
// events without blocking. Used to notice kubelet deleting our socket or creating
// kubelet.sock, and SGX device nodes coming and going. Watches on folders that do not exist
// yet are retried by the owner (Add returns an error; call it again later).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::deviceplugin {

// Not thread-safe: one owner thread (the plugin's control thread) uses it.
class InotifyWatch {
 public:
  struct Event {
    std::string dir;   // the watched folder
    std::string name;  // the file in it ("" for events on the folder itself)
    uint32_t mask = 0;
  };

  InotifyWatch();
  ~InotifyWatch();
  InotifyWatch(const InotifyWatch&) = delete;
  InotifyWatch& operator=(const InotifyWatch&) = delete;

  // Whether inotify is available (false: every Add fails, Read returns nothing).
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }  // becomes readable when events are queued; -1 when !ok()
  // Watches creation, deletion and renames in `dir`, and the folder itself going away.
  // Errors: Unavailable without inotify; the errno of inotify_add_watch (e.g. no such folder).
  Status Add(const std::string& dir);
  // Whether `dir` is watched now (it stops being watched when it goes away).
  bool Watching(const std::string& dir) const;
  // Reads every queued event (non-blocking). Folders that went away are no longer watched.
  std::vector<Event> Read();

 private:
  int fd_ = -1;
  std::map<int, std::string> dirs_;  // watch descriptor -> folder
};

}  // namespace confcom::deviceplugin
