// Kubernetes object names as the API server validates them (RFC 1123 labels and subdomains),
// and the "NAMESPACE:NAME" reference to a service account that operators write in flags.
// The one name check in confcom: Node names, namespaces and service accounts all go through
// it. Pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

// Returns whether `name` is an RFC 1123 label (namespaces, Service names): 1 to 63 characters
// of a-z, 0-9 and '-', starting and ending with a letter or digit.
bool IsDnsLabel(std::string_view name);

// Returns whether `name` is an RFC 1123 subdomain (Nodes, Secrets, service accounts): at most
// 253 characters, labels as above joined by single dots. As the API server checks it, a label
// inside a subdomain is not held to 63 characters.
bool IsDnsSubdomain(std::string_view name);

struct ServiceAccountRef {
  std::string ns;
  std::string name;
  bool operator==(const ServiceAccountRef&) const = default;
};

// Returns the reference written "NAMESPACE:NAME" (e.g. kube-system:sgx-quote-helper).
// InvalidArgument when there is not exactly one ':', the namespace is not a DNS label or the
// name not a DNS subdomain.
Result<ServiceAccountRef> ParseServiceAccountRef(std::string_view text);

}  // namespace confcom::kube
