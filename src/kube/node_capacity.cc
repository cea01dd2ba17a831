#include "kube/node_capacity.h"

#include <nlohmann/json.hpp>

#include "common/json_pointer.h"
#include "kube/quantity.h"

namespace confcom::kube {

std::string CapacityPatch(std::string_view resource, uint64_t value) {
  nlohmann::json patch =
      nlohmann::json::array({{{"op", "add"},
                              {"path", "/status/capacity/" + EscapeJsonPointerToken(resource)},
                              {"value", std::to_string(value)}}});
  return patch.dump();
}

std::optional<uint64_t> CapacityValue(std::string_view quantity) {
  auto q = ParseQuantity(quantity);
  if (!q.ok() || q->rounded) return std::nullopt;
  return uint64_t(q->value);
}

Result<std::optional<std::string>> CapacityOf(const std::string& node_json,
                                              std::string_view resource) {
  nlohmann::json node = nlohmann::json::parse(node_json, nullptr, false);
  if (node.is_discarded() || !node.is_object()) {
    return Status::Corruption("the API server's Node is not a JSON object");
  }
  if (node.value("kind", "") != "Node") {
    return Status::Corruption("the API server answered a '" + node.value("kind", "") +
                              "', not a Node");
  }
  auto status = node.find("status");
  if (status == node.end() || !status->is_object()) return std::optional<std::string>();
  auto cap = status->find("capacity");
  if (cap == status->end() || !cap->is_object()) return std::optional<std::string>();
  auto it = cap->find(std::string(resource));
  if (it == cap->end() || !it->is_string()) return std::optional<std::string>();
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace confcom::kube
