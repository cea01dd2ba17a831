// Standard base64 (RFC 4648, padded), as the Kubernetes API carries bytes in JSON and YAML:
// Secret data, a webhook's caBundle, a kubeconfig's *-data fields, an AdmissionReview's patch.
// Pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

// Returns `bytes` encoded, padded with '=' to a multiple of 4 characters ("" for "").
std::string Base64Encode(std::string_view bytes);

// Returns the bytes `text` encodes; spaces, tabs and line breaks are ignored (kubeconfigs wrap
// long values). InvalidArgument when the rest is not a multiple of 4 characters of the
// alphabet with at most two '=' at the end.
Result<std::string> Base64Decode(const std::string& text);

}  // namespace confcom::kube
