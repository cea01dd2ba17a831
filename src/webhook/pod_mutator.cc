#include "webhook/pod_mutator.h"

#include <algorithm>

#include "kube/quantity.h"
#include "webhook/json_patch.h"
#include "webhook/pod_view.h"

namespace confcom::webhook {
namespace {

using nlohmann::json;

JsonPath Join(JsonPath base, std::initializer_list<PathToken> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// An annotation key's name part (after the prefix's '/') may have at most 63 characters.
constexpr size_t kMaxNriContainerName = 63 - (sizeof("container.") - 1);

void TranslateLegacy(PatchBuilder& b, const ContainerRef& c, std::vector<std::string>& warnings) {
  for (const char* map : {"limits", "requests"}) {
    JsonPath map_path = Join(c.path, {std::string("resources"), std::string(map)});
    const json* m = b.Find(map_path);
    if (!m || !m->is_object()) continue;
    if (m->contains(kLegacyEpc)) {
      if (!m->contains(kIntelEpc)) {
        auto text = QuantityText((*m)[kLegacyEpc]);
        auto mib = text && !WrittenAsFraction(*text)
                       ? kube::ParseQuantity(*text)
                       : Result<kube::Quantity>(Status::InvalidArgument("not a whole number"));
        if (!mib.ok() || mib->value > (int64_t(1) << 42)) {
          warnings.push_back("container \"" + c.name + "\": " + kLegacyEpc +
                             " is not a whole number of MiB; left untranslated");
          continue;
        }
        b.Add(Join(map_path, {std::string(kIntelEpc)}), std::to_string(mib->value) + "Mi");
        if (std::string(map) == "limits") {
          warnings.push_back("container \"" + c.name + "\": " + kLegacyEpc + ": " + *text +
                             " translated to " + kIntelEpc + ": " + std::to_string(mib->value) +
                             "Mi");
        }
      }
      b.Remove(Join(map_path, {std::string(kLegacyEpc)}));
    }
    m = b.Find(map_path);
    if (m && m->is_object() && m->contains(kLegacyProvision)) {
      if (!m->contains(kIntelProvision)) {
        auto text = QuantityText((*m)[kLegacyProvision]);
        if (!text) continue;
        b.Add(Join(map_path, {std::string(kIntelProvision)}), *text);
      }
      b.Remove(Join(map_path, {std::string(kLegacyProvision)}));
    }
  }
}

// Sets `resource` in limits and requests where missing, to the value the other one has, or
// `value` when neither has it (extended resources need requests == limits).
void EnsureResource(PatchBuilder& b, const ContainerRef& c, const char* resource,
                    const char* value) {
  JsonPath lim =
      Join(c.path, {std::string("resources"), std::string("limits"), std::string(resource)});
  JsonPath req =
      Join(c.path, {std::string("resources"), std::string("requests"), std::string(resource)});
  const json* l = b.Find(lim);
  const json* r = b.Find(req);
  if (l && l->is_null()) l = nullptr;
  if (r && r->is_null()) r = nullptr;
  json v = l ? *l : r ? *r : json(value);
  if (!l) b.Add(lim, v);
  if (!r) b.Add(req, v);
}

bool HasEnv(const json& container, std::string_view name) {
  auto env = container.find("env");
  if (env == container.end() || !env->is_array()) return false;
  return std::any_of(env->begin(), env->end(), [&](const json& e) {
    return e.is_object() && e.contains("name") && e["name"].is_string() &&
           e["name"].get_ref<const std::string&>() == name;
  });
}

bool HasMountAt(const json& container, std::string_view dir) {
  auto mounts = container.find("volumeMounts");
  if (mounts == container.end() || !mounts->is_array()) return false;
  return std::any_of(mounts->begin(), mounts->end(), [&](const json& m) {
    if (!m.is_object() || !m.contains("mountPath") || !m["mountPath"].is_string()) return false;
    std::string p = m["mountPath"].get<std::string>();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p == dir;
  });
}

// The name of an existing volume for the aesmd socket directory: one with hostPath
// /var/run/aesmd (whatever its name), else one named aesmd-socket; empty if none.
std::string ExistingAesmdVolume(const json& pod) {
  const json* vols = nullptr;
  if (pod.contains("spec") && pod["spec"].is_object() && pod["spec"].contains("volumes")) {
    vols = &pod["spec"]["volumes"];
  }
  if (!vols || !vols->is_array()) return "";
  // A volume some container already mounts at /var/run/aesmd (e.g. an emptyDir shared with
  // an aesmd sidecar under any name): the socket lives there, so app containers share it.
  for (const char* list : {"initContainers", "containers"}) {
    const json& spec = pod["spec"];
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const auto& container : spec[list]) {
      if (!container.is_object() || !container.contains("volumeMounts")) continue;
      const json& mounts = container["volumeMounts"];
      if (!mounts.is_array()) continue;
      for (const auto& m : mounts) {
        if (!m.is_object() || !m.contains("mountPath") || !m["mountPath"].is_string() ||
            !m.contains("name") || !m["name"].is_string()) {
          continue;
        }
        std::string p = m["mountPath"].get<std::string>();
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        if (p == kAesmdDir) return m["name"].get<std::string>();
      }
    }
  }
  for (const auto& v : *vols) {
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
    auto hp = v.find("hostPath");
    if (hp != v.end() && hp->is_object() && hp->contains("path") && (*hp)["path"].is_string()) {
      std::string p = (*hp)["path"].get<std::string>();
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      if (p == kAesmdDir) return v["name"].get<std::string>();
    }
  }
  for (const auto& v : *vols) {
    if (v.is_object() && v.contains("name") && v["name"] == kAesmdVolumeName)
      return kAesmdVolumeName;
  }
  return "";
}

}  // namespace

int64_t PodEpcTotal(const std::vector<ContainerRef>& containers, const std::vector<int64_t>& epc) {
  int64_t regular = 0, sidecars = 0, init_peak = 0;
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    if (c.list == "initContainers") {
      if (c.restartable_init) {
        sidecars += epc[i];
      } else {
        init_peak = std::max(init_peak, sidecars + epc[i]);
      }
    } else if (c.list == "containers") {
      regular += epc[i];
    }
  }
  return std::max(regular + sidecars, init_peak);
}

