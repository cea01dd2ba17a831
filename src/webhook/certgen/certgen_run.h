// What `sgx-webhook certgen` does, over an ApiClient: keep the webhook's CA and serving
// certificate in a kubernetes.io/tls Secret and every webhook's caBundle trusting that CA.
// The steps (reuse, renewal trusting old and new CA meanwhile, caBundle patches guarded by a
// test of each webhook's name, the Secret written last under its resourceVersion) are in
// docs/webhook-deployment.md, "Built in: sgx-webhook certgen". RunCertgen (certgen.h) parses
// flags and calls this; tests drive it against the API-server double.
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/api_client.h"
#include "kube/base64.h"

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
  // When set, the Secret's tls.crt, tls.key and ca.crt are also written here (mode 0600): the
  // webhook's init container hands them to the webhook container through an emptyDir.
  std::string write_dir;
  // When set, a Deployment in `ns` (sgx-webhook) whose pod template gets the annotation
  // kRenewedAtAnnotation after certgen wrote a new certificate, so it rolls and its pods'
  // init containers hand out the new one (the renewal CronJob). Never on a reuse.
  std::string restart_deployment;
  // False: only the Secret, no webhook configuration patched (a Service that is not an
  // admission webhook, e.g. sgx-attest; its clients trust the Secret's ca.crt).
  bool patch_webhooks = true;
};

// The pod-template annotation --restart-deployment sets (RFC 3339, the time of the renewal).
inline constexpr char kRenewedAtAnnotation[] = "confcom.io/certificate-renewed-at";

// Rounds of read-decide-write before a lost race is an error (see EnsureWebhookCertificates).
inline constexpr int kCertgenRounds = 3;

struct CertgenOutcome {
  enum class Secret { kReused, kCreated, kReplaced } secret = Secret::kReused;
  std::string why_new;                 // why a new certificate was made (empty when reused)
  std::time_t not_after = 0;           // of the serving certificate now in the Secret
  std::vector<std::string> patched;    // "MutatingWebhookConfiguration sgx-mutate-config", ...
  std::vector<std::string> unchanged;  // configurations that already had the bundle
  int lost_races = 0;     // creates/replaces answered 409 (another writer won; its Secret is used)
  std::string restarted;  // "Deployment kube-system/sgx-webhook" when its pods were rolled
};

// Returns what it did: the Secret reused, created or replaced, and which configurations were
// patched. Race-safe: when creating or replacing the Secret is answered 409 (another certgen
// wrote it first), it reads the winner's Secret and trusts its CA, up to kCertgenRounds times.
// Errors: API answers as kube::ApiStatus maps them (a 403 names the missing RBAC permission;
// AlreadyExists after kCertgenRounds lost races), NotFound for a missing configuration,
// InvalidArgument for a Secret of another type or a configuration without webhooks,
// Corruption for an answer that is not the expected object, transport errors once `o.retry`
// gives up, a file of `o.write_dir` that cannot be written (IoError), the Deployment of
// `o.restart_deployment` missing (NotFound) or not patchable (the Secret is then already
// written: the error says to roll the Deployment by hand). Never logs or returns
// key material. Thread-compatible (as the ApiClient it uses).
Result<CertgenOutcome> EnsureWebhookCertificates(kube::ApiClient& api, const CertgenOptions& o);

// Secret data and caBundle are base64 (kube/base64.h).
using kube::Base64Decode;
using kube::Base64Encode;

}  // namespace confcom::webhook::certgen
