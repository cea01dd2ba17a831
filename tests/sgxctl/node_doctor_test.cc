// sgxctl doctor's checks against a fake node root and a local PCCS (cpp-httplib).
#include "sgxctl/node_doctor.h"

#include <httplib.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "testing/test_util.h"

namespace confcom::sgxctl {
namespace {

void Touch(const std::string& path, mode_t mode, gid_t gid = 0) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  testing::WriteAll(path, "");
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  ASSERT_EQ(::chown(path.c_str(), 0, gid), 0);  // tests run as root here; see the skip below
}

Identity User(std::vector<gid_t> groups = {}) { return {1000, 1000, std::move(groups)}; }

// A PCCS double: /sgx/certification/v4/rootcacrl answers `status`.
class FakePccs {
 public:
  explicit FakePccs(int status) {
    server_.Get("/sgx/certification/v4/rootcacrl",
                [status](const httplib::Request&, httplib::Response& res) {
                  res.status = status;
                  res.set_content("crl", "application/octet-stream");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Connections queue from bind on; wait so that stop() finds the loop running.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakePccs() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/sgx/certification/v4/";
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class NodeDoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the fake device nodes a group";
    o_.host_root = root_.path();
    o_.identity = User();
    o_.pccs_timeout_ms = 2000;
  }
  void WriteQcnl(const std::string& json) {
    std::filesystem::create_directories(root_.File("etc"));
    testing::WriteAll(root_.File("etc/sgx_default_qcnl.conf"), json);
  }
  testing::TempDir root_;
  DoctorOptions o_;
};

TEST(NodeDoctorAccessTest, ModeBitsOwnerGroupOthersAndRoot) {
  EXPECT_TRUE(MayOpenReadWrite({0, 0, {}}, 5, 5, 0000));
  EXPECT_TRUE(MayOpenReadWrite(User(), 1000, 5, 0600));
  EXPECT_FALSE(MayOpenReadWrite(User(), 1000, 5, 0400));
  EXPECT_FALSE(MayOpenReadWrite(User(), 0, 4242, 0660));
  EXPECT_TRUE(MayOpenReadWrite(User({4242}), 0, 4242, 0660));
  EXPECT_TRUE(MayOpenReadWrite({1000, 4242, {}}, 0, 4242, 0660));
  EXPECT_TRUE(MayOpenReadWrite(User(), 0, 0, 0666));
}

TEST_F(NodeDoctorTest, NoDevicesFailWithAFix) {
  auto f = CheckDevices(o_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kFail);
  EXPECT_NE(f[0].detail.find("no SGX enclave device"), std::string::npos);
  // The default install's names first, the legacy layout's after them.
  EXPECT_NE(f[0].fix.find("request sgx.intel.com/epc: the webhook adds sgx.intel.com/enclave"),
            std::string::npos)
      << f[0].fix;
  EXPECT_NE(f[0].fix.find("legacy layout: request kubernetes.azure.com/sgx_epc_mem_in_MiB"),
            std::string::npos)
      << f[0].fix;
  EXPECT_EQ(f[1].level, Level::kFail);
  EXPECT_NE(f[1].fix.find("request sgx.intel.com/provision: 1 for the quote helper"),
            std::string::npos)
      << f[1].fix;
  EXPECT_NE(f[1].fix.find("legacy layout: kubernetes.azure.com/sgx_provision"), std::string::npos)
      << f[1].fix;
}

TEST_F(NodeDoctorTest, ProvisionDeviceNamesItsGroupAndWhetherThisUserMayOpenIt) {
  Touch(root_.File("dev/sgx_enclave"), 0666);
  Touch(root_.File("dev/sgx_provision"), 0660, 4242);
  std::filesystem::create_directories(root_.File("etc"));
  testing::WriteAll(root_.File("etc/group"), "root:x:0:\nsgx_prv:x:4242:\n");
  auto f = CheckDevices(o_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kOk) << f[0].detail;
  EXPECT_NE(f[0].detail.find("/dev/sgx_enclave"), std::string::npos);
  EXPECT_EQ(f[1].level, Level::kFail) << f[1].detail;
  EXPECT_NE(f[1].detail.find("/dev/sgx_provision: group sgx_prv (gid 4242), mode 0660"),
            std::string::npos)
      << f[1].detail;
  EXPECT_NE(f[1].detail.find("0x4004"), std::string::npos) << f[1].detail;
  EXPECT_NE(f[1].fix.find("gid 4242 in supplementalGroups"), std::string::npos) << f[1].fix;

  o_.identity = User({4242});
  auto member = CheckDevices(o_);
  EXPECT_EQ(member[1].level, Level::kOk) << member[1].detail;
}

TEST_F(NodeDoctorTest, MissingOrBrokenQcnlConfigFails) {
  o_.check_pccs = false;
  auto missing = CheckQcnl(o_);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].level, Level::kFail);
  EXPECT_NE(missing[0].fix.find("deploy/components/quote-helper"), std::string::npos);
  WriteQcnl("PCCS_URL=https://localhost:8081/sgx/certification/v3/\n");
  auto legacy = CheckQcnl(o_);
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_EQ(legacy[0].level, Level::kFail);
  EXPECT_NE(legacy[0].detail.find("KEY=VALUE"), std::string::npos) << legacy[0].detail;
}

TEST_F(NodeDoctorTest, ReportsPccsUrlAndWhetherItAnswers) {
  FakePccs pccs(200);
  WriteQcnl("{\"pccs_url\": \"" + pccs.url() + "\", \"use_secure_cert\": true}");
  auto f = CheckQcnl(o_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kOk);
  EXPECT_NE(f[0].detail.find("pccs_url " + pccs.url()), std::string::npos) << f[0].detail;
  EXPECT_EQ(f[1].level, Level::kOk) << f[1].detail;
  EXPECT_NE(f[1].detail.find("rootcacrl: HTTP 200"), std::string::npos) << f[1].detail;

  FakePccs unhappy(503);
  WriteQcnl("{\"pccs_url\": \"" + unhappy.url() + "\", \"use_secure_cert\": false}");
  auto w = CheckQcnl(o_);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].level, Level::kWarn);  // TLS not checked
  EXPECT_EQ(w[1].level, Level::kWarn);
  EXPECT_NE(w[1].detail.find("HTTP 503"), std::string::npos) << w[1].detail;
}

