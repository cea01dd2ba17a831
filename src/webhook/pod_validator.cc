#include "webhook/pod_validator.h"

#include "webhook/pod_view.h"

namespace confcom::webhook {
namespace {

bool PodHasContainerNamed(const nlohmann::json& pod, std::string_view name) {
  for (const auto& ref : ListContainers(pod, true)) {
    if (ref.name == name) return true;
  }
  return false;
}

std::string Instead(const WebhookConfig& config, bool aesmd_sidecar) {
  std::string who_may =
      "Only the quote helper (service account " + config.quote_helper.ns + ":" +
      config.quote_helper.name +
      ") and namespaces or service accounts the operator allows (sgx-webhook "
      "--allow-provision-namespaces, --allow-provision-service-accounts) may have it: with it a "
      "container can run its own quoting enclave and obtain the platform's provisioning key. ";
  if (aesmd_sidecar) {
    // The pod already has the annotation: advising it again (as before) helped nobody.
    return who_may + "This pod runs Intel's aesmd in its own container \"" + kAesmdQuoteProvider +
           "\" (the sidecar layout). Remove that container and keep the annotation " +
           kQuoteProviderAnnotation + ": " + kAesmdQuoteProvider +
           ": the webhook then points the other containers at the node's sgx-quote-helper "
           "(SGX_AESM_ADDR=1), which quotes for the pod; or ask the operator to allow this "
           "namespace or service account.";
  }
  return who_may +
         "Quote out-of-proc instead: set the pod annotation sgx.intel.com/quote-provider: aesmd "
         "(or env SGX_AESM_ADDR=1) and request only sgx.intel.com/epc; the node's "
         "sgx-quote-helper then quotes for the pod.";
}

}  // namespace

Verdict ValidatePod(const nlohmann::json& pod, std::string_view ns, std::string_view name,
                    const WebhookConfig& config) {
  Verdict v;
  const std::string sa = PodServiceAccount(pod);
  const bool may = MayProvision(config, ns, sa);
  const std::string who = "pod " + std::string(ns) + "/" +
                          (name.empty() ? std::string("<generated>") : std::string(name)) +
                          " (service account " + sa + ")";
  const auto provider = PodAnnotation(pod, kQuoteProviderAnnotation);
  const bool aesmd_sidecar = provider && *provider == kAesmdQuoteProvider &&
                             PodHasContainerNamed(pod, kAesmdQuoteProvider);
  for (const auto& ref : ListContainers(pod, true)) {
    const nlohmann::json* c = &pod;
    for (const auto& t : ref.path) {
      c = std::holds_alternative<std::string>(t) ? &(*c)[std::get<std::string>(t)]
                                                 : &(*c)[std::get<size_t>(t)];
    }
    const bool sgx = HasResource(*c, kIntelEpc) || HasResource(*c, kLegacyEpc);
    if (!may) {
      for (const char* res : {kIntelProvision, kLegacyProvision}) {
        if (HasResource(*c, res)) {
          v.allowed = false;
          v.message = "sgx-webhook: " + who + " denied: container \"" + ref.name + "\" requests " +
                      res + ", the SGX provisioning device. " + Instead(config, aesmd_sidecar);
          return v;
        }
      }
      if (sgx && provider && *provider == ref.name) {
        v.allowed = false;
        v.message = "sgx-webhook: " + who + " denied: the annotation " + kQuoteProviderAnnotation +
                    ": " + *provider + " asks for in-proc quoting in container \"" + ref.name +
                    "\", which needs the SGX provisioning device. " +
                    Instead(config, aesmd_sidecar);
        return v;
      }
    }
    if (HasResource(*c, kIntelEpc) && !HasResource(*c, kIntelEnclave)) {
      v.warnings.push_back(
          "container \"" + ref.name + "\" requests " + kIntelEpc + " without " + kIntelEnclave +
          ": it gets no enclave device (is the sgx-webhook mutating configuration installed?)");
    }
  }
  return v;
}

}  // namespace confcom::webhook
