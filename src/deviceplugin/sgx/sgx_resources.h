// The two SGX resources, each a small Resource for the generic PluginServer.
//
// EpcResource ("kubernetes.azure.com/sgx_epc_mem_in_MiB"): one device per MiB of EPC, one
// block per NUMA node (topology only with two or more known nodes). Healthy while an enclave
// device node exists under the host root (/dev/sgx_enclave, /dev/sgx/enclave or /dev/isgx);
// all devices go Unhealthy when none does. A container gets every enclave node present (rw,
// same path inside; a symlink such as /dev/sgx/enclave -> ../sgx_enclave is given as its
// target, because runtimes refuse symlinks as devices) and SGX_EPC_MIB=<devices>, plus
// SGX_EPC_NUMA_NODES=<a,b> when the nodes are known. Never /dev/sgx_provision.
//
// ProvisionResource ("kubernetes.azure.com/sgx_provision"): a small fixed count (default 1)
// meant only for the quote helper's DaemonSet. A container gets /dev/sgx_provision (or
// /dev/sgx/provision) and the enclave nodes. Healthy while both kinds of node exist.
//
// Simulation (EPC set by --epc-mib on a node without any enclave device node): always Healthy,
// no device specs, only the environment; the caller logs this loudly.
#pragma once

#include <memory>
#include <string>

#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/framework/resource.h"

namespace confcom::deviceplugin {

inline constexpr const char* kEpcResourceName = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
inline constexpr const char* kProvisionResourceName = "kubernetes.azure.com/sgx_provision";
inline constexpr const char* kEpcEndpoint = "confcom-sgx-epc.sock";
inline constexpr const char* kProvisionEndpoint = "confcom-sgx-provision.sock";

struct SgxResourceOptions {
  std::string host_root = "/";
  std::string name;  // empty = the default name
  bool simulation = false;
};

std::shared_ptr<Resource> MakeEpcResource(const SgxDiscovery& d, SgxResourceOptions options);
std::shared_ptr<Resource> MakeProvisionResource(const SgxDiscovery& d, SgxResourceOptions options,
                                                uint64_t count);

// The host path a device spec should name for `host_path` (seen under `root`): itself, or a
// symlink's target when that exists.
std::string ResolveHostDevice(const std::string& root, const std::string& host_path);

// True when EPC comes from --epc-mib and the host has no enclave device node at all.
bool IsSimulation(const SgxDiscovery& d);

}  // namespace confcom::deviceplugin
