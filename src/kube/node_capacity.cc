#include "kube/node_capacity.h"

#include <nlohmann/json.hpp>

#include "common/json_pointer.h"
#include "common/logging.h"
#include "kube/json_fields.h"
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

Result<std::optional<std::string>> CapacityOf(std::string_view node_json,
                                              std::string_view resource) {
  CONFCOM_ASSIGN_OR_RETURN(nlohmann::json node, ParseJsonObject(node_json, "the Node"));
  auto kind = RequiredString(node, "Node", "kind");
  if (!kind.ok()) return kind.status();
  if (*kind != "Node") {
    return Status::Corruption("the API server answered a '" +
                              EscapeForLog(std::string_view(*kind).substr(0, 64)) +
                              "', not a Node");
  }
  CONFCOM_ASSIGN_OR_RETURN(const nlohmann::json* status,
                           OptionalMember(node, "Node", "status", JsonType::kObject));
  if (status == nullptr) return std::optional<std::string>();
  CONFCOM_ASSIGN_OR_RETURN(const nlohmann::json* cap,
                           OptionalMember(*status, "Node.status", "capacity", JsonType::kObject));
  if (cap == nullptr) return std::optional<std::string>();
  return OptionalString(*cap, "Node.status.capacity", resource);
}

}  // namespace confcom::kube
