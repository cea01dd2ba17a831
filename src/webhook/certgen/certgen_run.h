// What `sgx-webhook certgen` does, over an ApiClient (tests drive it against the API-server
// double; RunCertgen only parses flags and composes).
//
// 1. GET the Secret <namespace>/<secret_name>. If it is a kubernetes.io/tls Secret whose
//    tls.crt/tls.key/ca.crt pass CheckBundle (the Service's names, not within renew_before of
//    expiry), it is reused: nothing is written.
// 2. Otherwise a new CA and serving certificate are made (GenerateBundle). The caBundle of
//    every webhook in both configurations is set FIRST to the new CA followed by the CA
//    currently in the Secret (if any and still valid), so the serving certificate verifies
//    while the webhook pods still serve the old one; then the Secret is created (POST) or
//    replaced (PUT with its resourceVersion: a concurrent writer gives a Conflict error,
//    never a silent overwrite). A Secret of another type is an error (the type is immutable).
// 3. Each webhook of the MutatingWebhookConfiguration and the ValidatingWebhookConfiguration
//    gets clientConfig.caBundle = base64(ca.crt) through a JSON patch (each "add" guarded by a
//    "test" of the webhook's name, so a configuration edited meanwhile fails the patch instead
//    of getting a wrong webhook patched). A configuration that already carries that bundle is
//    not patched. A configuration that does not exist is an error.
// API errors name the object and, for 403, the RBAC permission that is missing. Transport
// errors, 429 and 5xx are retried per `retry`. The private key never appears in a log or an
// error.
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/api_client.h"

namespace confcom::webhook::certgen {

struct CertgenOptions {
  std::string service = "sgx-webhook";
  std::string ns = "kube-system";
  std::string secret_name = "sgx-webhook-tls";
  std::string mutating_config = "sgx-mutate-config";
  std::string validating_config = "sgx-validate-config";
  std::chrono::seconds ca_validity = std::chrono::hours(24 * 3650);
  std::chrono::seconds cert_validity = std::chrono::hours(24 * 365);
  std::chrono::seconds renew_before = std::chrono::hours(24 * 30);
  std::time_t now = 0;  // 0: the current time
  kube::RetryOptions retry;
};

struct CertgenOutcome {
  enum class Secret { kReused, kCreated, kReplaced } secret = Secret::kReused;
  std::string why_new;          // why a new certificate was made (empty when reused)
  std::time_t not_after = 0;    // of the serving certificate now in the Secret
  std::vector<std::string> patched;    // "MutatingWebhookConfiguration sgx-mutate-config", ...
  std::vector<std::string> unchanged;  // configurations that already had the bundle
};

Result<CertgenOutcome> EnsureWebhookCertificates(kube::ApiClient& api, const CertgenOptions& o);

// Standard base64 (RFC 4648, with padding), as the API server encodes Secret data and caBundle.
std::string Base64Encode(const std::string& bytes);
Result<std::string> Base64Decode(const std::string& text);

}  // namespace confcom::webhook::certgen
