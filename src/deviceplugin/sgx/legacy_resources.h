// The legacy scheme's two resources (the names AKS advertised until 2021), each a small
// Resource for the generic PluginServer. EPC: "kubernetes.azure.com/sgx_epc_mem_in_MiB", one
// device per MiB, one block per NUMA node; a container gets every enclave device node present
// and SGX_EPC_MIB (and SGX_EPC_NUMA_NODES when known), never /dev/sgx_provision, and the aesmd
// socket folder read-only (--aesmd-socket-dir, see AesmdSocketMounts). Provision:
// "kubernetes.azure.com/sgx_provision", a fixed count (--provision-devices, default 2:
// kDefaultProvisionDevices) for the quote helper; a container gets /dev/sgx_provision and the
// enclave nodes. Symlinked device nodes are given as their targets (runtimes refuse symlinks).
// Simulation (--epc-mib on a node without enclave device nodes): always Healthy, only the
// environment. Health rules and details: docs/device-plugin.md.
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

// Where out-of-proc quoting's socket folder is seen in a container (libsgx_quote_ex's default
// with SGX_AESM_ADDR set: /var/run/aesmd/aesm.socket).
inline constexpr const char* kAesmdContainerDir = "/var/run/aesmd";

struct SgxResourceOptions {
  std::string host_root = "/";
  std::string name;  // empty = the default name
  bool simulation = false;
  // The host's aesmd socket folder, given read-only at kAesmdContainerDir to every container
  // that gets the enclave device, while it exists under host_root; empty = never.
  std::string aesmd_socket_dir;
};

// The read-only socket-folder mount `o` gives a container: none when o.aesmd_socket_dir is
// empty or missing on the host (then no container would start: the runtime needs the source).
std::vector<MountSpec> AesmdSocketMounts(const SgxResourceOptions& o);

// The EPC resource of `d` (Healthy while an enclave device node exists: /dev/sgx_enclave,
// /dev/sgx/enclave or /dev/isgx). Never fails. Both resources are immutable but for their
// health checks, which read the host: thread-safe. Their Container() fails with Unavailable
// when the device nodes it needs are gone.
std::shared_ptr<Resource> MakeEpcResource(const SgxDiscovery& d, SgxResourceOptions options);
// The provisioning resource with `count` devices (Healthy while an enclave and a provisioning
// device node exist). Never fails.
std::shared_ptr<Resource> MakeProvisionResource(const SgxDiscovery& d, SgxResourceOptions options,
                                                uint64_t count);

// The host path a device spec should name for `host_path` (seen under `root`): itself, or a
// symlink's target when that exists. Never fails (an unreadable link gives `host_path`).
std::string ResolveHostDevice(const std::string& root, const std::string& host_path);

// True when EPC comes from --epc-mib and the host has no enclave device node at all.
bool IsSimulation(const SgxDiscovery& d);

}  // namespace confcom::deviceplugin
