// sgx-webhook's command line when it serves: the flags with their --help texts, and their
// conversion into the HTTPS layer's options and the admission configuration (flags in
// docs/webhook.md). `sgx-webhook certgen` has its own (webhook/certgen/certgen.h).
// Thread safety: plain data and functions without shared state.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "https/server.h"
#include "https/server_flags.h"
#include "webhook/config.h"

namespace confcom::webhook {

struct WebhookFlags {
  std::string listen = ":8443";
  std::string cert_file = "/etc/sgx-webhook/tls/tls.crt";
  std::string key_file = "/etc/sgx-webhook/tls/tls.key";
  std::string legacy_translation = "intel";
  std::vector<std::string> allow_namespaces;
  std::vector<std::string> allow_service_accounts;
  std::string quote_helper = "kube-system:sgx-quote-helper";
  std::string metrics_address = "127.0.0.1:9466";  // the plugin has 9465, the helper 9464
  https::ServerLimitFlags limits;  // the HTTPS layer's (3 MiB bodies: the API server's)
  std::string log_format = "text";
  std::string log_level = "info";
};

// Gives `app` the description and every flag (--version, --listen … --log-level, in --help
// order) bound to `flags`, with CLI11's range and membership checks. Never fails.
void AddWebhookFlags(CLI::App& app, WebhookFlags* flags);

// What the flags mean once checked beyond CLI11.
struct WebhookSettings {
  https::ServerOptions server;  // server_name "sgx-webhook"
  WebhookConfig config;
};

// Returns the server options and the admission configuration the flags give. Errors (usage
// errors, exit 2): InvalidArgument naming the flag, for --listen,
// --quote-helper-service-account, --allow-provision-service-accounts or --metrics-address
// (unless "off").
Result<WebhookSettings> SettingsFromFlags(const WebhookFlags& flags);

// Returns the start log line's "in-proc quoting allowed for:" part, each entry after a space
// (" namespace N", " NS:NAME"), or " nobody else" when both lists are empty.
std::string DescribeProvisionAllowList(const WebhookConfig& config);

}  // namespace confcom::webhook
