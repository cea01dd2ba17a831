// EPC as the Node's extended resource: keeps status.capacity["sgx.intel.com/epc"] of our own
// Node equal to the EPC discovered on this host, in bytes (as Intel's `sgx_epchook -register`
// and NFD's rule do), through the API server. A thread GETs the Node and, when the entry is
// missing or differs as a quantity, PATCHes nodes/NODE/status with one JSON patch "add". While
// the API server is away (connection failures, 429, 5xx) it retries with exponential backoff;
// other failures (401/403: RBAC; 404: NODE_NAME wrong; an answer with a field of the wrong
// type, not JSON, or over kMaxNodeAnswerBytes) are logged with what to fix and retried after
// the backoff maximum or the resync, whichever is shorter; none ends the plugin. After a
// success it re-discovers and re-checks every `resync` (a Node deleted and re-created by
// kubelet loses extended resources); it logs once when the API server answers again after an
// outage. At SIGTERM, ReleaseIfOwnerGone removes the entry when the plugin's DaemonSet is gone
// (an uninstall) and keeps it otherwise (a restart or rolling update). docs/device-plugin.md.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "deviceplugin/sgx/discovery.h"
#include "kube/api_client.h"
#include "kube/credentials.h"

namespace confcom::deviceplugin {

inline constexpr const char* kIntelEpcResourceName = "sgx.intel.com/epc";
// The largest Node answer read: etcd stores objects up to 1.5 MiB (--max-request-bytes), so a
// real Node's JSON stays below this, and parsing 2 MiB stays within tens of MiB of the
// plugin's 256 MiB limit (the client's default, 8 MiB, could cost over 100 MiB).
inline constexpr size_t kMaxNodeAnswerBytes = size_t(2) << 20;

struct EpcRegistrarOptions {
  std::string node_name;
  std::string resource = kIntelEpcResourceName;
  std::chrono::milliseconds resync{std::chrono::minutes(5)};
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
};

struct EpcRegistrarStats {
  std::atomic<uint64_t> patches{0};     // successful PATCHes
  std::atomic<uint64_t> checks{0};      // successful GETs
  std::atomic<uint64_t> failures{0};    // failed reconciliations
  std::atomic<uint64_t> registered{0};  // bytes last confirmed on the Node (0 = not yet)
  std::atomic<uint64_t> recoveries{0};  // outages (failed tries, then an answer) logged as over
};

// The DaemonSet that runs the plugin (--owner-daemonset NAMESPACE/NAME).
struct OwnerDaemonSet {
  std::string ns, name;
  // Returns the owner that "NAMESPACE/NAME" names. Errors: InvalidArgument when it is not two
  // DNS names joined by one "/".
  static Result<OwnerDaemonSet> Parse(std::string_view text);
};

// Thread-safe: Start() and Stop() may be called from any thread; stats() read at any time.
class EpcRegistrar {
 public:
  // `epc_bytes` discovers the EPC now (called on the registrar's thread).
  EpcRegistrar(std::unique_ptr<kube::ApiClient> client, std::function<Result<uint64_t>()> epc_bytes,
               EpcRegistrarOptions options);
  ~EpcRegistrar();
  EpcRegistrar(const EpcRegistrar&) = delete;
  EpcRegistrar& operator=(const EpcRegistrar&) = delete;

  // Starts the reconciling thread (a second call does nothing).
  void Start();
  // Ends the thread, interrupting a backoff wait; idempotent. The destructor calls it.
  void Stop();
  // One reconciliation (with retries while the API server is away), on the caller's thread.
  // Returns Ok once the Node carries the EPC. Errors: InvalidArgument (not a valid Node
  // name or an EPC above 2^62 bytes), discovery's, the client's once retries end (Stop() ends
  // them), Corruption naming the field for an unusable Node (kube::CapacityOf), Unavailable
  // for an HTTP refusal with what to fix (404: NODE_NAME; 401/403: token or RBAC).
  Status ReconcileOnce();
  // For SIGTERM, after Stop(): when `owner` is gone (404) or being deleted (deletionTimestamp),
  // removes status.capacity[resource] from the Node if it still holds our value (a JSON patch
  // "test" then "remove"); while it exists, keeps it (pods of the next version re-check it).
  // Every request ends by `budget`. Returns true when it removed the entry, false when it kept
  // it (the reason logged). Errors: the client's (Unavailable "stopped" past `budget`), the
  // API's as kube::ApiStatus maps them (403 names the RBAC rule: get daemonsets, get nodes,
  // patch nodes/status); the capacity is then left as it was.
  Result<bool> ReleaseIfOwnerGone(const OwnerDaemonSet& owner, std::chrono::milliseconds budget);
  const EpcRegistrarStats& stats() const { return stats_; }

 private:
  void Run();
  bool Stopping();

  std::unique_ptr<kube::ApiClient> client_;
  std::function<Result<uint64_t>()> epc_bytes_;
  EpcRegistrarOptions opt_;
  EpcRegistrarStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// The registrar of --register-epc for this node, EPC re-discovered with `discovery` at each
// reconciliation. The node is `node_name`, else $NODE_NAME (the downward API's spec.nodeName);
// `credentials` is called only once the node is known. Errors: InvalidArgument when the node's
// name is unknown, else those of `credentials` and kube::ApiClient::Create.
Result<std::unique_ptr<EpcRegistrar>> MakeEpcRegistrar(
    std::string node_name, const std::function<Result<kube::Credentials>()>& credentials,
    std::chrono::seconds resync, DiscoveryOptions discovery);

}  // namespace confcom::deviceplugin
