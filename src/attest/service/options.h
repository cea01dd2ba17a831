// sgx-attest's command line: the flags with their --help texts, and their conversion into the
// HTTPS layer's options and the service's settings (flags in docs/attest-api.md, "Running").
// Thread safety: plain data and functions without shared state.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "https/server.h"
#include "https/server_flags.h"
#include "kube/kube_flags.h"

namespace confcom::attest {

struct AttestFlags {
  std::string listen = ":8443";
  std::string cert_file = "/etc/sgx-attest/tls/tls.crt";
  std::string key_file = "/etc/sgx-attest/tls/tls.key";
  std::string issuer;
  std::string pccs_url;
  std::string collateral_dir;
  std::string trust_root;
  size_t max_platforms = 64;
  // In pairs, in the same order: every key is published in /certs, the newest signs
  // (rotation: add the new pair, keep the old one while its tokens live, 8 h by default).
  std::vector<std::string> signing_key_files;
  std::vector<std::string> signing_cert_files;
  std::string token_lifetime = "8h";
  bool enable_admin_api = false;
  std::string admin_token_file;
  std::string policy_configmap;
  kube::KubeFlags kube;  // the API server, for --policy-configmap and the admin API's reviews
  std::string metrics_address = "127.0.0.1:9467";  // webhook 9466, plugin 9465, helper 9464
  https::ServerLimitFlags limits = {.max_body_bytes = 1 << 20};  // a quote is ~5 KiB
  std::string log_format = "text";
  std::string log_level = "info";
};

// Gives `app` the description and every flag bound to `flags`, with CLI11's range and
// membership checks (--issuer is required). Never fails.
void AddAttestFlags(CLI::App& app, AttestFlags* flags);

struct ConfigMapRef {
  std::string ns;
  std::string name;
};

// What the flags mean once checked beyond CLI11.
struct AttestSettings {
  https::ServerOptions server;  // server_name "sgx-attest"
  std::string issuer;
  std::chrono::seconds token_lifetime{0};
  std::optional<ConfigMapRef> policy_configmap;
};

// Returns the settings the flags give. Errors (usage errors, exit 2): InvalidArgument naming
// the flag, for --listen, --issuer (not an http(s) URL, a trailing '/', a query or fragment),
// --pccs-url and --collateral-dir (exactly one), --signing-key-file and --signing-cert-file
// (both or neither), --admin-token-file (needs --enable-admin-api), --enable-admin-api (needs
// --admin-token-file or --policy-configmap, the object access is checked against), --token-lifetime, --policy-configmap and --metrics-address.
Result<AttestSettings> SettingsFromFlags(const AttestFlags& flags);

// "8h", "30m", "90s", "1h30m" -> seconds (1 s to 7 days). Errors: InvalidArgument.
Result<std::chrono::seconds> ParseLifetime(std::string_view text);

}  // namespace confcom::attest
