// Who a client of the helper is, for its fair share of connections (client_shares.h): the
// Kubernetes pod its process runs in, read from <proc>/<pid>/cgroup (kubelet names every pod's
// cgroup after the pod's UID), or else its uid. The pid is SO_PEERCRED's, so the pods are seen
// only when the helper shares the host's PID namespace (hostPID). docs/operator-guide.md
// ("Clients the helper does not trust") tells why the cgroup and not a socket per pod.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace confcom::helper {

// A pod's UID as kubelet put it into the cgroup path, with '_' (systemd's escape) read as '-'.
// kubelet's UIDs are UUIDs (36 characters) or, for static pods, an MD5 in hex (32); up to
// kMaxSize leaves room for a manifest's own uid and keeps a key off the heap.
// Thread safety: a value type.
class PodUid {
 public:
  static constexpr size_t kMaxSize = 64;

  // Returns `text` with '_' read as '-', or nullopt if it is empty, longer than kMaxSize or
  // has a character other than [0-9A-Za-z_-].
  static std::optional<PodUid> Parse(std::string_view text);
  // Returns the UID's characters.
  std::string_view view() const { return {chars_.data(), size_}; }
  bool operator==(const PodUid&) const = default;

 private:
  std::array<char, kMaxSize> chars_{};  // unused ones stay '\0', so == compares the UID
  uint8_t size_ = 0;
};

// The key of a client's share: its pod; or its uid, outside any pod or when its pod cannot be
// told; or, for every peer that had exited when the helper looked (its connection held by a
// child, say), one key for them all, so that exiting cannot escape a pod's share into as many
// uid allowances as the pod has uids. Thread safety: a value type.
struct ClientKey {
  enum class Kind : uint8_t { kUid, kPod, kExited };
  Kind kind = Kind::kUid;
  int64_t uid = -1;  // kUid only (-1: unknown)
  PodUid pod;        // kPod only

  // Returns the key of a uid (-1: unknown), of a pod, or of the exited peers.
  static ClientKey OfUid(int64_t uid);
  static ClientKey OfPod(const PodUid& pod);
  static ClientKey OfExited();
  // Returns "pod <UID>", "uid <N>" or "exited peers" (for logs).
  std::string ToString() const;
  bool operator==(const ClientKey&) const = default;
};

// Returns the pod named in the contents of a /proc/<pid>/cgroup file: cgroup v2 ("0::PATH")
// or v1 ("N:controllers:PATH") lines; kubelet's systemd driver (a "...kubepods[-QOS]-pod<UID
// with _>.slice" component) or cgroupfs driver (a "pod<UID>" component); PATH may start with
// "/.." (relative to the reader's cgroup namespace). The outermost pod component of a line
// counts (deeper ones are the container's own cgroups). Returns nullopt when no line names a
// pod, or when two lines name different pods.
std::optional<PodUid> PodUidFromCgroupFile(std::string_view contents);

// --client-identity: by pod (from the cgroup; uid outside pods) or by uid only (before 0.2).
enum class ClientIdentity { kPod, kUid };

// How a connection's client was identified.
enum class IdentifiedBy : uint8_t {
  kPod,               // its cgroup names a pod
  kUidNotInPod,       // its cgroup names no pod: a process on the host (or not run by kubelet)
  kUidPidNotVisible,  // SO_PEERCRED gave no pid (0: outside the helper's PID namespace)
  kUidUnreadable,     // <proc>/<pid>/cgroup could not be read (hidepid, an error)
  kExited,            // no <proc>/<pid>: the peer exited after connecting (key: OfExited)
  kUidFlag,           // --client-identity=uid
};
inline constexpr size_t kIdentifiedByCount = 6;
// Returns the log and metric word: "pod", "not_in_pod", "pid_not_visible",
// "cgroup_unreadable", "exited" or "uid_flag".
const char* IdentifiedByName(IdentifiedBy by);

struct Identification {
  ClientKey key;
  IdentifiedBy by = IdentifiedBy::kUidFlag;
  int error = 0;  // errno of kUidUnreadable and kExited
};

// Reads <proc_root>/<pid>/cgroup: one open, one read of at most kMaxCgroupRead bytes into the
// stack, one close; nothing allocated. Thread safety: Identify() may be called from any thread.
class PeerIdentifier {
 public:
  // A v1 file lists ~13 controllers of ~215 bytes each with the systemd driver (~2.8 KiB); the
  // pod is on every line, so a longer file cut at a line still names it.
  static constexpr size_t kMaxCgroupRead = 4096;

  PeerIdentifier(ClientIdentity identity, std::string proc_root);
  // Returns the key for a peer with SO_PEERCRED's `pid` and `uid` (-1: unknown): its pod when
  // identity is kPod and its cgroup names one; the exited peers' key when <proc>/<pid> is gone
  // (ENOENT, ESRCH); else its uid. With the reason; never fails.
  Identification Identify(int64_t pid, int64_t uid) const;

 private:
  ClientIdentity identity_;
  std::string proc_root_;
};

}  // namespace confcom::helper

template <>
struct std::hash<confcom::helper::ClientKey> {
  size_t operator()(const confcom::helper::ClientKey& k) const noexcept {
    using Kind = confcom::helper::ClientKey::Kind;
    if (k.kind == Kind::kUid) return std::hash<int64_t>()(k.uid);
    if (k.kind == Kind::kExited) return 0x243f6a8885a308d3ull;
    return std::hash<std::string_view>()(k.pod.view()) ^ 0x9e3779b97f4a7c15ull;
  }
};
