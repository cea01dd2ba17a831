// JSON Pointer (RFC 6901): a reference token escaped for a pointer ("~" -> "~0", "/" -> "~1"),
// as JSON patches name Kubernetes' keys such as "sgx.intel.com/epc".
#pragma once

#include <string>
#include <string_view>

namespace confcom {

// The escaped token; pure, never fails.
std::string EscapeJsonPointerToken(std::string_view token);

}  // namespace confcom
