// The SgxEnclave policy kept in a ConfigMap, so every sgx-attest replica serves the same one: a
// PolicyStore that re-reads the ConfigMap in the background and writes it under its
// resourceVersion. docs/operator-guide.md, "sgx-attest", says how to edit it by hand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "attest/policy/policy_store.h"
#include "common/status.h"
#include "kube/api_client.h"

namespace confcom::attest {

struct ConfigMapPolicyStoreOptions {
  std::string ns;                  // the ConfigMap's namespace
  std::string name;                // and name
  std::string key = "SgxEnclave";  // data key holding the policy text (absent = the default)
  // A GET every 5 s, not a watch: ApiClient has no streaming (each answer is bounded and has a
  // deadline), and one ~1 KiB GET per replica every 5 s is 0.4 requests/s for 2 replicas, far
  // below any API server's budget; a change reaches every replica within ~5 s.
  std::chrono::milliseconds poll_interval{5000};
  // Read-modify-write rounds of Set/Reset before a run of 409s is an error: each lost round
  // means another writer succeeded, so 5 covers every replica of a 2-replica Deployment and
  // an operator's `kubectl edit` at once.
  int write_rounds = 5;
};

// Thread-safe: Current() from any number of threads (never blocks on I/O); Set and Reset
// serialize on the one ApiClient with the background reader.
class ConfigMapPolicyStore : public PolicyStore {
 public:
  // Reads the ConfigMap once (its policy, or the default when the ConfigMap or its key is
  // absent) and starts the background reader. Errors: InvalidArgument when ns or name is
  // empty, or when the ConfigMap's policy does not parse (line and column: there is no last
  // good policy yet, and serving the default instead would hide it); what the API server
  // answers (kube::ApiStatus: a 403 names the missing RBAC rule) or Unavailable when it cannot
  // be reached; Corruption for an answer that is not a ConfigMap.
  static Result<std::unique_ptr<ConfigMapPolicyStore>> Create(std::unique_ptr<kube::ApiClient> api,
                                                              ConfigMapPolicyStoreOptions options);
  // Stops the background reader (promptly, even during a request) and joins it.
  ~ConfigMapPolicyStore() override;

  // Returns the policy last read or written. A ConfigMap whose policy stops parsing is logged
  // (once per resourceVersion) and the last good policy stays in force.
  std::shared_ptr<const StoredPolicy> Current() const override;
  // Writes `policy` into the ConfigMap (created when absent; PUT under the resourceVersion
  // read, re-read and retried on 409) and makes it current here at once; other replicas see
  // it within poll_interval. Errors: Unavailable "writing the policy to ConfigMap ns/name:
  // <the API server's answer>" (a 403 names the RBAC rule to add), also after write_rounds
  // lost races.
  Status Set(const Policy& policy) override;
  // Removes the key from the ConfigMap (the default policy; nothing to write when the
  // ConfigMap or the key is absent) and makes the default current here. Errors as Set.
  Status Reset() override;

  // The error of the last background read (OK after a good one), for /readyz and logs.
  Status last_read_status() const;

 private:
  ConfigMapPolicyStore(std::unique_ptr<kube::ApiClient> api, ConfigMapPolicyStoreOptions o);
  Status ReadOnce(bool initial);  // GET and apply; call with api_mu_ held
  // Writes `stored` (the default: removes the key); call with api_mu_ held.
  Status Write(std::shared_ptr<const StoredPolicy> stored);
  void Apply(std::shared_ptr<const StoredPolicy> p, std::string resource_version);
  void Loop();

  const ConfigMapPolicyStoreOptions options_;
  const std::string path_, what_;
  std::mutex api_mu_;  // one request at a time (ApiClient is thread-compatible)
  std::unique_ptr<kube::ApiClient> api_;

  mutable std::mutex mu_;  // guards the members below
  std::shared_ptr<const StoredPolicy> current_;
  std::string applied_version_;  // resourceVersion whose policy is current_
  std::string refused_version_;  // the last resourceVersion whose policy did not parse
  Status refused_;               // and why
  Status last_read_;
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread reader_;
};

}  // namespace confcom::attest
