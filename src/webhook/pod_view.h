// Read-only helpers over a Pod object (JSON as the API server sends it): its containers and
// their SGX resources. Tolerant of anything odd (missing or null maps, wrong types): what is
// not there in the expected shape is simply not found.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webhook/json_patch.h"

namespace confcom::webhook {

struct ContainerRef {
  JsonPath path;       // e.g. {"spec", "containers", 0}
  std::string list;    // "containers", "initContainers" or "ephemeralContainers"
  std::string name;
  bool restartable_init = false;  // an init container with restartPolicy Always (a sidecar)
};

// Init containers first (in order), then containers; ephemeral containers only if asked (they
// cannot have resources, but validation still looks).
std::vector<ContainerRef> ListContainers(const nlohmann::json& pod, bool include_ephemeral);

// container.resources.<map>.<resource> or nullptr; map is "limits" or "requests".
const nlohmann::json* ResourceValue(const nlohmann::json& container, std::string_view map,
                                    std::string_view resource);
// Limits or requests has the resource.
bool HasResource(const nlohmann::json& container, std::string_view resource);
// A quantity value as text (the API sends strings; hand-written JSON may have numbers).
std::optional<std::string> QuantityText(const nlohmann::json& value);

// Whether a quantity is written as a fraction ("0.5", "100m", "1e-3"): extended resources
// such as the legacy MiB count must be whole numbers, so these are not translated.
bool WrittenAsFraction(std::string_view quantity);

// The container's EPC in bytes from sgx.intel.com/epc, else from the legacy MiB resource
// (limits first, then requests); 0 when it asks for none; an error if the value is malformed.
Result<int64_t> ContainerEpcBytes(const nlohmann::json& container);

// The pod's annotation or nullopt.
std::optional<std::string> PodAnnotation(const nlohmann::json& pod, std::string_view key);

}  // namespace confcom::webhook
