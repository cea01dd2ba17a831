#include "deviceplugin/sgx/resource_schemes.h"

#include <algorithm>

#include "deviceplugin/sgx/intel_resources.h"

namespace confcom::deviceplugin {
namespace {

std::vector<std::shared_ptr<Resource>> Legacy(const SgxDiscovery& d, const SchemeOptions& o) {
  std::vector<std::shared_ptr<Resource>> out;
  SgxResourceOptions r = o.resource;
  r.name = o.legacy_epc_name;
  out.push_back(MakeEpcResource(d, r));
  if (o.provision_devices > 0) {
    r.name = o.legacy_provision_name;
    out.push_back(MakeProvisionResource(d, r, o.provision_devices));
  }
  return out;
}

std::vector<std::shared_ptr<Resource>> Intel(const SgxDiscovery&, const SchemeOptions& o) {
  std::vector<std::shared_ptr<Resource>> out;
  SgxResourceOptions r = o.resource;
  r.name.clear();
  if (o.enclave_limit > 0) out.push_back(MakeIntelEnclaveResource(r, o.enclave_limit));
  if (o.provision_limit > 0) out.push_back(MakeIntelProvisionResource(r, o.provision_limit));
  return out;
}

}  // namespace

const std::vector<ResourceScheme>& ResourceSchemes() {
  static const std::vector<ResourceScheme> k = {
      {"legacy",
       "kubernetes.azure.com/sgx_epc_mem_in_MiB (1 device per MiB) and "
       "kubernetes.azure.com/sgx_provision",
       false, &Legacy},
      {"intel",
       "sgx.intel.com/enclave and sgx.intel.com/provision (shared devices); EPC as "
       "the node resource sgx.intel.com/epc (see --register-epc)",
       true, &Intel},
  };
  return k;
}

std::string DescribeSchemes() {
  std::string s;
  for (const auto& r : ResourceSchemes()) {
    s += std::string(s.empty() ? "" : "; ") + r.name + ": " + r.summary;
  }
  return s;
}

Result<std::vector<const ResourceScheme*>> ParseSchemes(std::string_view flag) {
  std::string choices;
  for (const auto& r : ResourceSchemes())
    choices += std::string(choices.empty() ? "" : ", ") + r.name;
  std::vector<const ResourceScheme*> out;
  size_t start = 0;
  for (;;) {
    size_t comma = flag.find(',', start);
    std::string_view item = flag.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const ResourceScheme* found = nullptr;
    for (const auto& r : ResourceSchemes()) {
      if (item == r.name) found = &r;
    }
    if (!found) {
      return Status::InvalidArgument("--resource-scheme: '" + std::string(item.substr(0, 64)) +
                                     "' is not a scheme (choices: " + choices +
                                     ", comma-separated)");
    }
    if (std::find(out.begin(), out.end(), found) != out.end()) {
      return Status::InvalidArgument(std::string("--resource-scheme: '") + found->name +
                                     "' given twice");
    }
    out.push_back(found);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Table order, whatever the flag's order: the resources come out the same way each time.
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::shared_ptr<Resource>> MakeResources(
    const std::vector<const ResourceScheme*>& schemes, const SgxDiscovery& d,
    const SchemeOptions& o) {
  std::vector<std::shared_ptr<Resource>> out;
  for (const ResourceScheme* s : schemes) {
    for (auto& r : s->make(d, o)) out.push_back(std::move(r));
  }
  return out;
}

bool AdvertisesEpcAsDevices(const std::vector<const ResourceScheme*>& schemes) {
  for (const auto* s : schemes) {
    if (!s->epc_as_node_resource) return true;
  }
  return false;
}

}  // namespace confcom::deviceplugin
