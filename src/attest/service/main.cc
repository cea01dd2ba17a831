// sgx-attest: an attestation service that speaks Azure Attestation's SGX API (docs/attest-api.md).
//   sgx-attest [flags]         serve HTTPS
//   sgx-attest keygen [flags]  the signing-key Job (attest/kube/signing_key_secret.h)
// main only composes: flags (attest/service/options.h), the signing keys (attest/token), the
// collateral cache (attest/collateral), the policy store and the admin authorizer (attest/kube,
// or in memory and a static token outside a cluster), the routes
// (attest/service/attest_service.h) on the HTTPS layer (https/), and the daemon skeleton
// (common/daemon.h).
#include <CLI/CLI.hpp>
#include <cstring>
#include <memory>
#include <spdlog/spdlog.h>

#include "attest/collateral/collateral_cache.h"
#include "attest/kube/configmap_policy_store.h"
#include "attest/kube/kube_admin_authorizer.h"
#include "attest/kube/signing_key_secret.h"
#include "attest/policy/policy_store.h"
#include "attest/service/attest_service.h"
#include "attest/service/metrics.h"
#include "attest/service/options.h"
#include "attest/service/static_token_authorizer.h"
#include "attest/token/signing.h"
#include "common/cli_main.h"
#include "common/daemon.h"
#include "common/time_format.h"
#include "https/cert_reloader.h"
#include "https/server.h"
#include "kube/api_client.h"
#include "kube/kube_flags.h"

namespace confcom::attest {
namespace {

// A key made now, valid from an hour ago (clock skew) for a year.
constexpr std::time_t kInMemoryKeySkew = 3600;
constexpr std::time_t kInMemoryKeyValidity = 365 * 24 * 3600;

Result<SigningKeySet> LoadSigningKeys(const AttestFlags& f) {
  if (!f.signing_key_files.empty()) {
    std::vector<SigningKey> keys;
    for (size_t i = 0; i < f.signing_key_files.size(); ++i) {
      auto key = SigningKey::FromFiles(f.signing_key_files[i], f.signing_cert_files[i]);
      if (!key.ok()) {
        return Status(key.status().code(),
                      f.signing_key_files[i] + ": " + std::string(key.status().message()));
      }
      keys.push_back(std::move(key).value());
    }
    CONFCOM_ASSIGN_OR_RETURN(SigningKeySet set, SigningKeySet::Create(std::move(keys)));
    for (const SigningKey& key : set.keys()) {
      spdlog::info("publishing signing key {} (certificate CN={}, valid from {}){}", key.kid(),
                   key.common_name(), FormatRfc3339(key.not_before()),
                   key.kid() == set.signer().kid() ? ": it signs" : "");
    }
    return set;
  }
  std::time_t now = std::time(nullptr);
  CONFCOM_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate(f.issuer, now - kInMemoryKeySkew,
                                                                now + kInMemoryKeyValidity));
  spdlog::warn(
      "signing tokens with a key made in memory (kid {}): its tokens stop verifying when this "
      "process ends and other replicas have other keys; give --signing-key-file and "
      "--signing-cert-file (a Secret, `sgx-attest keygen`) to keep one",
      key.kid());
  return SigningKeySet::Create({std::move(key)});
}

// A client of the API server for one user of it (ApiClient is one request at a time).
Result<std::unique_ptr<kube::ApiClient>> ApiServer(const AttestFlags& f) {
  CONFCOM_ASSIGN_OR_RETURN(kube::Credentials creds, kube::CredentialsFromFlags(f.kube));
  kube::ClientOptions options;
  options.request_timeout = std::chrono::seconds(5);  // an admin call waits on it
  options.user_agent = "sgx-attest";
  return kube::ApiClient::Create(std::move(creds), options);
}

int Serve(const AttestFlags& f) {
  Daemon daemon("sgx-attest");
  if (int rc = daemon.Configure({f.log_format, f.log_level, f.metrics_address}); rc >= 0) return rc;
  auto settings = SettingsFromFlags(f);
  if (!settings.ok()) {
    spdlog::error("{}", settings.status().message());
    return kExitUsage;
  }
  https::ServerOptions& options = settings->server;

  daemon.BlockSignals();
  auto certs = https::CertReloader::Open(f.cert_file, f.key_file);
  if (!certs.ok()) {
    spdlog::error("cannot load the serving certificate: {}", certs.status().message());
    return kExitFailure;
  }
  auto metrics_server = daemon.StartMetrics();
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return kExitFailure;
  }
  std::unique_ptr<AttestMetrics> metrics;
  if (*metrics_server != nullptr) {
    metrics = std::make_unique<AttestMetrics>((*metrics_server)->registry());
    (*certs)->set_on_reload([m = metrics.get()](bool ok) { m->CertificateReload(ok); });
    options.on_refusal = [m = metrics.get()](const std::string& reason) { m->Refused(reason); };
  }
  auto keys = LoadSigningKeys(f);
  if (!keys.ok()) {
    spdlog::error("signing key: {}", keys.status().message());
    return kExitFailure;
  }

