#include "deviceplugin/sgx/discovery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "deviceplugin/fake_host.h"

namespace confcom::deviceplugin {
namespace {

using testing::FakeHost;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kGiB = uint64_t(1) << 30;

SgxDiscovery DiscoverIn(const FakeHost& host, std::map<int64_t, uint64_t> override = {}) {
  DiscoveryOptions o;
  o.host_root = host.root();
  o.epc_override_mib = std::move(override);
  auto d = Discover(o);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : SgxDiscovery{};
}

TEST(DiscoveryTest, OneNumaNodeFromCpuidAndSysfs) {
  FakeHost host;
  host.SgxCpu({{0x40000000, 8 * kGiB - 64 * kMiB}});
  host.NumaNode(0, int64_t(8 * kGiB - 64 * kMiB));
  host.Cpuinfo("fpu sse sgx sgx_lc avx");
  host.InTreeDriver();
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.cpuid_source, host.Path("/dev/cpu/0/cpuid"));
  EXPECT_TRUE(d.sgx_supported);
  EXPECT_TRUE(d.sgx_lc);
  EXPECT_TRUE(d.sgx1);
  EXPECT_TRUE(d.sgx2);
  ASSERT_EQ(d.sections.size(), 1u);
  EXPECT_EQ(d.sections[0].base, 0x40000000u);
  EXPECT_EQ(d.sections[0].numa, 0);
  EXPECT_EQ(d.epc_source, "sysfs");
  EXPECT_EQ(d.total_epc_bytes(), 8 * kGiB - 64 * kMiB);
  EXPECT_TRUE(d.cpuinfo_sgx);
  EXPECT_TRUE(d.cpuinfo_sgx_lc);
  EXPECT_TRUE(d.HasDevice("/dev/sgx_enclave"));
  EXPECT_TRUE(d.HasDevice("/dev/sgx_provision"));
  EXPECT_FALSE(d.HasDevice("/dev/isgx"));
  EXPECT_TRUE(d.warnings.empty()) << d.warnings[0];
  auto j = ToJson(d);
  EXPECT_EQ(j["epc"]["total_mib"], 8192 - 64);
  EXPECT_NE(ToText(d).find("8128 MiB from sysfs"), std::string::npos) << ToText(d);
}

TEST(DiscoveryTest, TwoNumaNodesSectionsAboveFourGiB) {
  FakeHost host;
  // Sections above 4 GiB exercise the high bits in EBX/EDX.
  host.SgxCpu({{0x1080000000, 64 * kGiB}, {0x2080000000, 64 * kGiB}});
  host.NumaNode(0, int64_t(64 * kGiB));
  host.NumaNode(1, int64_t(64 * kGiB));
  host.Cpuinfo("sgx sgx_lc");
  host.InTreeDriver();
  SgxDiscovery d = DiscoverIn(host);
  ASSERT_EQ(d.sections.size(), 2u);
  EXPECT_EQ(d.sections[1].base, 0x2080000000u);
  EXPECT_EQ(d.sections[1].size, 64 * kGiB);
  EXPECT_EQ(d.sections[0].numa, 0);
  EXPECT_EQ(d.sections[1].numa, 1);
  ASSERT_EQ(d.epc_bytes.size(), 2u);
  EXPECT_EQ(d.epc_bytes[1], 64 * kGiB);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(DiscoveryTest, NoSgx) {
  FakeHost host;
  host.NoSgxCpu();
  host.NumaNode(0);
  host.Cpuinfo("fpu sse avx");
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_FALSE(d.sgx_supported);
  EXPECT_TRUE(d.sections.empty());
  EXPECT_EQ(d.epc_source, "none");
  EXPECT_EQ(d.total_epc_bytes(), 0u);
  EXPECT_TRUE(d.device_nodes.empty());
  EXPECT_TRUE(d.warnings.empty());
}

// A pod without the hostPath mount: "no such path", never "no SGX".
TEST(DiscoveryTest, MissingHostRootIsNoSuchPathNotNoSgx) {
  FakeHost host;
  DiscoveryOptions o;
  o.host_root = host.root() + "/host";
  auto d = Discover(o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kNotFound);
  EXPECT_NE(d.status().message().find("no such path: " + o.host_root), std::string::npos)
      << d.status().message();
}

TEST(DiscoveryTest, EmptyTreeNeverReadsTheRealCpu) {
  FakeHost host;  // no cpuid file: a fake root must not fall back to the instruction
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.cpuid_source, "none");
  EXPECT_EQ(d.epc_source, "none");
}

TEST(DiscoveryTest, SysfsMissingUsesCpuidSections) {
  FakeHost host;  // an older kernel: no sgx_total_bytes
  host.SgxCpu({{0x80000000, 32 * kGiB}, {0x880000000, 32 * kGiB}});
  host.NumaNode(0);
  host.NumaNode(1);
  host.Cpuinfo("sgx");
  host.AddDevice("/dev/sgx/enclave");  // DCAP out-of-tree driver layout
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.epc_source, "cpuid");
  ASSERT_EQ(d.epc_bytes.size(), 2u);  // one section per node, in address order
  EXPECT_EQ(d.epc_bytes[0], 32 * kGiB);
  EXPECT_EQ(d.epc_bytes[1], 32 * kGiB);
  EXPECT_TRUE(d.HasDevice("/dev/sgx/enclave"));
}

