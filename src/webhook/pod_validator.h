// The validating half: least privilege for the SGX provisioning device. A pure function.
//
// Denied, unless MayProvision(namespace, service account) (the quote helper or what the
// operator allows):
//   - any container (init, regular or ephemeral) with sgx.intel.com/provision or
//     kubernetes.azure.com/sgx_provision in its limits or requests;
//   - Intel's in-proc annotation: sgx.intel.com/quote-provider naming one of the pod's SGX
//     containers (Intel's webhook would give that container the provisioning device).
// The denial says why and what to do instead (out-of-proc: SGX_AESM_ADDR=1 and the node's
// quote helper on /var/run/aesmd). Everything else is allowed; an SGX container without the
// enclave device (the mutating webhook was skipped) is allowed with a warning.
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

// `name` is the pod's name for messages (may be empty on CREATE with generateName).
Verdict ValidatePod(const nlohmann::json& pod, std::string_view ns, std::string_view name,
                    const WebhookConfig& config);

}  // namespace confcom::webhook
