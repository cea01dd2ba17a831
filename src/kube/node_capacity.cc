#include "kube/node_capacity.h"

#include <nlohmann/json.hpp>

#include "common/json_pointer.h"
#include "common/logging.h"
#include "kube/json_fields.h"
#include "kube/quantity.h"

namespace confcom::kube {

std::string CapacityPatch(std::string_view resource, uint64_t value, CapacityParent parent) {
  const std::string v = std::to_string(value);
  nlohmann::json op;
  switch (parent) {
    case CapacityParent::kCapacity:
      op = {{"op", "add"},
            {"path", "/status/capacity/" + EscapeJsonPointerToken(resource)},
            {"value", v}};
      break;
    case CapacityParent::kNoCapacity:
      op = {{"op", "add"}, {"path", "/status/capacity"}, {"value", {{std::string(resource), v}}}};
      break;
    case CapacityParent::kNoStatus:
      op = {{"op", "add"},
            {"path", "/status"},
            {"value", {{"capacity", {{std::string(resource), v}}}}}};
      break;
  }
  return nlohmann::json::array({op}).dump();
}

std::string CapacityRemovePatch(std::string_view resource, std::string_view quantity) {
  const std::string path = "/status/capacity/" + EscapeJsonPointerToken(resource);
  return nlohmann::json::array({{{"op", "test"}, {"path", path}, {"value", std::string(quantity)}},
                                {{"op", "remove"}, {"path", path}}})
      .dump();
}

std::optional<uint64_t> CapacityValue(std::string_view quantity) {
  auto q = ParseQuantity(quantity);
  if (!q.ok() || q->rounded) return std::nullopt;
  return uint64_t(q->value);
}

Result<NodeCapacityEntry> ReadCapacity(std::string_view node_json, std::string_view resource) {
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
  NodeCapacityEntry out;
  if (status == nullptr) {
    out.parent = CapacityParent::kNoStatus;
    return out;
  }
  CONFCOM_ASSIGN_OR_RETURN(const nlohmann::json* cap,
                           OptionalMember(*status, "Node.status", "capacity", JsonType::kObject));
  if (cap == nullptr) {
    out.parent = CapacityParent::kNoCapacity;
    return out;
  }
  CONFCOM_ASSIGN_OR_RETURN(out.quantity, OptionalString(*cap, "Node.status.capacity", resource));
  return out;
}

Result<std::optional<std::string>> CapacityOf(std::string_view node_json,
                                              std::string_view resource) {
  CONFCOM_ASSIGN_OR_RETURN(NodeCapacityEntry e, ReadCapacity(node_json, resource));
  return e.quantity;
}

}  // namespace confcom::kube
