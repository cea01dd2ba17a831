#include "webhook/config.h"

namespace confcom::webhook {

std::string PodServiceAccount(const nlohmann::json& pod) {
  const nlohmann::json* spec = pod.is_object() && pod.contains("spec") ? &pod["spec"] : nullptr;
  if (spec && spec->is_object()) {
    for (const char* key : {"serviceAccountName", "serviceAccount"}) {
      auto it = spec->find(key);
      if (it != spec->end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  return "default";
}

bool MayProvision(const WebhookConfig& config, std::string_view ns,
                  std::string_view service_account) {
  if (ns == config.quote_helper.ns && service_account == config.quote_helper.name) return true;
  for (const auto& n : config.allow_provision_namespaces) {
    if (n == ns) return true;
  }
  for (const auto& sa : config.allow_provision_service_accounts) {
    if (sa.ns == ns && sa.name == service_account) return true;
  }
  return false;
}

}  // namespace confcom::webhook
