// Node extended resources: reading status.capacity from a Node object and the RFC 6902 JSON
// patches sent to PATCH /api/v1/nodes/NAME/status with Content-Type application/json-patch+json:
// one "add" (which also replaces) on /status/capacity/<name>, the name escaped per RFC 6901,
// the value plain decimal digits; or "test" then "remove" of exactly one value. Touches nothing
// else of the Node. Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

inline constexpr const char* kJsonPatchContentType = "application/json-patch+json";

// Where the entry goes: "add" needs its parent to exist (RFC 6902 4.1), so on a Node without
// status.capacity (or status) the patch adds that object instead (else the API server's 422).
enum class CapacityParent { kCapacity, kNoCapacity, kNoStatus };

// Returns the JSON patch that sets status.capacity[resource] to `value`.
std::string CapacityPatch(std::string_view resource, uint64_t value,
                          CapacityParent parent = CapacityParent::kCapacity);

// Returns the JSON patch that removes status.capacity[resource] only while it still holds
// `quantity` exactly (a "test" first: another writer's value is left, the API server's 422).
std::string CapacityRemovePatch(std::string_view resource, std::string_view quantity);

// What a Node holds for one capacity entry.
struct NodeCapacityEntry {
  CapacityParent parent = CapacityParent::kCapacity;
  std::optional<std::string> quantity;  // status.capacity[resource], nullopt when absent
};
// Returns the entry and whether status and status.capacity exist; errors as CapacityOf.
Result<NodeCapacityEntry> ReadCapacity(std::string_view node_json, std::string_view resource);

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
