#include "quoting/platform_probe.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/test_util.h"

namespace confcom::quoting {
namespace {

void Touch(const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  testing::WriteAll(path, "");
}

TEST(PlatformProbeTest, FindsDevicesLibrariesAndProvider) {
  testing::TempDir root;
  Touch(root.File("dev/sgx_enclave"));
  Touch(root.File("dev/sgx_provision"));
  Touch(root.File("usr/lib/x86_64-linux-gnu/libsgx_dcap_ql.so.1"));
  Touch(root.File("usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1"));
  Touch(root.File("etc/sgx_default_qcnl.conf"));
  auto p = ProbeSgxPlatform(root.path(), "");
  EXPECT_EQ(p.enclave_device, "/dev/sgx_enclave");
  EXPECT_EQ(p.provision_device, "/dev/sgx_provision");
  EXPECT_EQ(p.dcap_library, "/usr/lib/x86_64-linux-gnu/libsgx_dcap_ql.so.1");
  EXPECT_EQ(p.quote_provider, "/usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1");
  EXPECT_EQ(p.qcnl_config, "/etc/sgx_default_qcnl.conf");
  EXPECT_TRUE(p.MissingForDcap().empty());
  EXPECT_TRUE(CheckDeviceOpenable(p.HostPath(p.enclave_device), "SGX enclave device").ok());
  EXPECT_NE(p.Describe().find(root.path()), std::string::npos);
}

TEST(PlatformProbeTest, LegacyDriversAndAzureProvider) {
  testing::TempDir root;
  Touch(root.File("dev/isgx"));
  Touch(root.File("opt/intel/libsgx_dcap_ql.so.1"));
  Touch(root.File("usr/lib/libdcap_quoteprov.so"));
  auto p = ProbeSgxPlatform(root.path(), "/opt/intel/libsgx_dcap_ql.so.1");
  EXPECT_EQ(p.enclave_device, "/dev/isgx");
  EXPECT_EQ(p.provision_device, "");
  EXPECT_EQ(p.dcap_library, "/opt/intel/libsgx_dcap_ql.so.1");
  EXPECT_NE(p.quote_provider_kind.find("az-dcap-client"), std::string::npos);
  testing::TempDir dcap_driver;
  Touch(dcap_driver.File("dev/sgx/enclave"));
  Touch(dcap_driver.File("dev/sgx/provision"));
  auto q = ProbeSgxPlatform(dcap_driver.path(), "");
  EXPECT_EQ(q.enclave_device, "/dev/sgx/enclave");
  EXPECT_EQ(q.provision_device, "/dev/sgx/provision");
}

TEST(PlatformProbeTest, NamesWhatIsMissing) {
  testing::TempDir root;
  auto p = ProbeSgxPlatform(root.path(), "");
  auto missing = p.MissingForDcap();
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_NE(missing[0].find("/dev/sgx_enclave"), std::string::npos);
  EXPECT_NE(missing[1].find("libsgx_dcap_ql.so.1"), std::string::npos);
  auto st = CheckDeviceOpenable(root.File("dev/sgx_enclave"), "SGX enclave device");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot be opened"), std::string::npos);
}

}  // namespace
}  // namespace confcom::quoting
