#include "webhook/pod_view.h"

#include "kube/quantity.h"
#include "webhook/config.h"

namespace confcom::webhook {

std::vector<ContainerRef> ListContainers(const nlohmann::json& pod, bool include_ephemeral) {
  std::vector<ContainerRef> out;
  if (!pod.is_object()) return out;
  auto spec = pod.find("spec");
  if (spec == pod.end() || !spec->is_object()) return out;
  std::vector<std::string> lists = {"initContainers", "containers"};
  if (include_ephemeral) lists.push_back("ephemeralContainers");
  for (const auto& list : lists) {
    auto it = spec->find(list);
    if (it == spec->end() || !it->is_array()) continue;
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& c = (*it)[i];
      if (!c.is_object()) continue;
      ContainerRef ref;
      ref.path = {std::string("spec"), list, i};
      ref.list = list;
      auto name = c.find("name");
      if (name != c.end() && name->is_string()) ref.name = name->get<std::string>();
      auto rp = c.find("restartPolicy");
      ref.restartable_init = list == "initContainers" && rp != c.end() && rp->is_string() &&
                             rp->get_ref<const std::string&>() == "Always";
      out.push_back(std::move(ref));
    }
  }
  return out;
}

const nlohmann::json* ResourceValue(const nlohmann::json& container, std::string_view map,
                                    std::string_view resource) {
  if (!container.is_object()) return nullptr;
  auto res = container.find("resources");
  if (res == container.end() || !res->is_object()) return nullptr;
  auto m = res->find(std::string(map));
  if (m == res->end() || !m->is_object()) return nullptr;
  auto v = m->find(std::string(resource));
  if (v == m->end() || v->is_null()) return nullptr;
  return &*v;
}

bool HasResource(const nlohmann::json& container, std::string_view resource) {
  return ResourceValue(container, "limits", resource) ||
         ResourceValue(container, "requests", resource);
}

std::optional<std::string> QuantityText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return std::nullopt;
}

bool WrittenAsFraction(std::string_view q) {
  return q.find('.') != std::string_view::npos || (!q.empty() && q.back() == 'm') ||
         q.find("e-") != std::string_view::npos || q.find("E-") != std::string_view::npos;
}

Result<int64_t> ContainerEpcBytes(const nlohmann::json& container) {
  for (const char* map : {"limits", "requests"}) {
    if (const auto* v = ResourceValue(container, map, kIntelEpc)) {
      auto text = QuantityText(*v);
      if (!text) return Status::InvalidArgument(std::string(kIntelEpc) + " is not a quantity");
      auto bytes = kube::ParseQuantity(*text);
      if (!bytes.ok()) return bytes.status();
      return bytes->value;  // rounded up, as the scheduler counts it
    }
  }
  for (const char* map : {"limits", "requests"}) {
    if (const auto* v = ResourceValue(container, map, kLegacyEpc)) {
      auto text = QuantityText(*v);
      if (!text) return Status::InvalidArgument(std::string(kLegacyEpc) + " is not a quantity");
      if (WrittenAsFraction(*text)) {
        return Status::InvalidArgument(std::string(kLegacyEpc) + " is not a whole number of MiB");
      }
      auto mib = kube::ParseQuantity(*text);
      if (!mib.ok()) return mib.status();
      if (mib->value > (int64_t(1) << 42))
        return Status::InvalidArgument(std::string(kLegacyEpc) + " is too large");
      return mib->value << 20;
    }
  }
  return int64_t(0);
}

std::optional<std::string> PodAnnotation(const nlohmann::json& pod, std::string_view key) {
  if (!pod.is_object()) return std::nullopt;
  auto md = pod.find("metadata");
  if (md == pod.end() || !md->is_object()) return std::nullopt;
  auto an = md->find("annotations");
  if (an == md->end() || !an->is_object()) return std::nullopt;
  auto v = an->find(std::string(key));
  if (v == an->end() || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

}  // namespace confcom::webhook
