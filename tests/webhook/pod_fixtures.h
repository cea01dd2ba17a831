// What the webhook's unit tests build pods from: a Pod with containers (and optionally
// annotations and volumes) and a Container with limits, as the API server would send them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace confcom::webhook::fixtures {

// Returns Pod "p" in namespace "default" with `containers`; null arguments are left out.
inline nlohmann::json Pod(nlohmann::json containers, nlohmann::json annotations = nullptr,
                          nlohmann::json volumes = nullptr) {
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", "p"}, {"namespace", "default"}}},
                        {"spec", {{"containers", containers}}}};
  if (!annotations.is_null()) pod["metadata"]["annotations"] = annotations;
  if (!volumes.is_null()) pod["spec"]["volumes"] = volumes;
  return pod;
}

// Returns a container named `name` (image app:1) with resources.limits = `limits` unless null.
inline nlohmann::json Container(std::string name, nlohmann::json limits) {
  nlohmann::json c = {{"name", name}, {"image", "app:1"}};
  if (!limits.is_null()) c["resources"] = {{"limits", limits}};
  return c;
}

}  // namespace confcom::webhook::fixtures
