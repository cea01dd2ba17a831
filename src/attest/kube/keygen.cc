// `sgx-attest keygen`: flags, credentials, one EnsureSigningKeySecret, a summary line.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "attest/kube/signing_key_secret.h"
#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "kube/api_client.h"
#include "kube/credentials.h"
#include "kube/kube_flags.h"

namespace confcom::attest {

int RunKeygen(int argc, char** argv) {
  SigningKeySecretOptions o;
  int validity_days = 3650, renew_days = 30, attempts = 8;
  kube::KubeFlags kube_flags;
  std::string log_format = "text", log_level = "info";
  CLI::App app{
      "sgx-attest keygen: makes sgx-attest's token signing key (RSA-2048) and its self-signed\n"
      "certificate (CN=<issuer>, as Azure Attestation's) and keeps them in a kubernetes.io/tls\n"
      "Secret (tls.key, tls.crt). Idempotent: a Secret whose certificate is for --issuer and not\n"
      "within --renew-before-days of expiry is reused; two runs at once agree on one key. Runs\n"
      "as the init container of sgx-attest's Deployment (deploy/components/sgx-attest), handing\n"
      "the files to sgx-attest through --write-dir; see docs/operator-guide.md, \"sgx-attest\".\n"
      "Exit codes: 0 done, 1 failed, 2 usage.",
      "sgx-attest keygen"};
  AddVersionFlag(app, "sgx-attest");
  app.add_option("--issuer", o.issuer,
                 "sgx-attest's issuer URL (no trailing slash): the certificate's CN")
      ->required();
  app.add_option("--namespace", o.ns, "Namespace of the Secret")->capture_default_str();
  app.add_option("--secret-name", o.secret_name, "The kubernetes.io/tls Secret to keep")
      ->capture_default_str();
  app.add_option("--validity-days", validity_days, "Validity of a new certificate")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_option("--renew-before-days", renew_days,
                 "Replace the key when its certificate expires within this many days (every "
                 "token it signed then fails validation: relying parties fetch /certs)")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  app.add_option("--write-dir", o.write_dir,
                 "Also write tls.key (mode 0600) and tls.crt into this folder (sgx-attest reads "
                 "them from a shared emptyDir)");
  kube::AddKubeFlags(app, &kube_flags);
  app.add_option("--attempts", attempts,
                 "Tries per API request while the API server is away or overloaded")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  AddLoggingFlags(app, &log_format, &log_level);
  RequireNonEmptyValues(app);
  if (int rc = ParseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (renew_days >= validity_days) {
    std::fprintf(stderr,
                 "sgx-attest keygen: --renew-before-days (%d) must be below --validity-days "
                 "(%d), or every run replaces the key\n",
                 renew_days, validity_days);
    return kExitUsage;
  }
  if (Status s = SetupLogging(log_format, log_level, "sgx-attest-keygen"); !s.ok()) {
    std::fprintf(stderr, "sgx-attest keygen: %s\n", s.ToString().c_str());
    return kExitUsage;
  }
  o.validity = std::chrono::hours(24) * validity_days;
  o.renew_before = std::chrono::hours(24) * renew_days;
  o.retry.attempts = attempts;
  o.retry.initial = std::chrono::milliseconds(500);
  o.retry.max = std::chrono::seconds(10);
  o.retry.on_retry = [](const std::string& what, std::chrono::milliseconds wait) {
    spdlog::warn("{}; retrying in {} ms", what, wait.count());
  };

  auto creds = kube::CredentialsFromFlags(kube_flags);
  if (!creds.ok()) {
    spdlog::error("Kubernetes credentials: {}", creds.status().ToString());
    return kExitFailure;
  }
  kube::ClientOptions client_options;
  client_options.user_agent = std::string("sgx-attest-keygen/") + CONFCOM_VERSION;
  auto client = kube::ApiClient::Create(*creds, client_options);
  if (!client.ok()) {
    spdlog::error("Kubernetes API client: {}", client.status().ToString());
    return kExitFailure;
  }
  spdlog::info("sgx-attest keygen {}: Secret {}/{}, issuer {}, API server {}", CONFCOM_VERSION,
               o.ns, o.secret_name, o.issuer, creds->Describe());
  auto outcome = EnsureSigningKeySecret(**client, o);
  if (!outcome.ok()) {
    spdlog::error("{}", outcome.status().ToString());
    return kExitFailure;
  }
  using S = SigningKeySecretOutcome::Secret;
  const char* what = outcome->secret == S::kReused    ? "reused"
                     : outcome->secret == S::kCreated ? "created"
                                                      : "replaced";
  spdlog::info("Secret {}/{} {}{}: signing key kid {}, certificate valid until {}", o.ns,
               o.secret_name, what, outcome->why_new.empty() ? "" : " (" + outcome->why_new + ")",
               outcome->kid, FormatRfc3339(outcome->not_after));
  if (outcome->lost_races > 0) {
    spdlog::info("another keygen wrote the Secret first ({} time(s)): using its key",
                 outcome->lost_races);
  }
  if (!o.write_dir.empty()) spdlog::info("tls.key and tls.crt written to {}", o.write_dir);
  return kExitOk;
}

}  // namespace confcom::attest
