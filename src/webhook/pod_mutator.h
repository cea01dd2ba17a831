// The mutating half: a Pod (JSON, as in an AdmissionReview) -> the JSON Patch that opts its SGX
// containers in. A pure function.
//
// Per SGX container (one that asks for sgx.intel.com/epc or the legacy sgx_epc_mem_in_MiB):
// legacy names translated (config.legacy_translation), sgx.intel.com/enclave added, the
// quote-provider annotation honoured (aesmd: env and socket mount; a container's name: the
// provision device only if MayProvision()); for the pod, the EPC annotations. Idempotent: only
// what is missing is added (the derived sgx.intel.com/epc annotation is corrected), so the
// mutation of a mutated pod is empty. Every rule with an example: docs/webhook.md, "Mutation".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/config.h"
#include "webhook/pod_view.h"

namespace confcom::webhook {

struct Mutation {
  nlohmann::json patch = nlohmann::json::array();  // RFC 6902 operations
  std::vector<std::string> warnings;               // shown to the user by kubectl
};

// Returns the patch that opts `pod` (in namespace `ns`) in, and warnings for the user (a legacy
// quantity translated or left untranslated, a container name too long for its NRI
// annotation). Never fails: a pod that is not an object or names no SGX resource gets an
// empty patch, and an EPC quantity that does not parse only leaves the pod's total unwritten.
// Thread-safe (no state).
Mutation MutatePod(const nlohmann::json& pod, std::string_view ns, const WebhookConfig& config);

// Returns the pod's EPC in bytes the way Kubernetes sums a pod's requests: the larger of
// (containers + restartable init containers) and, for each other init container, itself plus
// the restartable init containers before it. `epc` is indexed like `containers`
// (ListContainers(pod, false)) and must be as long; ephemeral containers count nothing.
int64_t PodEpcTotal(const std::vector<ContainerRef>& containers, const std::vector<int64_t>& epc);

}  // namespace confcom::webhook
