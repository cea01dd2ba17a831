#include "helper/peer_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

namespace confcom::helper {

namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// kubelet's own UIDs: a UUID (8-4-4-4-12 hex digits) or a static pod's MD5 (32 hex digits).
bool HasKubeletUidShape(std::string_view uid) {
  if (uid.size() == 32) return IsHex(uid);
  if (uid.size() != 36) return false;
  for (size_t i : {8, 13, 18, 23}) {
    if (uid[i] != '-') return false;
  }
  return IsHex(uid.substr(0, 8)) && IsHex(uid.substr(9, 4)) && IsHex(uid.substr(14, 4)) &&
         IsHex(uid.substr(19, 4)) && IsHex(uid.substr(24));
}

// True if a '-'-separated segment of `name` is "kubepods" (kubelet's slices are
// "kubepods-...", or "<cgroup-root>-kubepods-..." with --cgroup-root, as kind's "kubelet-").
bool HasKubepodsSegment(std::string_view name) {
  while (!name.empty()) {
    size_t dash = name.find('-');
    if (name.substr(0, dash) == "kubepods") return true;
    if (dash == std::string_view::npos) break;
    name.remove_prefix(dash + 1);
  }
  return false;
}

// The pod a path component names, if it is kubelet's pod level:
//   systemd driver:  kubepods-pod<UID>.slice, kubepods-burstable-pod<UID>.slice,
//                    kubepods-besteffort-pod<UID>.slice (UID's '-' written '_');
//   cgroupfs driver: pod<UID> below kubepods, kubepods/burstable or kubepods/besteffort.
// `parent` is the component before it ("" at the root, ".." above the cgroup namespace).
std::optional<PodUid> PodOfComponent(std::string_view parent, std::string_view component) {
  constexpr std::string_view kSlice = ".slice";
  if (component.size() > kSlice.size() && component.ends_with(kSlice)) {
    std::string_view name = component.substr(0, component.size() - kSlice.size());
    size_t dash = name.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view last = name.substr(dash + 1);
    if (!last.starts_with("pod") || !HasKubepodsSegment(name.substr(0, dash))) return std::nullopt;
    return PodUid::Parse(last.substr(3));
  }
  if (!component.starts_with("pod")) return std::nullopt;
  std::string_view uid = component.substr(3);
  // Under a cgroup namespace the parent may be "..": then only kubelet's UID shapes count, so
  // that a host cgroup that merely starts with "pod" (a "podman" folder) names no pod.
  bool under_kubepods = parent == "kubepods" || parent == "burstable" || parent == "besteffort";
  if (!under_kubepods && !HasKubeletUidShape(uid)) return std::nullopt;
  return PodUid::Parse(uid);
}

// The pod one line of a cgroup file names: its outermost pod component.
std::optional<PodUid> PodOfLine(std::string_view line) {
  size_t first = line.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = line.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view path = line.substr(second + 1);
  if (!path.starts_with('/')) return std::nullopt;
  std::string_view parent;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    size_t end = path.find('/');
    std::string_view component = path.substr(0, end);
    if (auto pod = PodOfComponent(parent, component)) return pod;
    parent = component;
    if (end == std::string_view::npos) break;
    path.remove_prefix(end);
  }
  return std::nullopt;
}

}  // namespace

std::optional<PodUid> PodUid::Parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxSize) return std::nullopt;
  PodUid uid;
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
    uid.chars_[uid.size_++] = c == '_' ? '-' : c;
  }
  return uid;
}

ClientKey ClientKey::OfUid(int64_t uid) {
  ClientKey k;
  k.kind = Kind::kUid;
  k.uid = uid;
  return k;
}

ClientKey ClientKey::OfPod(const PodUid& pod) {
  ClientKey k;
  k.kind = Kind::kPod;
  k.pod = pod;
  return k;
}

ClientKey ClientKey::OfExited() {
  ClientKey k;
  k.kind = Kind::kExited;
  return k;
}

