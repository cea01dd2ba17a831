// What a node offers for real SGX quoting, read from the filesystem under a host-root prefix
// (tests use a fake tree): the enclave and provisioning device nodes, DCAP's quote library,
// the quote provider library (Intel's default QPL or Azure's az-dcap-client) and its config.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::quoting {

inline constexpr char kDcapLibraryName[] = "libsgx_dcap_ql.so.1";

struct SgxPlatformProbe {
  std::string host_root;         // "" for "/"
  std::string enclave_device;    // /dev/sgx_enclave, /dev/sgx/enclave or /dev/isgx; "" if none
  std::string provision_device;  // /dev/sgx_provision or /dev/sgx/provision; "" if none
  std::string dcap_library;      // path as seen from the host root; "" if not found
  std::string quote_provider;    // libdcap_quoteprov.so[.1]; "" if not found
  std::string quote_provider_kind;
  std::string qcnl_config;  // /etc/sgx_default_qcnl.conf if present

  // Prefixes a host path with the host root.
  std::string HostPath(const std::string& path) const { return host_root + path; }
  // What is missing for DCAP quoting, in words (empty when nothing is).
  std::vector<std::string> MissingForDcap() const;
  // One line naming what was found, for the start-up log.
  std::string Describe() const;
};

// What the node under `host_root` offers; never fails (absent things are ""). `dcap_library`:
// an explicit path (--dcap-library) or "" to search the standard library folders (and
// $LD_LIBRARY_PATH) for libsgx_dcap_ql.so.1. Reads only the filesystem: safe from any thread.
SgxPlatformProbe ProbeSgxPlatform(const std::string& host_root, const std::string& dcap_library);

// Opens the device node read-write and closes it again: present is not enough. Ok, or
// PermissionDenied naming `what`, the path and errno's reason.
Status CheckDeviceOpenable(const std::string& path, const std::string& what);

}  // namespace confcom::quoting
