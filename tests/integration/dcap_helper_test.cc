// The helper's hardware path without hardware: a fake host tree with SGX device nodes, Intel's
// library names and a test double of libsgx_dcap_ql.so.1 (quotes from the simulated platform).
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/helper_process.h"

namespace confcom {
namespace {

class DcapHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.File("host");
    for (const char* f : {"dev/sgx_enclave", "dev/sgx_provision",
                          "usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1"}) {
      Touch(root_ + "/" + f);
    }
    std::filesystem::copy_file(FAKE_DCAP_FULL,
                               root_ + "/usr/lib/x86_64-linux-gnu/libsgx_dcap_ql.so.1");
  }
  static void Touch(const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    testing::WriteAll(path, "");
  }
  std::unique_ptr<testing::Process> Helper(const std::vector<std::string>& extra,
                                           const std::string& log) {
    std::vector<std::string> argv = {
        CONFCOM_HELPER_BIN,  "--socket", dir_.File("aesm.socket"), "--host-root", root_,
        "--metrics-address", "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<testing::Process>(
        argv, dir_.File(log),
        std::vector<std::string>{"FAKE_DCAP_STATE=" + dir_.File("fake-state"), "SGX_AESM_ADDR=1"});
  }
  testing::TempDir dir_;
  std::string root_;
};

TEST_F(DcapHelperTest, AutoPicksDcapAndServesQuotes) {
  auto helper = Helper({}, "auto.log");
  ASSERT_TRUE(testing::WaitForSocket(dir_.File("aesm.socket"))) << helper->Log();
  auto q =
      testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " quote --socket " +
                          dir_.File("aesm.socket") + " --report-data 99 -o " + dir_.File("q.bin"));
  EXPECT_EQ(q.status, 0) << q.output << helper->Log();
  std::string log = helper->Log();
  EXPECT_NE(log.find("--backend auto: using DCAP"), std::string::npos) << log;
  EXPECT_NE(log.find("SGX_AESM_ADDR was set"), std::string::npos) << log;
  EXPECT_NE(log.find("backend dcap"), std::string::npos) << log;
  EXPECT_EQ(log.find("SIMULATED SGX PLATFORM"), std::string::npos)
      << "the dcap path never announces simulation";
  helper->Signal(SIGTERM);
  EXPECT_EQ(helper->Wait(), 0);
}

TEST_F(DcapHelperTest, PreciseStartupErrors) {
  std::filesystem::remove(root_ + "/dev/sgx_provision");
  auto no_provision = Helper({"--backend", "dcap"}, "noprov.log");
  EXPECT_EQ(no_provision->Wait(), 1);
  EXPECT_NE(no_provision->Log().find("/dev/sgx_provision"), std::string::npos)
      << no_provision->Log();
  Touch(root_ + "/dev/sgx_provision");

  std::filesystem::remove(root_ + "/usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1");
  auto no_qpl = Helper({"--backend", "dcap"}, "noqpl.log");
  EXPECT_EQ(no_qpl->Wait(), 1);
  EXPECT_NE(no_qpl->Log().find("quote provider"), std::string::npos) << no_qpl->Log();
  Touch(root_ + "/usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1");

  std::filesystem::remove(root_ + "/dev/sgx_enclave");
  auto no_device = Helper({}, "nodev.log");
  EXPECT_EQ(no_device->Wait(), 1);
  EXPECT_NE(no_device->Log().find("--backend sim"), std::string::npos) << no_device->Log();
  EXPECT_NE(no_device->Log().find("no SGX enclave device"), std::string::npos) << no_device->Log();
}

}  // namespace
}  // namespace confcom
