// `sgx-webhook certgen`: flags, credentials, one EnsureWebhookCertificates, a summary line.
#include "webhook/certgen/certgen.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "kube/api_client.h"
#include "kube/credentials.h"
#include "kube/kube_flags.h"
#include "webhook/certgen/certgen_run.h"

namespace confcom::webhook {

int RunCertgen(int argc, char** argv) {
  certgen::CertgenOptions o;
  int ca_days = 3650, cert_days = 365, renew_days = 30, attempts = 8;
  kube::KubeFlags kube_flags;
  std::string log_format = "text", log_level = "info";
  CLI::App app{
      "sgx-webhook certgen: makes a CA and a serving certificate for the webhook Service, keeps\n"
      "them in a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) and sets the caBundle of\n"
      "every webhook in the mutating and validating configurations. Idempotent: a Secret whose\n"
      "certificate is valid for the Service and not within --renew-before-days of expiry is\n"
      "reused; two runs at once agree on one Secret. Runs as the init container of the webhook's\n"
      "Deployment (deploy/components/webhook), handing the files to the webhook through\n"
      "--write-dir, and daily as a CronJob with --restart-deployment, which rolls the webhook\n"
      "after a renewal; see docs/webhook-deployment.md.\n"
      "Exit codes: 0 done, 1 failed, 2 usage.",
      "sgx-webhook certgen"};
  AddVersionFlag(app, "sgx-webhook");
  app.add_option("--service", o.service, "Name of the webhook's Service")->capture_default_str();
  app.add_option("--namespace", o.ns, "Namespace of the Service and the Secret")
      ->capture_default_str();
  app.add_option("--secret-name", o.secret_name, "The kubernetes.io/tls Secret to keep")
      ->capture_default_str();
  app.add_option("--mutating-config", o.mutating_config,
                 "MutatingWebhookConfiguration whose webhooks get the caBundle")
      ->capture_default_str();
  app.add_option("--validating-config", o.validating_config,
                 "ValidatingWebhookConfiguration whose webhooks get the caBundle")
      ->capture_default_str();
  app.add_option("--ca-validity-days", ca_days, "Validity of a new CA")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_option("--cert-validity-days", cert_days,
                 "Validity of a new serving certificate (at most the CA's)")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_option("--renew-before-days", renew_days,
                 "Replace the certificate when it expires within this many days")
      ->check(CLI::Range(0, 36500))
      ->capture_default_str();
  app.add_option("--write-dir", o.write_dir,
                 "Also write the Secret's tls.crt, tls.key and ca.crt into this folder (mode "
                 "0600; the webhook container reads them from a shared emptyDir)");
  app.add_option("--restart-deployment", o.restart_deployment,
                 "After writing a new certificate (never when reusing one), set the pod-template "
                 "annotation confcom.io/certificate-renewed-at of this Deployment in --namespace, "
                 "so its pods restart and load it");
  bool skip_webhooks = false;
  app.add_flag("--skip-webhook-configs", skip_webhooks,
               "Keep only the Secret; patch no webhook configuration (for a Service that is not "
               "an admission webhook, e.g. sgx-attest, whose clients trust the Secret's ca.crt)");
  kube::AddKubeFlags(app, &kube_flags);
  app.add_option("--attempts", attempts,
                 "Tries per API request while the API server is away or overloaded")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  AddLoggingFlags(app, &log_format, &log_level);
  RequireNonEmptyValues(app);
  if (int rc = ParseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (cert_days > ca_days) {
    std::fprintf(stderr,
                 "sgx-webhook certgen: --cert-validity-days (%d) exceeds "
                 "--ca-validity-days (%d)\n",
                 cert_days, ca_days);
    return 2;
  }
  if (renew_days >= cert_days) {
    std::fprintf(stderr,
                 "sgx-webhook certgen: --renew-before-days (%d) must be below "
                 "--cert-validity-days (%d), or every run replaces the certificate\n",
                 renew_days, cert_days);
    return 2;
  }
  if (Status s = SetupLogging(log_format, log_level, "sgx-webhook-certgen"); !s.ok()) {
    std::fprintf(stderr, "sgx-webhook certgen: %s\n", s.ToString().c_str());
    return 2;
  }
  o.patch_webhooks = !skip_webhooks;
  o.ca_validity = std::chrono::hours(24) * ca_days;
  o.cert_validity = std::chrono::hours(24) * cert_days;
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
    return 1;
  }
  kube::ClientOptions client_options;
  client_options.user_agent = std::string("sgx-webhook-certgen/") + CONFCOM_VERSION;
  auto client = kube::ApiClient::Create(*creds, client_options);
  if (!client.ok()) {
    spdlog::error("Kubernetes API client: {}", client.status().ToString());
    return 1;
  }
  spdlog::info("sgx-webhook certgen {}: Service {}/{}, Secret {}, API server {}", CONFCOM_VERSION,
               o.ns, o.service, o.secret_name, creds->Describe());
  auto outcome = certgen::EnsureWebhookCertificates(**client, o);
  if (!outcome.ok()) {
    spdlog::error("{}", outcome.status().ToString());
    return 1;
  }
  const char* what = outcome->secret == certgen::CertgenOutcome::Secret::kReused    ? "reused"
                     : outcome->secret == certgen::CertgenOutcome::Secret::kCreated ? "created"
                                                                                    : "replaced";
  spdlog::info("Secret {}/{} {}{}; serving certificate valid until {}", o.ns, o.secret_name, what,
               outcome->why_new.empty() ? "" : " (" + outcome->why_new + ")",
               FormatRfc3339(outcome->not_after));
  if (outcome->lost_races > 0) {
    spdlog::info("another certgen wrote the Secret first ({} time(s)): using its certificate",
                 outcome->lost_races);
  }
  if (!o.write_dir.empty()) {
    spdlog::info("tls.crt, tls.key and ca.crt written to {}", o.write_dir);
  }
  if (!outcome->restarted.empty()) {
    spdlog::info("{}: pod template annotated {}, rolling its pods onto the new certificate",
                 outcome->restarted, certgen::kRenewedAtAnnotation);
  } else if (!o.restart_deployment.empty()) {
    spdlog::info("Deployment {}/{} left alone: its certificate is current", o.ns,
                 o.restart_deployment);
  }
  for (const auto& c : outcome->patched) spdlog::info("{}: caBundle set on every webhook", c);
  for (const auto& c : outcome->unchanged) spdlog::info("{}: caBundle already current", c);
  return 0;
}

}  // namespace confcom::webhook
