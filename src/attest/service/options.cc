#include "attest/service/options.h"

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/metrics_server.h"

namespace confcom::attest {

void AddAttestFlags(CLI::App& app, AttestFlags* f) {
  app.description(
      "sgx-attest: an attestation service that speaks Azure Attestation's (MAA) SGX API. It verifies\n"
      "DCAP quotes (POST /attest/SgxEnclave, /attest/OpenEnclave) with collateral from a PCCS or from\n"
      "files, judges them by an MAA policy and answers MAA's RS256 tokens (keys at GET /certs).\n"
      "Policy administration (GET/PUT /policies/SgxEnclave, POST /policies/SgxEnclave:reset) is off\n"
      "unless --enable-admin-api. See docs/attest-api.md.");
  AddVersionFlag(app, "sgx-attest");
  app.add_option("--listen", f->listen, "[HOST]:PORT to serve HTTPS on")->capture_default_str();
  app.add_option("--tls-cert-file", f->cert_file,
                 "PEM serving certificate (then its chain); reloaded when it changes")
      ->capture_default_str();
  app.add_option("--tls-private-key-file", f->key_file,
                 "PEM private key of the certificate; reloaded when it changes")
      ->capture_default_str();
  app.add_option(
         "--issuer", f->issuer,
         "The service's URL as clients reach it, e.g. https://sgx-attest.confcom.svc "
         "(no trailing '/'): the tokens' iss, jku = ISSUER/certs, the signing certificate's CN")
      ->required();
  app.add_option(
      "--pccs-url", f->pccs_url,
      "PCCS-compatible base URL to fetch collateral from (Intel's PCS "
      "https://api.trustedservices.intel.com/sgx/certification/v4/, a PCCS, `sgxctl pccs`); "
      "exactly one of --pccs-url and --collateral-dir");
  app.add_option(
      "--collateral-dir", f->collateral_dir,
      "Offline: read collateral from this directory (`sgxctl collateral` layout) instead "
      "of a PCCS");
  app.add_option(
      "--trust-root", f->trust_root,
      "PEM root certificate of a SIMULATED platform to trust instead of Intel's SGX Root "
      "CA; every token then says so (x-confcom-sgx-simulated-root). Default: Intel's root");
  app.add_option("--max-platforms", f->max_platforms,
                 "Platforms (FMSPC and PCK CA) whose collateral is cached at once")
      ->check(CLI::Range(size_t(1), size_t(100000)))
      ->capture_default_str();
  app.add_option("--signing-key-file", f->signing_key_files,
                 "PEM RSA private key that signs tokens (mode 0600 or 0400; a Secret's tls.key). "
                 "Repeat with --signing-cert-file in pairs to rotate: every key is published in "
                 "/certs, the one with the latest notBefore signs. Absent: a key made in memory "
                 "at start, logged with its kid")
      ->take_all();
  app.add_option("--signing-cert-file", f->signing_cert_files,
                 "PEM self-signed certificate of the signing key, subject CN=<issuer>; one per "
                 "--signing-key-file, in the same order")
      ->take_all();
  app.add_option("--token-lifetime", f->token_lifetime,
                 "Lifetime of attestation tokens (exp - iat), e.g. 8h, 30m, 90s")
      ->capture_default_str();
  app.add_flag("--enable-admin-api", f->enable_admin_api,
               "Serve the policy administration API; each call needs a bearer token the API "
               "server authenticates (TokenReview) and authorises for the policy ConfigMap "
               "(SubjectAccessReview)");
  app.add_option(
      "--admin-token-file", f->admin_token_file,
      "With --enable-admin-api outside a cluster (development, CI): the one bearer token "
      "allowed to read and set the policy, read from this file (at least 16 characters)");
  app.add_option("--policy-configmap", f->policy_configmap,
                 "NAMESPACE/NAME of the ConfigMap that holds the policy (every replica serves it). "
                 "Absent: the policy lives in this process only");
  kube::AddKubeFlags(app, &f->kube, "With --policy-configmap or --enable-admin-api");
  app.add_option(
         "--metrics-address,--metrics-listen", f->metrics_address,
         "HOST:PORT for Prometheus metrics at /metrics (port 0: any free port; 'off' to disable)")
      ->capture_default_str();
  https::AddServerLimitFlags(app, &f->limits, "Threads verifying and signing");
  AddLoggingFlags(app, &f->log_format, &f->log_level);
  RequireNonEmptyValues(app);
}

Result<std::chrono::seconds> ParseLifetime(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("--token-lifetime: '" + std::string(text) +
                                   "' is not a duration such as 8h, 30m, 90s or 1h30m");
  };
  if (text.empty()) return bad();
  long long total = 0, n = 0;
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      digits = true;
      if (n > 10000000) return bad();
      continue;
    }
    if (!digits) return bad();
    if (c == 'h') total += n * 3600;
    else if (c == 'm') total += n * 60;
    else if (c == 's') total += n;
    else return bad();
    n = 0;
    digits = false;
  }
  if (digits) return bad();  // a number without its unit
  if (total < 1 || total > 7 * 24 * 3600) {
    return Status::InvalidArgument("--token-lifetime: '" + std::string(text) +
                                   "' is outside 1s to 168h");
  }
  return std::chrono::seconds(total);
}

