// The resources of Intel's SGX device plugin (and of AKS's add-on since 2021), each a small
// Resource for the generic PluginServer:
//
//   sgx.intel.com/enclave    `limit` shared devices "sgx-enclave-0".."sgx-enclave-<limit-1>";
//                            a container gets /dev/sgx_enclave (rw, same path inside).
//   sgx.intel.com/provision  `limit` shared devices "sgx-provision-0"..; a container gets
//                            /dev/sgx_provision (rw, same path inside).
//
// Each "device" is a share of one device node: the count only bounds how many containers may
// use it at once (Intel's default, 110, is kubelet's default pod limit). Only the in-tree
// driver's nodes count, as in Intel's plugin; a symlink is given as its target (runtimes
// refuse symlinks as devices). Health per resource from its own node: all devices Unhealthy
// (with the reason) while the node is missing, Healthy again when it returns (watched with
// inotify on /dev). Intel's plugin instead advertises nothing when either node is missing at
// start. EPC is not a device here: it is the node's extended resource sgx.intel.com/epc
// (epc_registrar.h). No preferred allocation (all devices are alike). Simulation: Healthy,
// no device specs; the caller logs this loudly.
#pragma once

#include <memory>
#include <string>

#include "deviceplugin/framework/resource.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {

inline constexpr const char* kIntelEnclaveResourceName = "sgx.intel.com/enclave";
inline constexpr const char* kIntelProvisionResourceName = "sgx.intel.com/provision";
inline constexpr const char* kIntelEnclaveEndpoint = "confcom-sgx-intel-enclave.sock";
inline constexpr const char* kIntelProvisionEndpoint = "confcom-sgx-intel-provision.sock";
inline constexpr const char* kIntelEnclaveNode = "/dev/sgx_enclave";
inline constexpr const char* kIntelProvisionNode = "/dev/sgx_provision";
inline constexpr uint64_t kIntelDefaultLimit = 110;

std::shared_ptr<Resource> MakeIntelEnclaveResource(SgxResourceOptions options, uint64_t limit);
std::shared_ptr<Resource> MakeIntelProvisionResource(SgxResourceOptions options, uint64_t limit);

}  // namespace confcom::deviceplugin
