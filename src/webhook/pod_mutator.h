// The mutating half: a Pod (JSON, as in an AdmissionReview) -> the JSON Patch that opts its SGX
// containers in. A pure function; see docs/webhook.md for every rule with an example.
//
// Per SGX container (init containers too; one that asks for sgx.intel.com/epc, or for the
// legacy kubernetes.azure.com/sgx_epc_mem_in_MiB):
//   - legacy translation (config.legacy_translation): sgx_epc_mem_in_MiB: N ->
//     sgx.intel.com/epc: NMi, sgx_provision -> sgx.intel.com/provision, in limits and requests;
//   - sgx.intel.com/epc -> sgx.intel.com/enclave: 1 in limits and requests;
//   - annotation sgx.intel.com/quote-provider: aesmd -> env SGX_AESM_ADDR=1 and a mount of
//     /var/run/aesmd (a hostPath volume; Intel's in-pod emptyDir when a container named aesmd
//     is one of two or more SGX containers);
//   - annotation naming the container -> sgx.intel.com/provision: 1, ONLY if MayProvision()
//     (otherwise nothing: the validating webhook denies the pod with the reason);
// and for the pod: annotation sgx.intel.com/epc (the pod's total EPC, as Kubernetes sums pod
// requests) and epc-limit.nri.io/container.<name> (each SGX container's EPC in bytes).
//
// Idempotent: anything already present (a resource, an env var by name, a mount by path, a
// volume by name or by the same hostPath, an annotation) is left as the user wrote it, so the
// mutation of a mutated pod is empty. Pods without SGX containers get an empty patch.
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

Mutation MutatePod(const nlohmann::json& pod, std::string_view ns, const WebhookConfig& config);

// The pod's EPC the way Kubernetes sums a pod's requests: the larger of (containers +
// restartable init containers) and, for each other init container, itself plus the
// restartable init containers before it. `epc` is indexed like ListContainers(pod, false).
int64_t PodEpcTotal(const std::vector<ContainerRef>& containers, const std::vector<int64_t>& epc);

}  // namespace confcom::webhook
