#include "deviceplugin/framework/inotify_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace confcom::deviceplugin {

InotifyWatch::InotifyWatch() { fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

InotifyWatch::~InotifyWatch() {
  if (fd_ >= 0) ::close(fd_);
}

Status InotifyWatch::Add(const std::string& dir) {
  if (fd_ < 0) return Status::Unavailable("inotify is not available");
  int wd = ::inotify_add_watch(fd_, dir.c_str(),
                               IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  if (wd < 0) return Status::FromErrno("inotify watch on " + dir, errno);
  dirs_[wd] = dir;
  return Status::Ok();
}

bool InotifyWatch::Watching(const std::string& dir) const {
  for (const auto& [wd, d] : dirs_) {
    if (d == dir) return true;
  }
  return false;
}

std::vector<InotifyWatch::Event> InotifyWatch::Read() {
  std::vector<Event> out;
  if (fd_ < 0) return out;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      auto it = dirs_.find(ev->wd);
      if (it != dirs_.end()) {
        Event e{it->second, ev->len ? std::string(ev->name) : std::string(), ev->mask};
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
          if (ev->mask & IN_MOVE_SELF) ::inotify_rm_watch(fd_, ev->wd);
          dirs_.erase(it);
        }
        out.push_back(std::move(e));
      }
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return out;
}

}  // namespace confcom::deviceplugin
