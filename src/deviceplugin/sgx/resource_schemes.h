// Resource schemes as data: a table of the sets of resources sgx-device-plugin can advertise,
// selected by --resource-scheme as a comma-separated list of names. legacy: the EPC in MiB
// devices and kubernetes.azure.com/sgx_provision (provision_devices, default 2: the quote
// helper's rolling update runs a second helper pod beside the first, docs/helper-handover.md).
// intel: sgx.intel.com/enclave and sgx.intel.com/provision (enclave_limit / provision_limit
// shared devices; EPC as the node's extended resource sgx.intel.com/epc, which --register-epc
// sets). A limit or count of 0 leaves that resource out. A new scheme is one table row. The
// table is constant: every function here is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "deviceplugin/framework/resource.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {

// Two quote helper pods (the old one and its surge successor) must fit on a node.
inline constexpr uint64_t kDefaultProvisionDevices = 2;

struct SchemeOptions {
  SgxResourceOptions resource;  // host root, simulation (names are per resource below)
  std::string legacy_epc_name = kEpcResourceName;
  std::string legacy_provision_name = kProvisionResourceName;
  uint64_t provision_devices = kDefaultProvisionDevices;
  uint64_t enclave_limit = 110;
  uint64_t provision_limit = 110;
};

struct ResourceScheme {
  const char* name;
  const char* summary;  // for --help
  // Whether EPC is advertised as the node's extended resource sgx.intel.com/epc.
  bool epc_as_node_resource;
  std::vector<std::shared_ptr<Resource>> (*make)(const SgxDiscovery& d, const SchemeOptions& o);
};

// The table, in the order resources are made and listed.
const std::vector<ResourceScheme>& ResourceSchemes();
// "legacy, intel" style help text listing every scheme.
std::string DescribeSchemes();

// Each known name at most once, in any order ("legacy,intel"). Errors: InvalidArgument for an
// empty, unknown or repeated name, listing the choices.
Result<std::vector<const ResourceScheme*>> ParseSchemes(std::string_view flag);
// Whether one of `schemes` advertises EPC as device plugin devices (legacy does): with
// --register-epc, EPC is then schedulable under two names.
bool AdvertisesEpcAsDevices(const std::vector<const ResourceScheme*>& schemes);

// The resources of `schemes`, in table order. Never fails.
std::vector<std::shared_ptr<Resource>> MakeResources(
    const std::vector<const ResourceScheme*>& schemes, const SgxDiscovery& d,
    const SchemeOptions& o);

}  // namespace confcom::deviceplugin