TEST_F(NodeDoctorTest, SilentPccsFailsWithTheNetworkErrorItCauses) {
  int port;
  {
    FakePccs gone(200);
    port = std::stoi(gone.url().substr(std::string("http://127.0.0.1:").size()));
  }
  WriteQcnl("{\"pccs_url\": \"http://127.0.0.1:" + std::to_string(port) +
            "/sgx/certification/v4/\"}");
  auto f = CheckQcnl(o_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].level, Level::kFail) << f[1].detail;
  EXPECT_NE(f[1].detail.find("no answer"), std::string::npos) << f[1].detail;
  EXPECT_NE(f[1].fix.find("0xE019"), std::string::npos);
}

TEST_F(NodeDoctorTest, QuoteProviderLibraries) {
  o_.library_dirs = {"/usr/lib/x86_64-linux-gnu"};
  EXPECT_EQ(CheckQuoteProvider(o_)[0].level, Level::kFail);
  Touch(root_.File("usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1"), 0644);
  EXPECT_EQ(CheckQuoteProvider(o_)[0].level, Level::kWarn);
  Touch(root_.File("usr/lib/x86_64-linux-gnu/libsgx_default_qcnl_wrapper.so.1"), 0644);
  auto ok = CheckQuoteProvider(o_);
  EXPECT_EQ(ok[0].level, Level::kOk);
  EXPECT_NE(ok[0].detail.find("/usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1"),
            std::string::npos);
}

TEST_F(NodeDoctorTest, HelperProbeAndRendering) {
  EXPECT_TRUE(CheckHelper(o_).empty());
  o_.helper_socket = "/var/run/aesmd/aesm.socket";
  o_.ping_helper = [] { return Status::Unavailable("SGX_ERROR_SERVICE_UNAVAILABLE"); };
  auto f = CheckHelper(o_);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kFail);
  o_.ping_helper = [] { return Status::Ok(); };
  EXPECT_EQ(CheckHelper(o_)[0].level, Level::kOk);

  o_.check_pccs = false;
  auto all = RunDoctor(o_);
  EXPECT_TRUE(AnyFailed(all));
  std::string text = RenderFindings(all);
  EXPECT_NE(text.find("FAIL  device          no SGX enclave device"), std::string::npos) << text;
  EXPECT_NE(text.find(" -> fix: "), std::string::npos);
  EXPECT_NE(text.find("OK    helper          /var/run/aesmd/aesm.socket answers"),
            std::string::npos)
      << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), long(all.size()));
}

}  // namespace
}  // namespace confcom::sgxctl
