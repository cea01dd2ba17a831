// Where sgx-attest keeps the SgxEnclave policy in force: InMemoryPolicyStore (one process) or
// ConfigMapPolicyStore (attest/kube: every replica serves the ConfigMap's policy); and who may
// read or change it (PolicyAdminAuthorizer: attest/kube's TokenReview + SubjectAccessReview).
// Thread safety: implementations allow every method from any number of threads at once.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "attest/policy/policy.h"
#include "common/status.h"

namespace confcom::attest {

struct StoredPolicy {
  Policy policy;
  std::string hash;         // PolicyHash(policy.text()): x-ms-policy-hash
  bool is_default = false;  // kDefaultSgxPolicy, never set or reset since
};

class PolicyStore {
 public:
  virtual ~PolicyStore() = default;
  // Returns the policy in force (the default until one is set). Never blocks on I/O.
  virtual std::shared_ptr<const StoredPolicy> Current() const = 0;
  // Makes `policy` the one in force, for every replica. Errors: Unavailable (the store cannot
  // be written; says why), Aborted-like conflicts are retried inside.
  virtual Status Set(const Policy& policy) = 0;
  // Makes the default policy the one in force. Errors as Set.
  virtual Status Reset() = 0;
};

// Holds the policy in this process only (tests, and a daemon run without a cluster).
class InMemoryPolicyStore : public PolicyStore {
 public:
  InMemoryPolicyStore();  // the default policy
  std::shared_ptr<const StoredPolicy> Current() const override;
  Status Set(const Policy& policy) override;
  Status Reset() override;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const StoredPolicy> current_;
};

// Makes the StoredPolicy for `policy` (computes its hash). Pure.
std::shared_ptr<const StoredPolicy> MakeStoredPolicy(const Policy& policy, bool is_default);

enum class PolicyAccess { kRead, kWrite };

struct AdminDecision {
  bool authenticated = false;  // false: 401
  bool allowed = false;        // authenticated but false: 403
  std::string user;            // who, for the log ("system:serviceaccount:ns:name")
  std::string reason;          // why not, one sentence for the error message
};

class PolicyAdminAuthorizer {
 public:
  virtual ~PolicyAdminAuthorizer() = default;
  // Decides whether the bearer token in `authorization` (the Authorization header's value,
  // "Bearer <token>", or "" when absent) may `access` the policy. Errors: Unavailable (the
  // API server cannot be asked; the caller answers 503), never for a bad token (a decision).
  virtual Result<AdminDecision> Decide(std::string_view authorization, PolicyAccess access) = 0;
};

}  // namespace confcom::attest