namespace {
Status CheckUrl(const std::string& flag, const std::string& url) {
  bool https = url.rfind("https://", 0) == 0, http = url.rfind("http://", 0) == 0;
  size_t host_at = https ? 8 : 7;
  if ((!https && !http) || url.size() <= host_at || url[host_at] == '/') {
    return Status::InvalidArgument(flag + ": '" + url + "' is not an http(s) URL");
  }
  if (url.find_first_of("?# ") != std::string::npos) {
    return Status::InvalidArgument(flag + ": '" + url + "' has a query, fragment or space");
  }
  return Status::Ok();
}
}  // namespace

Result<AttestSettings> SettingsFromFlags(const AttestFlags& f) {
  AttestSettings s;
  https::ServerOptions& options = s.server;
  options.server_name = "sgx-attest";
  CONFCOM_RETURN_IF_ERROR(https::ParseListenAddress(f.listen, &options.host, &options.port));
  https::ApplyServerLimitFlags(f.limits, &options);

  CONFCOM_RETURN_IF_ERROR(CheckUrl("--issuer", f.issuer));
  if (f.issuer.back() == '/') {
    return Status::InvalidArgument("--issuer: '" + f.issuer +
                                   "' ends with '/': give the URL without it (tokens carry "
                                   "iss exactly as given, and MAA's never ends with '/')");
  }
  s.issuer = f.issuer;
  if (f.pccs_url.empty() == f.collateral_dir.empty()) {
    return Status::InvalidArgument(
        "give exactly one of --pccs-url (fetch collateral) and --collateral-dir (offline)");
  }
  if (!f.pccs_url.empty()) CONFCOM_RETURN_IF_ERROR(CheckUrl("--pccs-url", f.pccs_url));
  if (f.signing_key_files.size() != f.signing_cert_files.size()) {
    return Status::InvalidArgument("give --signing-key-file and --signing-cert-file in pairs (" +
                                   std::to_string(f.signing_key_files.size()) + " key file(s), " +
                                   std::to_string(f.signing_cert_files.size()) +
                                   " certificate file(s)), or neither (a key made in memory)");
  }
  if (!f.admin_token_file.empty() && !f.enable_admin_api) {
    return Status::InvalidArgument("--admin-token-file needs --enable-admin-api");
  }
  if (f.enable_admin_api && f.admin_token_file.empty() && f.policy_configmap.empty()) {
    return Status::InvalidArgument(
        "--enable-admin-api needs --policy-configmap NAMESPACE/NAME (the API server decides who "
        "may get or update that ConfigMap) or, outside a cluster, --admin-token-file");
  }
  CONFCOM_ASSIGN_OR_RETURN(s.token_lifetime, ParseLifetime(f.token_lifetime));
  if (!f.policy_configmap.empty()) {
    auto slash = f.policy_configmap.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == f.policy_configmap.size() ||
        f.policy_configmap.find('/', slash + 1) != std::string::npos) {
      return Status::InvalidArgument("--policy-configmap: '" + f.policy_configmap +
                                     "' is not NAMESPACE/NAME");
    }
    s.policy_configmap =
        ConfigMapRef{f.policy_configmap.substr(0, slash), f.policy_configmap.substr(slash + 1)};
  }
  if (f.metrics_address != "off") CONFCOM_RETURN_IF_ERROR(CheckMetricsAddress(f.metrics_address));
  return s;
}

}  // namespace confcom::attest
