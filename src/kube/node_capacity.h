// Node extended resources: reading status.capacity from a Node object and the RFC 6902 JSON
// patch that sets one entry, as sent to PATCH /api/v1/nodes/NAME/status with
// Content-Type application/json-patch+json. The patch has one "add" operation (which also
// replaces an existing entry) on /status/capacity/<name>, the name escaped per RFC 6901
// ("~" -> "~0", "/" -> "~1"), and the value a quantity string of plain decimal digits.
// Touches nothing else of the Node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

inline constexpr const char* kJsonPatchContentType = "application/json-patch+json";

std::string CapacityPatch(std::string_view resource, uint64_t value);

// A Kubernetes quantity ("17179869184", "16Gi", "131072k", "1e3") as an integer, or nullopt
// when it is not a whole non-negative number we can represent.
std::optional<uint64_t> ParseQuantity(std::string_view q);

// status.capacity[resource] of a Node (JSON text): the quantity string, nullopt if absent.
Result<std::optional<std::string>> CapacityOf(const std::string& node_json,
                                              std::string_view resource);

// Whether `name` is a valid object name of the DNS-subdomain kind Nodes have (RFC 1123:
// lowercase alphanumerics, '-' and '.', starting and ending alphanumeric, at most 253).
bool IsDnsSubdomain(std::string_view name);

// The "message" of a Kubernetes Status object (error bodies), else the body's start.
std::string ApiErrorMessage(const std::string& body);

}  // namespace confcom::kube