TEST(DiscoveryTest, SysfsMissingAndSectionsDoNotMatchNodesMeansNoTopology) {
  FakeHost host;
  host.SgxCpu({{0x80000000, 1 * kGiB}, {0x880000000, 1 * kGiB}, {0x980000000, 1 * kGiB}});
  host.NumaNode(0);
  host.NumaNode(1);
  host.AddDevice("/dev/isgx");
  SgxDiscovery d = DiscoverIn(host);
  ASSERT_EQ(d.epc_bytes.size(), 1u);
  EXPECT_EQ(d.epc_bytes.begin()->first, -1);
  EXPECT_EQ(d.total_epc_bytes(), 3 * kGiB);
  EXPECT_FALSE(d.warnings.empty());
}

TEST(DiscoveryTest, CpuidAndSysfsMismatchTrustsTheKernel) {
  FakeHost host;
  host.SgxCpu({{0x80000000, 16 * kGiB}});
  host.NumaNode(0, int64_t(12 * kGiB));  // the kernel took less than CPUID announces
  host.Cpuinfo("sgx");
  host.InTreeDriver();
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.epc_source, "sysfs");
  EXPECT_EQ(d.total_epc_bytes(), 12 * kGiB);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("16384 MiB"), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("12288 MiB"), std::string::npos) << d.warnings[0];
}

TEST(DiscoveryTest, CpuHasSgxButKernelDisabledIt) {
  FakeHost host;
  host.SgxCpu({{0x80000000, 4 * kGiB}});
  host.NumaNode(0);
  host.Cpuinfo("fpu sse");
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.epc_source, "cpuid");
  EXPECT_GE(d.warnings.size(), 2u);  // no cpuinfo flag, no device node
}

TEST(DiscoveryTest, OverrideWinsAndParses) {
  auto o = ParseEpcOverride({"4096:0,4096:1", "1024"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ((*o)[0], 5120u);
  EXPECT_EQ((*o)[1], 4096u);
  EXPECT_FALSE(ParseEpcOverride({"0"}).ok());
  EXPECT_FALSE(ParseEpcOverride({"12:x"}).ok());
  EXPECT_FALSE(ParseEpcOverride({"-5"}).ok());
  FakeHost host;
  host.NoSgxCpu();
  SgxDiscovery d = DiscoverIn(host, *o);
  EXPECT_EQ(d.epc_source, "override");
  EXPECT_EQ(d.total_epc_bytes(), 9216 * kMiB);
}

TEST(DiscoveryTest, MalformedSysfsIsAnError) {
  FakeHost host;
  host.NumaNode(0, 0);
  confcom::testing::WriteAll(host.Path("/sys/devices/system/node/node0/x86/sgx_total_bytes"),
                             "lots\n");
  DiscoveryOptions o;
  o.host_root = host.root();
  EXPECT_FALSE(Discover(o).ok());
}

}  // namespace
}  // namespace confcom::deviceplugin
