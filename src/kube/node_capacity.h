// Node extended resources: reading status.capacity from a Node object and the RFC 6902 JSON
// patch that sets one entry, sent to PATCH /api/v1/nodes/NAME/status with Content-Type
// application/json-patch+json (one "add", which also replaces, on /status/capacity/<name>, the
// name escaped per RFC 6901; the value plain decimal digits). Touches nothing else of the Node.
// Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

inline constexpr const char* kJsonPatchContentType = "application/json-patch+json";

// Returns the JSON patch that sets status.capacity[resource] to `value`.
std::string CapacityPatch(std::string_view resource, uint64_t value);

// Returns status.capacity[resource] of a Node (JSON text) as the quantity string, nullopt when
// absent (or status, or capacity). Corruption naming the field and what it holds when the text
// is not a JSON object (kube/json_fields.h), `kind` is not the string "Node", status or
// capacity is not an object, or the entry is not a string.
Result<std::optional<std::string>> CapacityOf(std::string_view node_json,
                                              std::string_view resource);

// Returns a capacity quantity ("17179869184", "16Gi", "131072k", "1e3", "1.5Gi") as a count,
// or nullopt when it is malformed or not a whole count ("1.5", "100m": a capacity cannot be
// rounded up and still compare equal). Negative and too large values are refused by the
// parser (kube/quantity.h).
std::optional<uint64_t> CapacityValue(std::string_view quantity);

}  // namespace confcom::kube
