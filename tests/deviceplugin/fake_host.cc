#include "deviceplugin/fake_host.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

namespace confcom::deviceplugin::testing {

namespace fs = std::filesystem;

FakeHost::FakeHost() {
  fs::create_directories(Path("/dev"));
  fs::create_directories(Path("/proc"));
  fs::create_directories(Path("/sys/devices/system/node"));
}

void FakeHost::SetCpuid(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx, uint32_t ecx,
                        uint32_t edx) {
  fs::create_directories(Path("/dev/cpu/0"));
  int fd = ::open(Path("/dev/cpu/0/cpuid").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  uint32_t regs[4] = {eax, ebx, ecx, edx};
  off_t off = off_t(uint64_t(leaf) | (uint64_t(subleaf) << 32));
  // In a plain file the 16-byte records of leaves 0, 7 and 0x12 (sub-leaf 0) overlap, unlike
  // the driver's. OR the bytes together so that every leaf keeps the bits it was given; the
  // extra bits a neighbour adds are ones the plugin does not read.
  unsigned char old[16] = {0};
  [[maybe_unused]] ssize_t r = ::pread(fd, old, sizeof old, off);
  unsigned char* bytes = reinterpret_cast<unsigned char*>(regs);
  for (int i = 0; i < 16; ++i) bytes[i] |= old[i];
  [[maybe_unused]] ssize_t n = ::pwrite(fd, regs, sizeof regs, off);
  ::close(fd);
}

void FakeHost::SgxCpu(const std::vector<FakeSection>& sections) {
  SetCpuid(0, 0, 0x1b, 0, 0, 0);  // max leaf 0x1b (no vendor string: it would overlap leaf 7)
  SetCpuid(7, 0, 0, 1u << 2, 1u << 30, 0);  // SGX, SGX_LC
  SetCpuid(0x12, 0, 0x3, 0, 0, 0x241f);     // SGX1 | SGX2
  uint32_t sub = 2;
  for (const auto& s : sections) {
    SetCpuid(0x12, sub++, uint32_t(s.base & 0xfffff000) | 1, uint32_t(s.base >> 32) & 0xfffff,
             uint32_t(s.size & 0xfffff000) | 1, uint32_t(s.size >> 32) & 0xfffff);
  }
  SetCpuid(0x12, sub, 0, 0, 0, 0);
}

void FakeHost::NoSgxCpu() {
  SetCpuid(0, 0, 0x1b, 0, 0, 0);
  SetCpuid(7, 0, 0, 0, 0, 0);
}

void FakeHost::NumaNode(int n, int64_t sgx_total_bytes) {
  std::string dir = Path("/sys/devices/system/node/node" + std::to_string(n));
  fs::create_directories(dir);
  if (sgx_total_bytes >= 0) {
    fs::create_directories(dir + "/x86");
    confcom::testing::WriteAll(dir + "/x86/sgx_total_bytes",
                               std::to_string(sgx_total_bytes) + "\n");
  }
}

void FakeHost::Cpuinfo(const std::string& flags) {
  std::string text;
  for (int cpu = 0; cpu < 2; ++cpu) {
    text += "processor\t: " + std::to_string(cpu) +
            "\nvendor_id\t: GenuineIntel\nflags\t\t: " + flags + "\n\n";
  }
  confcom::testing::WriteAll(Path("/proc/cpuinfo"), text);
}

void FakeHost::AddDevice(const std::string& host_path) {
  fs::create_directories(fs::path(Path(host_path)).parent_path());
  confcom::testing::WriteAll(Path(host_path), "");
}

void FakeHost::RemoveDevice(const std::string& host_path) {
  std::error_code ec;
  fs::remove(Path(host_path), ec);
}

void FakeHost::Symlink(const std::string& host_path, const std::string& target) {
  fs::create_directories(fs::path(Path(host_path)).parent_path());
  fs::create_symlink(target, Path(host_path));
}

void FakeHost::InTreeDriver() {
  AddDevice("/dev/sgx_enclave");
  AddDevice("/dev/sgx_provision");
}

}  // namespace confcom::deviceplugin::testing
