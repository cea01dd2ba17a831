// The resources of Intel's SGX device plugin (and of AKS's add-on since 2021), each a small
// Resource for the generic PluginServer: sgx.intel.com/enclave and sgx.intel.com/provision,
// `limit` shared devices each ("sgx-enclave-0", ...), a container getting /dev/sgx_enclave,
// resp. /dev/sgx_provision (rw, same path inside; a symlink given as its target); an enclave
// share also the aesmd socket folder read-only (--aesmd-socket-dir, AesmdSocketMounts). A
// "device" is a share of one device node: the count only bounds how many containers use it.
// Health per resource from its own node, watched with inotify on /dev. EPC is the Node's
// extended resource sgx.intel.com/epc (epc_registrar.h). What this takes from Intel's plugin
// and where it differs: docs/device-plugin.md, "The intel scheme".
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

// The resource with `limit` shares of /dev/sgx_enclave, resp. /dev/sgx_provision (Healthy
// while that node exists; always Healthy, no device specs, in simulation; the enclave resource
// gives the socket folder mount in both). Never fails. The
// resources are immutable but for their health checks, which read the host: thread-safe.
std::shared_ptr<Resource> MakeIntelEnclaveResource(SgxResourceOptions options, uint64_t limit);
std::shared_ptr<Resource> MakeIntelProvisionResource(SgxResourceOptions options, uint64_t limit);

}  // namespace confcom::deviceplugin
