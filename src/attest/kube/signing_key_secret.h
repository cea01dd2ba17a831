// `sgx-attest keygen`: the token signing key kept in a kubernetes.io/tls Secret (tls.key: an
// RSA-2048 key, tls.crt: its self-signed certificate CN=<issuer>), made once and reused by every
// replica, the way `sgx-webhook certgen` keeps the webhook's certificate. Runs as the init
// container of sgx-attest's Deployment and hands the files over through --write-dir.
//
// Contract with the sgx-attest main: it calls RunKeygen with the arguments from the
// subcommand on (argv[0] is "keygen"); the return value is the exit code: 0 done, 1 failed,
// 2 usage error (it prints its own --help).
#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "common/status.h"
#include "kube/api_client.h"

namespace confcom::attest {

struct SigningKeySecretOptions {
  std::string ns = "kube-system";
  std::string secret_name = "sgx-attest-signing-key";
  std::string issuer;  // the certificate's CN: sgx-attest's --issuer URL, no trailing slash
  // Ten years: a new key invalidates every token the old one signed (relying parties fetch
  // /certs), so the key is replaced only when its certificate nears expiry or the issuer
  // changes.
  std::chrono::seconds validity = std::chrono::hours(24 * 3650);
  std::chrono::seconds renew_before = std::chrono::hours(24 * 30);
  std::time_t now = 0;  // 0: the current time
  kube::RetryOptions retry;
  // When set, tls.key (mode 0600) and tls.crt (0644) are also written here: the init container
  // hands them to sgx-attest (--signing-key-file, --signing-cert-file) through an emptyDir.
  std::string write_dir;
};

// Rounds of read-decide-write before a lost race is an error: each lost round means another
// keygen wrote a valid key, which the next round reuses; 3 covers two replicas and a re-run.
inline constexpr int kKeygenRounds = 3;

struct SigningKeySecretOutcome {
  enum class Secret { kReused, kCreated, kReplaced } secret = Secret::kReused;
  std::string why_new;  // why a new key was made (empty when reused)
  std::string kid;      // of the key now in the Secret (as /certs publishes it)
  std::time_t not_after = 0;
  int lost_races = 0;  // creates/replaces answered 409: the winner's key is used
};

// Returns what it did with the Secret `o.ns`/`o.secret_name`: reused (a valid key whose
// certificate is for `o.issuer` and not within renew_before of expiry), created, or replaced.
// Race-safe: a create or replace answered 409 re-reads and uses the winner's key, up to
// kKeygenRounds times. Errors: InvalidArgument (empty issuer; a Secret of another type),
// the API's answers as kube::ApiStatus maps them (a 403 names the RBAC rule; AlreadyExists
// after kKeygenRounds lost races), Corruption for an answer that is not a Secret, IoError for
// --write-dir files. Never logs or returns key material. Thread-compatible (as ApiClient).
Result<SigningKeySecretOutcome> EnsureSigningKeySecret(kube::ApiClient& api,
                                                       const SigningKeySecretOptions& o);

// `sgx-attest keygen`: flags, credentials, one EnsureSigningKeySecret, a summary line. Call
// from main's thread only: it sets up the process's logging and prints to stdout/stderr.
int RunKeygen(int argc, char** argv);

}  // namespace confcom::attest