std::string ClientKey::ToString() const {
  switch (kind) {
    case Kind::kPod: return "pod " + std::string(pod.view());
    case Kind::kExited: return "exited peers";
    case Kind::kUid: break;
  }
  return "uid " + std::to_string(uid);
}

std::optional<PodUid> PodUidFromCgroupFile(std::string_view contents) {
  std::optional<PodUid> found;
  while (!contents.empty()) {
    size_t end = contents.find('\n');
    std::string_view line = contents.substr(0, end);
    if (auto pod = PodOfLine(line)) {
      if (found && *found != *pod) return std::nullopt;  // lines disagree: trust neither
      found = pod;
    }
    if (end == std::string_view::npos) break;
    contents.remove_prefix(end + 1);
  }
  return found;
}

const char* IdentifiedByName(IdentifiedBy by) {
  switch (by) {
    case IdentifiedBy::kPod: return "pod";
    case IdentifiedBy::kUidNotInPod: return "not_in_pod";
    case IdentifiedBy::kUidPidNotVisible: return "pid_not_visible";
    case IdentifiedBy::kUidUnreadable: return "cgroup_unreadable";
    case IdentifiedBy::kExited: return "exited";
    case IdentifiedBy::kUidFlag: return "uid_flag";
  }
  return "?";
}

PeerIdentifier::PeerIdentifier(ClientIdentity identity, std::string proc_root)
    : identity_(identity), proc_root_(std::move(proc_root)) {}

Identification PeerIdentifier::Identify(int64_t pid, int64_t uid) const {
  Identification id{ClientKey::OfUid(uid), IdentifiedBy::kUidFlag, 0};
  if (identity_ == ClientIdentity::kUid) return id;
  if (pid <= 0) {
    id.by = IdentifiedBy::kUidPidNotVisible;
    return id;
  }
  char path[PATH_MAX];
  int len = std::snprintf(path, sizeof path, "%s/%lld/cgroup", proc_root_.c_str(),
                          static_cast<long long>(pid));
  if (len < 0 || size_t(len) >= sizeof path) {
    id.by = IdentifiedBy::kUidUnreadable;
    id.error = ENAMETOOLONG;
    return id;
  }
  // O_NONBLOCK: a FIFO planted in a test's proc folder must not stall the accepting loop.
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    id.error = errno;
    if (id.error == ENOENT || id.error == ESRCH) {
      // A legitimate client waits for its reply; one whose connection outlives it handed the
      // connection on (fork, SCM_RIGHTS). Keyed by uid, a root pod could do that as every uid
      // it can take and hold every connection: all such peers share one key instead.
      id.key = ClientKey::OfExited();
      id.by = IdentifiedBy::kExited;
    } else {
      id.by = IdentifiedBy::kUidUnreadable;
    }
    return id;
  }
  char buf[kMaxCgroupRead];
  size_t got = 0;
  int error = 0;
  while (got < sizeof buf) {
    ssize_t n = ::read(fd, buf + got, sizeof buf - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    if (n == 0) break;
    got += size_t(n);
  }
  ::close(fd);
  if (error == ESRCH) {  // /proc/<pid>/cgroup of a process that exited since the open
    id.key = ClientKey::OfExited();
    id.by = IdentifiedBy::kExited;
    id.error = error;
    return id;
  }
  if (error != 0) {
    id.by = IdentifiedBy::kUidUnreadable;
    id.error = error;
    return id;
  }
  std::string_view contents(buf, got);
  if (got == sizeof buf) {
    // Maybe cut: keep whole lines only.
    size_t last = contents.rfind('\n');
    contents = last == std::string_view::npos ? std::string_view() : contents.substr(0, last + 1);
  }
  if (auto pod = PodUidFromCgroupFile(contents)) {
    id.key = ClientKey::OfPod(*pod);
    id.by = IdentifiedBy::kPod;
  } else {
    id.by = IdentifiedBy::kUidNotInPod;
  }
  return id;
}

}  // namespace confcom::helper