Mutation MutatePod(const json& pod, std::string_view ns, const WebhookConfig& config) {
  Mutation out;
  if (!pod.is_object()) return out;
  const std::vector<ContainerRef> containers = ListContainers(pod, false);
  // Only these names can lead to a patch. The webhook sees every pod in the cluster, so an
  // ordinary one is answered without the working copy below.
  const bool names_sgx =
      std::any_of(containers.begin(), containers.end(), [&](const ContainerRef& c) {
        const json& container = pod["spec"][c.list][std::get<size_t>(c.path[2])];
        return HasResource(container, kIntelEpc) || HasResource(container, kLegacyEpc) ||
               HasResource(container, kLegacyProvision);
      });
  if (!names_sgx) return out;
  PatchBuilder b(pod);
  if (config.legacy_translation) {
    for (const auto& c : containers) TranslateLegacy(b, c, out.warnings);
  }

  // Which containers use SGX, now (after translation), and their EPC.
  std::vector<bool> sgx(containers.size(), false);
  std::vector<int64_t> epc(containers.size(), 0);
  bool all_parsed = true;
  size_t sgx_count = 0;
  bool aesmd_container = false;
  for (size_t i = 0; i < containers.size(); ++i) {
    const json* c = b.Find(containers[i].path);
    if (!c) continue;
    sgx[i] = HasResource(*c, kIntelEpc) || HasResource(*c, kLegacyEpc);
    if (!sgx[i]) continue;
    ++sgx_count;
    if (containers[i].name == kAesmdQuoteProvider) aesmd_container = true;
    auto bytes = ContainerEpcBytes(*c);
    if (bytes.ok()) {
      epc[i] = *bytes;
    } else {
      all_parsed = false;
    }
  }
  if (sgx_count == 0) {
    out.patch = b.patch();  // a legacy name translated without EPC (sgx_provision alone)
    return out;
  }

  const std::optional<std::string> provider = PodAnnotation(pod, kQuoteProviderAnnotation);
  const bool aesmd = provider && *provider == kAesmdQuoteProvider;
  const bool may_provision = MayProvision(config, ns, PodServiceAccount(pod));

  // The socket folder. Normally the device plugin's Allocate for the enclave device mounts the
  // host's folder read-only at /var/run/aesmd (--aesmd-socket-dir): no volume here, so the pod
  // passes Pod Security baseline and restricted (a hostPath does not). A pod that brings its
  // own volume there (Intel's and AKS's manifests: a hostPath; or an emptyDir shared with an
  // aesmd sidecar) keeps it, and every SGX container gets it mounted; Intel's sidecar layout
  // without one gets a memory emptyDir that the sidecar and the apps share.
  std::string volume = aesmd ? ExistingAesmdVolume(pod) : "";
  const bool sidecar = aesmd_container && sgx_count >= 2;  // Intel's aesmd-in-the-pod layout
  const bool mount_volume = aesmd && (!volume.empty() || sidecar);
  const bool make_volume = mount_volume && volume.empty();
  if (make_volume) volume = kAesmdVolumeName;

  for (size_t i = 0; i < containers.size(); ++i) {
    if (!sgx[i]) continue;
    const ContainerRef& ref = containers[i];
    const json* c = b.Find(ref.path);
    const bool intel_epc = HasResource(*c, kIntelEpc);
    if (intel_epc) EnsureResource(b, ref, kIntelEnclave, "1");
    if (provider && *provider == ref.name && may_provision) {
      c = b.Find(ref.path);
      if (!HasResource(*c, kIntelProvision) && !HasResource(*c, kLegacyProvision)) {
        EnsureResource(b, ref, intel_epc ? kIntelProvision : kLegacyProvision, "1");
      }
    }
    if (aesmd) {
      c = b.Find(ref.path);
      if (!HasEnv(*c, "SGX_AESM_ADDR")) {
        b.Append(Join(ref.path, {std::string("env")}),
                 json{{"name", "SGX_AESM_ADDR"}, {"value", "1"}});
      }
      c = b.Find(ref.path);
      if (mount_volume && !HasMountAt(*c, kAesmdDir)) {
        json mount = {{"name", volume}, {"mountPath", kAesmdDir}};
        // App containers only connect to the socket (works on a read-only mount); aesmd itself
        // creates it.
        if (ref.name != kAesmdQuoteProvider) mount["readOnly"] = true;
        b.Append(Join(ref.path, {std::string("volumeMounts")}), mount);
      }
    }
  }
  if (make_volume) {
    b.Append({std::string("spec"), std::string("volumes")},
             json{{"name", kAesmdVolumeName}, {"emptyDir", {{"medium", "Memory"}}}});
  }

  // Pod annotations: the total (Intel's, kept current) and the NRI per-container limits.
  const JsonPath annotations = {std::string("metadata"), std::string("annotations")};
  const int64_t total = PodEpcTotal(containers, epc);
  if (all_parsed && total > 0) {
    std::string want = kube::FormatBinaryQuantity(total);
    JsonPath key = Join(annotations, {std::string(kIntelEpc)});
    const json* have = b.Find(key);
    if (!have) {
      b.Add(key, want);
    } else if (*have != want) {
      b.Replace(key, want);
    }
  }
  for (size_t i = 0; i < containers.size(); ++i) {
    if (!sgx[i] || epc[i] <= 0) continue;
    if (containers[i].name.empty()) continue;
    if (containers[i].name.size() > kMaxNriContainerName) {
      out.warnings.push_back("container \"" + containers[i].name + "\": name longer than " +
                             std::to_string(kMaxNriContainerName) + " characters, so no " +
                             kNriEpcAnnotationPrefix + "<name> annotation (an invalid key)");
      continue;
    }
    JsonPath key = Join(annotations, {std::string(kNriEpcAnnotationPrefix) + containers[i].name});
    if (!b.Find(key)) b.Add(key, std::to_string(epc[i]));
  }
  out.patch = b.patch();
  return out;
}

}  // namespace confcom::webhook
