#include "kube/names.h"

namespace confcom::kube {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One label, without the 63-character limit (a subdomain's labels are not held to it).
bool IsLabelShape(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool IsDnsLabel(std::string_view name) { return name.size() <= 63 && IsLabelShape(name); }

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (size_t start = 0;;) {
    const size_t dot = name.find('.', start);
    if (!IsLabelShape(name.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Result<ServiceAccountRef> ParseServiceAccountRef(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 128)) +
                                   "' is not NAMESPACE:SERVICEACCOUNT (e.g. "
                                   "kube-system:sgx-quote-helper)");
  }
  ServiceAccountRef ref{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (!IsDnsLabel(ref.ns) || !IsDnsSubdomain(ref.name)) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 128)) +
                                   "': namespace and service account must be lower-case DNS "
                                   "names");
  }
  return ref;
}

}  // namespace confcom::kube
