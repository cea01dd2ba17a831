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

// Sizes near 2^64 (a forged tree or a broken kernel) must never wrap to a small EPC.
TEST(DiscoveryTest, SysfsSizesThatAddUpPast64BitsAreRefusedNotWrapped) {
  FakeHost host;
  host.NumaNode(0, 0);
  host.NumaNode(1, 0);
  const std::string near_max = std::to_string(UINT64_MAX - 4095);  // 2^64 - 4 KiB
  confcom::testing::WriteAll(host.Path("/sys/devices/system/node/node0/x86/sgx_total_bytes"),
                             near_max + "\n");
  confcom::testing::WriteAll(host.Path("/sys/devices/system/node/node1/x86/sgx_total_bytes"),
                             "8192\n");  // the wrapped sum would be 4 KiB
  DiscoveryOptions o;
  o.host_root = host.root();
  auto d = Discover(o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kCorruption);
  EXPECT_NE(d.status().message().find("past 2^64"), std::string::npos) << d.status().ToString();

  // One node at 2^64-1 alone still adds up (the registrar then refuses it as a quantity).
  FakeHost one;
  one.NumaNode(0, 0);
  confcom::testing::WriteAll(one.Path("/sys/devices/system/node/node0/x86/sgx_total_bytes"),
                             std::to_string(UINT64_MAX) + "\n");
  o.host_root = one.root();
  auto max = Discover(o);
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->total_epc_bytes(), UINT64_MAX);
  EXPECT_EQ(ToJson(*max)["epc"]["total_mib"], UINT64_MAX >> 20);
}

TEST(DiscoveryTest, TotalSaturatesInsteadOfWrapping) {
  SgxDiscovery d;
  d.epc_bytes[0] = UINT64_MAX - 1;
  d.epc_bytes[1] = 2;
  EXPECT_EQ(d.total_epc_bytes(), UINT64_MAX);
  d.epc_bytes[1] = 1;
  EXPECT_EQ(d.total_epc_bytes(), UINT64_MAX);
  d.epc_bytes[1] = 0;
  EXPECT_EQ(d.total_epc_bytes(), UINT64_MAX - 1);
}

TEST(DiscoveryTest, SectionsNearTheLimitDoNotWrapTheNumaMapping) {
  FakeHost host;
  // The largest sections CPUID can describe (2^52 - 4 KiB each) against a sysfs node whose
  // figure the first one plus a wrapped sum could match.
  const uint64_t big = (uint64_t(1) << 52) - 4096;
  host.SgxCpu({{0x1000000000, big}, {0x2000000000, big}});
  host.NumaNode(0, int64_t(big));
  host.NumaNode(1, int64_t(big));
  host.Cpuinfo("sgx sgx_lc");
  host.InTreeDriver();
  SgxDiscovery d = DiscoverIn(host);
  EXPECT_EQ(d.total_epc_bytes(), 2 * big);
  ASSERT_EQ(d.sections.size(), 2u);
  EXPECT_EQ(d.sections[0].numa, 0);
  EXPECT_EQ(d.sections[1].numa, 1);
}

TEST(DiscoveryTest, OverrideSumsPerNodeAreBounded) {
  // 2^30 MiB per node, given once or in parts; one more MiB is refused with the node named.
  auto at_limit = ParseEpcOverride({"536870912:3,536870912:3"});
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_EQ((*at_limit)[3], uint64_t(1) << 30);
  auto over = ParseEpcOverride({"1073741824:3", "1:3"});
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("NUMA node 3"), std::string::npos)
      << over.status().ToString();
  EXPECT_FALSE(ParseEpcOverride({"1073741825"}).ok());
  EXPECT_FALSE(ParseEpcOverride({"18446744073709551615"}).ok());
  EXPECT_FALSE(ParseEpcOverride({"18446744073709551616"}).ok());
  // Every node at the limit: bytes stay exact (2^50 each).
  std::vector<std::string> all;
  for (int n = 0; n < 1024; ++n) all.push_back("1073741824:" + std::to_string(n));
  auto full = ParseEpcOverride(all);
  ASSERT_TRUE(full.ok());
  FakeHost host;
  host.NoSgxCpu();
  SgxDiscovery d = DiscoverIn(host, *full);
  EXPECT_EQ(d.total_epc_bytes(), uint64_t(1) << 60);
  // A map built by hand past the limit is refused by Discover, not shifted out of range.
  DiscoveryOptions o;
  o.host_root = host.root();
  o.epc_override_mib = {{0, uint64_t(1) << 50}};
  EXPECT_EQ(Discover(o).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace confcom::deviceplugin
