// The validating half: least privilege for the SGX provisioning device. A pure function.
//
// Denied, unless MayProvision(namespace, service account): any container (init, regular or
// ephemeral) asking for sgx.intel.com/provision (or the legacy sgx_provision), or Intel's
// in-proc annotation (sgx.intel.com/quote-provider naming one of the pod's SGX containers).
// The denial says why and how to quote out-of-proc instead. Everything else is allowed; an
// SGX container without the enclave device is allowed with a warning. The rules and the
// reasons: docs/webhook.md, "Validation".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/config.h"

namespace confcom::webhook {

struct Verdict {
  bool allowed = true;
  std::string message;  // why not, when denied
  std::vector<std::string> warnings;
};

// Returns the verdict on `pod` in namespace `ns`: denied with the first reason found, else
// allowed with its warnings. Never fails: parts of the pod in an unexpected shape are simply
// not found (pod_view.h), so they deny nothing. `name` is the pod's name for messages (may be
// empty on CREATE with generateName). Thread-safe (no state).
Verdict ValidatePod(const nlohmann::json& pod, std::string_view ns, std::string_view name,
                    const WebhookConfig& config);

}  // namespace confcom::webhook
