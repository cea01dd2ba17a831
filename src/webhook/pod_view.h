// Read-only helpers over a Pod object (JSON as the API server sends it): its containers and
// their SGX resources. Tolerant of anything odd (missing or null maps, wrong types): what is
// not there in the expected shape is simply not found. Pure functions, safe from any thread.
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
  JsonPath path;     // e.g. {"spec", "containers", 0}
  std::string list;  // "containers", "initContainers" or "ephemeralContainers"
  std::string name;
  bool restartable_init = false;  // an init container with restartPolicy Always (a sidecar)
};

// Returns the pod's containers: init containers first (in order), then containers; ephemeral
// containers last, only if asked (they cannot have resources, but validation still looks).
// Empty for a pod without a spec.
std::vector<ContainerRef> ListContainers(const nlohmann::json& pod, bool include_ephemeral);

// Returns container.resources.<map>.<resource>, or nullptr when absent or null; map is
// "limits" or "requests".
const nlohmann::json* ResourceValue(const nlohmann::json& container, std::string_view map,
                                    std::string_view resource);
// Returns whether limits or requests names the resource with a non-null value.
bool HasResource(const nlohmann::json& container, std::string_view resource);
// Returns a quantity value as text (the API sends strings; hand-written JSON may have
// numbers), or nullopt for any other type.
std::optional<std::string> QuantityText(const nlohmann::json& value);

// Returns whether a quantity is written as a fraction ("0.5", "100m", "1e-3"): extended resources
// such as the legacy MiB count must be whole numbers, so these are not translated.
bool WrittenAsFraction(std::string_view quantity);

// Returns the container's EPC in bytes from sgx.intel.com/epc, else from the legacy MiB
// resource (limits first, then requests); 0 when it asks for none. Errors: InvalidArgument
// when the value is not a quantity (kube::ParseQuantity), a legacy value is a fraction or
// above 2^42 MiB.
Result<int64_t> ContainerEpcBytes(const nlohmann::json& container);

// Returns the pod's annotation `key`, or nullopt when absent or not a string.
std::optional<std::string> PodAnnotation(const nlohmann::json& pod, std::string_view key);

}  // namespace confcom::webhook
