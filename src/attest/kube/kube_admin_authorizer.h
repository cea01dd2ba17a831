// Who may read or change the policy through sgx-attest's administration API: the API server
// decides. The bearer token goes to a TokenReview; the user it names to a SubjectAccessReview
// for get (read) or update (write) of the policy ConfigMap, so the RBAC that guards
// `kubectl edit configmap` guards the API too. docs/operator-guide.md, "sgx-attest".
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "attest/policy/policy_store.h"
#include "common/status.h"
#include "kube/api_client.h"

namespace confcom::attest {

// The audience a token for the administration API must be made for (`kubectl create token SA
// --audience sgx-attest`): a token for the API server itself is refused, so sgx-attest never
// holds a credential it could replay to the API server.
inline constexpr char kAdminTokenAudience[] = "sgx-attest";

struct KubeAdminAuthorizerOptions {
  std::string ns;         // the policy ConfigMap's namespace
  std::string configmap;  // and name: the object the SubjectAccessReview asks about
  // TokenReview spec.audiences; empty = the API server's own audience (any token it accepts).
  std::vector<std::string> audiences = {kAdminTokenAudience};
  // An administrator's few calls in a row cost two reviews once; a revoked permission or
  // token works for at most 10 s more.
  std::chrono::milliseconds cache_ttl{10000};
  size_t max_cache_entries = 1024;  // ~200 bytes each; when full the oldest goes
};

// Thread-safe: Decide from any number of threads; reviews go one at a time through the one
// ApiClient, cached decisions are answered without it.
class KubeAdminAuthorizer : public PolicyAdminAuthorizer {
 public:
  // `api`'s ClientOptions bound each review (a request_timeout of ~5 s keeps an admin call
  // from hanging on a slow API server). Errors: InvalidArgument when ns or configmap is empty
  // or `api` is null.
  static Result<std::unique_ptr<KubeAdminAuthorizer>> Create(std::unique_ptr<kube::ApiClient> api,
                                                             KubeAdminAuthorizerOptions options);

  // Returns the decision for "Bearer <token>" (scheme case-insensitive): not authenticated
  // when the header is absent, not Bearer, empty, over 16 KiB or not visible ASCII, or when the
  // TokenReview says so (its error as the reason); authenticated but not allowed when the
  // SubjectAccessReview denies get (kRead) or update (kWrite) of the ConfigMap. Decisions are
  // cached for cache_ttl by SHA-256 of the token (never the token). Errors: Unavailable when a
  // review cannot be made (transport, a 403 that names the missing RBAC rule, 5xx, a malformed
  // answer); never for a bad token.
  Result<AdminDecision> Decide(std::string_view authorization, PolicyAccess access) override;

 private:
  KubeAdminAuthorizer(std::unique_ptr<kube::ApiClient> api, KubeAdminAuthorizerOptions o)
      : options_(std::move(o)), api_(std::move(api)) {}
  Result<AdminDecision> Review(const std::string& token, PolicyAccess access);

  struct Cached {
    AdminDecision decision;
    std::chrono::steady_clock::time_point expires;
  };
  const KubeAdminAuthorizerOptions options_;
  std::mutex api_mu_;  // one review at a time (ApiClient is thread-compatible)
  std::unique_ptr<kube::ApiClient> api_;
  std::mutex cache_mu_;
  std::map<std::string, Cached> cache_;  // hex SHA-256 of the token + "/r" or "/w"
};

}  // namespace confcom::attest