  CollateralCacheOptions co;
  co.pccs_url = f.pccs_url;
  co.collateral_dir = f.collateral_dir;
  co.trust_root_pem_file = f.trust_root;
  co.max_platforms = f.max_platforms;
  if (metrics) co.on_event = [m = metrics.get()](std::string_view e) { m->CollateralEvent(e); };
  auto verifiers = CollateralCache::Create(std::move(co));
  if (!verifiers.ok()) {
    spdlog::error("collateral: {}", verifiers.status().message());
    return kExitFailure;
  }

  std::unique_ptr<PolicyStore> policies;
  if (settings->policy_configmap) {
    auto api = ApiServer(f);
    if (!api.ok()) {
      spdlog::error("--policy-configmap: the API server: {}", api.status().message());
      return kExitFailure;
    }
    auto store = ConfigMapPolicyStore::Create(
        std::move(api).value(), {settings->policy_configmap->ns, settings->policy_configmap->name});
    if (!store.ok()) {
      spdlog::error("--policy-configmap: {}", store.status().message());
      return kExitFailure;
    }
    policies = std::move(store).value();
  } else {
    policies = std::make_unique<InMemoryPolicyStore>();
  }
  std::unique_ptr<PolicyAdminAuthorizer> admin;
  if (f.enable_admin_api && !f.admin_token_file.empty()) {
    auto token = StaticTokenAuthorizer::FromFile(f.admin_token_file);
    if (!token.ok()) {
      spdlog::error("{}", token.status().message());
      return kExitFailure;
    }
    admin = std::move(token).value();
  } else if (f.enable_admin_api) {
    auto api = ApiServer(f);
    if (!api.ok()) {
      spdlog::error("--enable-admin-api: the API server: {}", api.status().message());
      return kExitFailure;
    }
    KubeAdminAuthorizerOptions ao;
    ao.ns = settings->policy_configmap->ns;
    ao.configmap = settings->policy_configmap->name;
    auto authorizer = KubeAdminAuthorizer::Create(std::move(api).value(), std::move(ao));
    if (!authorizer.ok()) {
      spdlog::error("--enable-admin-api: {}", authorizer.status().message());
      return kExitFailure;
    }
    admin = std::move(authorizer).value();
  }

  AttestServiceOptions so;
  so.issuer = settings->issuer;
  so.token_lifetime = settings->token_lifetime;
  so.keys = std::move(keys).value();
  so.verifiers = verifiers->get();
  so.policies = policies.get();
  so.admin = admin.get();
  so.metrics = metrics.get();
  auto service = AttestService::Create(std::move(so));
  if (!service.ok()) {
    spdlog::error("{}", service.status().message());
    return kExitUsage;
  }
  options.readiness = [s = service->get()] { return s->Ready(); };
  auto server = https::Server::Start(options, (*service)->Routes(), certs->get());
  if (!server.ok()) {
    spdlog::error("cannot serve on {}: {}", f.listen, server.status().message());
    return kExitFailure;
  }
  daemon.OnSignal([s = server->get()](int sig) {
    spdlog::info("received {}: stopping", SignalName(sig));
    s->Stop();
  });
  spdlog::info(
      "sgx-attest {} serving HTTPS on {}:{} (issuer {}, collateral from {}, trust root {}, "
      "policy {}, admin API {}; tokens live {} s; {} connection(s), {} handler thread(s), bodies "
      "up to {} bytes)",
      CONFCOM_VERSION, options.host, (*server)->port(), settings->issuer,
      f.pccs_url.empty() ? f.collateral_dir : f.pccs_url,
      f.trust_root.empty() ? "Intel's SGX Root CA" : f.trust_root,
      settings->policy_configmap
          ? "ConfigMap " + settings->policy_configmap->ns + "/" + settings->policy_configmap->name
          : std::string("in memory"),
      !f.enable_admin_api          ? "off"
      : f.admin_token_file.empty() ? "on (TokenReview + SubjectAccessReview)"
                                   : "on (--admin-token-file)",
      settings->token_lifetime.count(), options.max_connections, options.handler_threads,
      options.max_body_bytes);
  (*server)->Run();
  daemon.Stop();  // the signal thread, then the metrics server (it reads `metrics`)
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace
}  // namespace confcom::attest

int main(int argc, char** argv) {
  using namespace confcom::attest;
  if (argc >= 2 && std::strcmp(argv[1], "keygen") == 0) return RunKeygen(argc - 1, argv + 1);
  AttestFlags flags;
  CLI::App app{"", "sgx-attest"};
  AddAttestFlags(app, &flags);
  if (int rc = confcom::ParseCommandLine(app, argc, argv); rc >= 0) return rc;
  return Serve(flags);
}
