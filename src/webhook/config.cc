#include "webhook/config.h"

#include <algorithm>

namespace confcom::webhook {
namespace {

// RFC 1123 label (namespaces) or subdomain (service accounts): lower-case alphanumerics, '-'
// and '.', starting and ending alphanumeric, at most 253 characters.
bool IsDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

}  // namespace

Result<ServiceAccountRef> ParseServiceAccountRef(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 128)) +
                                   "' is not NAMESPACE:SERVICEACCOUNT (e.g. kube-system:sgx-quote-helper)");
  }
  ServiceAccountRef ref{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (!IsDnsName(ref.ns) || !IsDnsName(ref.name)) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 128)) +
                                   "': namespace and service account must be lower-case DNS names");
  }
  return ref;
}

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

bool MayProvision(const WebhookConfig& config, std::string_view ns, std::string_view service_account) {
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
