#include "kube/node_capacity.h"

#include <nlohmann/json.hpp>

#include "common/json_pointer.h"

namespace confcom::kube {

std::string CapacityPatch(std::string_view resource, uint64_t value) {
  nlohmann::json patch = nlohmann::json::array(
      {{{"op", "add"},
        {"path", "/status/capacity/" + EscapeJsonPointerToken(resource)},
        {"value", std::to_string(value)}}});
  return patch.dump();
}

std::optional<uint64_t> ParseQuantity(std::string_view q) {
  size_t i = 0;
  unsigned __int128 n = 0;
  while (i < q.size() && q[i] >= '0' && q[i] <= '9') {
    n = n * 10 + unsigned(q[i] - '0');
    if (n > UINT64_MAX) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view suffix = q.substr(i);
  struct Unit {
    std::string_view s;
    unsigned __int128 m;
  };
  const unsigned __int128 k = 1000, ki = 1024;
  const Unit units[] = {{"", 1},           {"k", k},           {"M", k * k},
                        {"G", k * k * k},  {"T", k * k * k * k}, {"P", k * k * k * k * k},
                        {"E", k * k * k * k * k * k},
                        {"Ki", ki},        {"Mi", ki * ki},    {"Gi", ki * ki * ki},
                        {"Ti", ki * ki * ki * ki}, {"Pi", ki * ki * ki * ki * ki},
                        {"Ei", ki * ki * ki * ki * ki * ki}};
  for (const auto& u : units) {
    if (suffix == u.s) {
      unsigned __int128 v = n * u.m;
      if (v > UINT64_MAX) return std::nullopt;
      return uint64_t(v);
    }
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int exp = 0;
    for (size_t j = 1; j < suffix.size(); ++j) {
      if (suffix[j] < '0' || suffix[j] > '9' || exp > 18) return std::nullopt;
      exp = exp * 10 + (suffix[j] - '0');
    }
    if (exp > 19) return std::nullopt;
    for (int e = 0; e < exp; ++e) {
      n *= 10;
      if (n > UINT64_MAX) return std::nullopt;
    }
    return uint64_t(n);
  }
  return std::nullopt;
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

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

std::string ApiErrorMessage(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>().substr(0, 512);
  }
  std::string s = body.substr(0, 200);
  for (char& c : s) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return s;
}

}  // namespace confcom::kube
