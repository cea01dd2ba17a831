// What the operator decides about the webhook (from its flags), and who may quote in-proc.
//
// The provisioning device lets a container act as a quoting enclave, so least privilege: only
// the quote helper (identified by namespace and service account, default
// kube-system:sgx-quote-helper) and the namespaces and service accounts the operator lists may
// request it (either resource scheme's name, or through Intel's in-proc annotation). A pod's
// service account is spec.serviceAccountName ("default" when empty, as the API server's
// ServiceAccount admission sets it before any webhook). Pure functions over a WebhookConfig
// that is not changed after start: safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kube/names.h"

namespace confcom::webhook {

// Resource names, in one place.
inline constexpr char kIntelEpc[] = "sgx.intel.com/epc";
inline constexpr char kIntelEnclave[] = "sgx.intel.com/enclave";
inline constexpr char kIntelProvision[] = "sgx.intel.com/provision";
inline constexpr char kLegacyEpc[] = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
inline constexpr char kLegacyProvision[] = "kubernetes.azure.com/sgx_provision";
inline constexpr char kQuoteProviderAnnotation[] = "sgx.intel.com/quote-provider";
inline constexpr char kAesmdQuoteProvider[] = "aesmd";
inline constexpr char kNriEpcAnnotationPrefix[] = "epc-limit.nri.io/container.";
inline constexpr char kAesmdDir[] = "/var/run/aesmd";
inline constexpr char kAesmdVolumeName[] = "aesmd-socket";  // Intel's name, so both agree

// "NAMESPACE:NAME" references, as Kubernetes names them (kube/names.h).
using kube::ParseServiceAccountRef;
using kube::ServiceAccountRef;

struct WebhookConfig {
  // Translate kubernetes.azure.com/sgx_epc_mem_in_MiB: N into sgx.intel.com/epc: NMi (plus the
  // enclave device) and kubernetes.azure.com/sgx_provision into sgx.intel.com/provision: for
  // clusters whose device plugin runs the intel scheme. Off for legacy-scheme clusters.
  bool legacy_translation = true;
  ServiceAccountRef quote_helper{"kube-system", "sgx-quote-helper"};
  std::vector<std::string> allow_provision_namespaces;
  std::vector<ServiceAccountRef> allow_provision_service_accounts;
};

// Returns the pod's service account name as the API server has set it (spec.serviceAccountName,
// else the deprecated spec.serviceAccount, else "default"); never fails, whatever the shape.
std::string PodServiceAccount(const nlohmann::json& pod);

// Returns whether a pod in `ns` running as `service_account` may have the provisioning device:
// it is the quote helper, or its namespace or service account is on the operator's lists.
bool MayProvision(const WebhookConfig& config, std::string_view ns,
                  std::string_view service_account);

}  // namespace confcom::webhook
