// What the node offers for SGX, read from a host tree (every path below --host-root, so tests
// use a fake tree). The EPC size comes from, in this order of trust: --epc-mib; sysfs
// nodeN/x86/sgx_total_bytes (Linux >= 5.17, per NUMA node); CPUID leaf 0x12 through the cpuid
// driver at <root>/dev/cpu/0/cpuid (the CPUID instruction only when that file is absent AND
// the root is "/": a fake tree must never see the real CPU). Sections are mapped to NUMA nodes
// (unknown: -1, then no topology); CPUID and sysfs are cross-checked (a mismatch warns, the
// kernel wins). /proc/cpuinfo flags and the SGX device nodes are reported as found. The rules
// in full: docs/device-plugin.md, "Discovery". Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::deviceplugin {

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

struct EpcSection {
  uint64_t base = 0;
  uint64_t size = 0;
  int64_t numa = -1;
};

// The most --epc-mib gives one NUMA node: 2^30 MiB (1 PiB), so that bytes cannot overflow.
inline constexpr uint64_t kMaxEpcOverrideMib = uint64_t(1) << 30;

// --epc-mib N[:NUMA][,N[:NUMA]...]: MiB of EPC per NUMA node (node 0 when omitted; a node given
// twice adds up). Errors: InvalidArgument naming the part outside MiB 1..2^30, NUMA 0..1023,
// or the node whose parts add up past 2^30 MiB.
Result<std::map<int64_t, uint64_t>> ParseEpcOverride(const std::vector<std::string>& items);

struct DiscoveryOptions {
  std::string host_root = "/";
  std::map<int64_t, uint64_t> epc_override_mib;  // empty = discover
};

struct SgxDiscovery {
  std::string host_root;
  // CPUID
  std::string cpuid_source;    // "<root>/dev/cpu/0/cpuid", "cpuid instruction" or "none"
  bool sgx_supported = false;  // leaf 7.0 EBX bit 2
  bool sgx_lc = false;         // leaf 7.0 ECX bit 30
  bool sgx1 = false, sgx2 = false;
  std::vector<EpcSection> sections;
  // sysfs
  std::vector<int64_t> numa_nodes;              // nodeN folders found
  std::map<int64_t, uint64_t> sysfs_epc_bytes;  // nodes with x86/sgx_total_bytes
  // /proc/cpuinfo
  bool cpuinfo_read = false, cpuinfo_sgx = false, cpuinfo_sgx_lc = false;
  // Device nodes present, as host paths ("/dev/sgx_enclave", ...).
  std::vector<std::string> device_nodes;
  // The result: EPC bytes per NUMA node (-1 = unknown node), and where it came from.
  std::map<int64_t, uint64_t> epc_bytes;
  std::string epc_source;  // "override", "sysfs", "cpuid" or "none"
  std::vector<std::string> warnings;

  // The sum of epc_bytes; UINT64_MAX if it would wrap (Discover never returns such a sum).
  uint64_t total_epc_bytes() const;
  // Whether `host_path` (e.g. "/dev/sgx_enclave") is among device_nodes.
  bool HasDevice(const std::string& host_path) const;
};

// What the host tree offers; missing sources are not errors (they show as "none" and
// warnings). Errors: NotFound when host_root (other than "/") does not exist; a sysfs
// sgx_total_bytes file that cannot be read or is not a number; Corruption when EPC sizes add up
// past 2^64 bytes; InvalidArgument for an override above kMaxEpcOverrideMib on a node.
Result<SgxDiscovery> Discover(const DiscoveryOptions& options);

// Logs what a daemon found at start: each warning; a loud banner when the EPC was set by
// --epc-mib (saying, with `simulation`, that containers get no device); and, when there is
// at least 1 MiB of EPC, its size, nodes, source and the device nodes.
void LogDiscovery(const SgxDiscovery& d, bool simulation);

// `sgx-device-plugin --discover --json` and its text form: every field above.
nlohmann::json ToJson(const SgxDiscovery& d);
std::string ToText(const SgxDiscovery& d);

// <root><path> without doubling the slash.
std::string HostPath(const std::string& root, const std::string& path);

// The SGX device nodes, as host paths. Enclave nodes in order of preference.
inline const std::vector<std::string>& EnclaveDeviceNodes() {
  static const std::vector<std::string> k = {"/dev/sgx_enclave", "/dev/sgx/enclave", "/dev/isgx"};
  return k;
}
inline const std::vector<std::string>& ProvisionDeviceNodes() {
  static const std::vector<std::string> k = {"/dev/sgx_provision", "/dev/sgx/provision"};
  return k;
}

}  // namespace confcom::deviceplugin
