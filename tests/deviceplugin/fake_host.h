// A fake host tree for --host-root: the cpuid driver file (a sparse file with 16-byte
// registers at offset leaf | subleaf << 32), sysfs NUMA nodes with sgx_total_bytes,
// /proc/cpuinfo and SGX device nodes (plain files: the plugin only checks they exist).
// In a plain file the records of leaves 0, 7 and 0x12.0 overlap (offsets 0, 7, 18), so
// SetCpuid ORs bytes together and SgxCpu writes no vendor string; see fake_host.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace confcom::deviceplugin::testing {

struct FakeSection {
  uint64_t base;
  uint64_t size;
};

class FakeHost {
 public:
  FakeHost();
  const std::string& root() const { return dir_.path(); }
  std::string Path(const std::string& host_path) const { return dir_.path() + host_path; }

  void SetCpuid(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx, uint32_t ecx,
                uint32_t edx);
  // A CPU with SGX1/SGX2/FLC and these EPC sections (leaf 0, 7 and 0x12).
  void SgxCpu(const std::vector<FakeSection>& sections);
  // A CPU without SGX (leaf 0 and 7 written, SGX bit clear).
  void NoSgxCpu();
  // /sys/devices/system/node/node<n>; with sgx_total_bytes when bytes >= 0.
  void NumaNode(int n, int64_t sgx_total_bytes = -1);
  void Cpuinfo(const std::string& flags);
  void AddDevice(const std::string& host_path);
  void RemoveDevice(const std::string& host_path);
  void Symlink(const std::string& host_path, const std::string& target);
  // The usual in-tree driver nodes: /dev/sgx_enclave and /dev/sgx_provision.
  void InTreeDriver();

 private:
  confcom::testing::TempDir dir_;
};

}  // namespace confcom::deviceplugin::testing
