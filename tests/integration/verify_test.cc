// Attestation end to end with the real programs: the helper quotes, sgxctl writes or serves
// the simulated collateral, sgxctl verifies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "integration/helper_process.h"

namespace confcom {
namespace {

testing::CommandResult Sgxctl(const std::string& args) {
  return testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " " + args);
}

class VerifyEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    helper_ = std::make_unique<testing::HelperProcess>(dir_);
    ASSERT_TRUE(helper_->WaitReady()) << helper_->Log();
    for (auto [name, flags] :
         {std::pair{"good", ""}, {"down", "--cpusvn downgraded"}, {"debug", "--debug"}}) {
      auto r = Sgxctl("quote --socket " + helper_->socket() + " --report-data 0a0b " + flags +
                      " -o " + dir_.File(std::string(name) + ".bin"));
      ASSERT_EQ(r.status, 0) << r.output;
    }
    auto c = Sgxctl("collateral --state-dir " + helper_->state() + " -o " + dir_.File("col"));
    ASSERT_EQ(c.status, 0) << c.output;
    root_ = " --root " + dir_.File("col/root_ca.pem");
  }
  nlohmann::json Verify(const std::string& quote, const std::string& args, int expected_status) {
    auto r = Sgxctl("verify --json " + dir_.File(quote) + " " + args);
    EXPECT_EQ(r.status, expected_status) << r.output;
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.output;
    return j;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::HelperProcess> helper_;
  std::string root_;
};

TEST_F(VerifyEndToEndTest, VerdictsAndExitCodes) {
  std::string col = "--collateral " + dir_.File("col");
  auto good = Verify("good.bin", col + root_, 0);
  EXPECT_EQ(good["verdict"], "ACCEPTED");
  EXPECT_EQ(good["result"], "SGX_QL_QV_RESULT_OK");
  EXPECT_EQ(good["tcb_status"], "UpToDate");
  EXPECT_TRUE(good["enclave"]["report_data"].get<std::string>().starts_with("0a0b00"));
  EXPECT_EQ(good["simulated_platform"], true);

  // Intel's root (the default) does not cover the simulated platform, and says so.
  auto intel = Verify("good.bin", col, 1);
  EXPECT_EQ(intel["failed_check"], "pck-chain");
  EXPECT_NE(intel["hint"].get<std::string>().find("--root"), std::string::npos);

  auto down = Verify("down.bin", col + root_, 1);
  EXPECT_EQ(down["verdict"], "NOT ACCEPTED");
  EXPECT_EQ(down["tcb_status"], "OutOfDate");
  EXPECT_EQ(Verify("down.bin", col + root_ + " --accept-out-of-date", 0)["verdict"], "ACCEPTED");

  EXPECT_EQ(Verify("debug.bin", col + root_, 1)["failed_check"], "debug");
  EXPECT_EQ(Verify("debug.bin", col + root_ + " --allow-debug", 0)["verdict"], "ACCEPTED");

  EXPECT_EQ(Verify("good.bin", col + root_ + " --at 2099-01-01T00:00:00Z", 1)["failed_check"],
            "validity");

  auto revoked =
      Sgxctl("collateral --revoke-pck --state-dir " + helper_->state() + " -o " + dir_.File("rev"));
  ASSERT_EQ(revoked.status, 0) << revoked.output;
  auto r = Verify("good.bin", "--collateral " + dir_.File("rev") + root_, 1);
  EXPECT_EQ(r["failed_check"], "revocation");
  EXPECT_EQ(r["result"], "SGX_QL_QV_RESULT_REVOKED");

  // Unusable inputs are exit 2 with a message.
  auto missing = Sgxctl("verify " + dir_.File("good.bin") + " --collateral " + dir_.File("nope"));
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.output.find("tcb_info.json"), std::string::npos) << missing.output;
  auto both = Sgxctl("verify " + dir_.File("good.bin"));
  EXPECT_EQ(both.status, 2);
  auto text = Sgxctl("verify " + dir_.File("good.bin") + " " + col + root_);
  EXPECT_NE(text.output.find("verdict: ACCEPTED"), std::string::npos) << text.output;
}

// A quote in a buffer of the announced size (zero padding) verifies with a warning naming the
// padding, as in Intel's QVL since DCAP 1.18; non-zero bytes after the quote fail.
TEST_F(VerifyEndToEndTest, ZeroPaddingWarnsAndOtherTrailingBytesFail) {
  std::string col = "--collateral " + dir_.File("col") + root_;
  std::string quote = testing::ReadAll(dir_.File("good.bin"));
  testing::WriteAll(dir_.File("padded.bin"), quote + std::string(1000, '\0'));
  testing::WriteAll(dir_.File("smuggled.bin"), quote + std::string(999, '\0') + "x");

  auto padded = Verify("padded.bin", col, 0);
  EXPECT_EQ(padded["verdict"], "ACCEPTED");
  ASSERT_TRUE(padded["warnings"].is_array()) << padded.dump(2);
  std::string warning = padded["warnings"][0].get<std::string>();
  EXPECT_NE(warning.find("1000 bytes after the quote's end (it is " + std::to_string(quote.size()) +
                         " bytes), all zero"),
            std::string::npos)
      << warning;
  EXPECT_NE(warning.find("DCAP 1.18"), std::string::npos) << warning;
  auto text = Sgxctl("verify " + dir_.File("padded.bin") + " " + col);
  EXPECT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("1000 bytes after the quote's end"), std::string::npos) << text.output;
  // The flag that allowed padding before is still accepted (and changes nothing).
  EXPECT_EQ(Verify("padded.bin", col + " --allow-zero-padding", 0)["verdict"], "ACCEPTED");

  auto smuggled = Verify("smuggled.bin", col, 1);
  EXPECT_EQ(smuggled["failed_check"], "quote-format");
  std::string message = smuggled["message"].get<std::string>();
  EXPECT_NE(message.find("not all zero"), std::string::npos) << message;
  EXPECT_NE(message.find("smuggle"), std::string::npos) << message;
}

// `sgxctl pccs` on a free port; the URL is read from its log.
std::string StartPccs(testing::Process& pccs) {
  for (int i = 0; i < 200; ++i) {
    std::string log = pccs.Log();
    auto pos = log.find("http://127.0.0.1:");
    if (pos != std::string::npos) return log.substr(pos, log.find('/', pos + 7) - pos);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

TEST_F(VerifyEndToEndTest, ThroughTheSimulatedPccs) {
  testing::Process pccs(
      {CONFCOM_SGXCTL_BIN, "pccs", "--state-dir", helper_->state(), "--listen", "127.0.0.1:0"},
      dir_.File("pccs.log"));
  std::string url = StartPccs(pccs);
  ASSERT_FALSE(url.empty()) << pccs.Log();
  auto j = Verify("good.bin", "--pccs " + url + root_, 0);
  EXPECT_EQ(j["verdict"], "ACCEPTED");
  // QCNL's pccs_url form (as /etc/sgx_default_qcnl.conf has it) works the same.
  auto qcnl = Verify("good.bin", "--pccs " + url + "/sgx/certification/v4/" + root_, 0);
  EXPECT_EQ(qcnl["verdict"], "ACCEPTED");
  auto v3 = Sgxctl("verify " + dir_.File("good.bin") + " --pccs " + url + "/sgx/certification/v3/" +
                   root_);
  EXPECT_EQ(v3.status, 2) << v3.output;
  EXPECT_NE(v3.output.find("API v3"), std::string::npos) << v3.output;
  std::string log = pccs.Log();
  EXPECT_NE(log.find("GET /sgx/certification/v4/tcb?fmspc=53494d554c41 -> 200"), std::string::npos)
      << log;
  EXPECT_NE(log.find("GET /sgx/certification/v4/pckcrl?ca=platform&encoding=der -> 200"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("SIMULATED"), std::string::npos);
  pccs.Signal(SIGTERM);
  EXPECT_EQ(pccs.Wait(), 0) << pccs.Log();
}

// A platform whose PCK certificates come from the Processor CA: `verify --pccs` fetches that
// CA's CRL (ca=processor), and the quote verifies; its revoked CRL revokes it.
TEST_F(VerifyEndToEndTest, ProcessorCaPlatformThroughThePccs) {
  testing::TempDir dir;
  testing::HelperProcess helper(dir, {"--sim-pck-ca", "processor"});
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  EXPECT_NE(helper.Log().find("PCK certificates from the processor CA"), std::string::npos)
      << helper.Log();
  auto q =
      Sgxctl("quote --socket " + helper.socket() + " --report-data 0c -o " + dir.File("q.bin"));
  ASSERT_EQ(q.status, 0) << q.output;
  auto inspect = Sgxctl("inspect --json " + dir.File("q.bin"));
  EXPECT_NE(inspect.output.find("Intel SGX PCK Processor CA"), std::string::npos) << inspect.output;
  auto c = Sgxctl("collateral --state-dir " + helper.state() + " -o " + dir.File("col"));
  ASSERT_EQ(c.status, 0) << c.output;
  std::string root = " --root " + dir.File("col/root_ca.pem");

  testing::Process pccs(
      {CONFCOM_SGXCTL_BIN, "pccs", "--state-dir", helper.state(), "--listen", "127.0.0.1:0"},
      dir.File("pccs.log"));
  std::string url = StartPccs(pccs);
  ASSERT_FALSE(url.empty()) << pccs.Log();
  auto r = Sgxctl("verify --json " + dir.File("q.bin") + " --pccs " + url + root);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"verdict\": \"ACCEPTED\""), std::string::npos) << r.output;
  EXPECT_NE(pccs.Log().find("GET /sgx/certification/v4/pckcrl?ca=processor&encoding=der -> 200"),
            std::string::npos)
      << pccs.Log();
  pccs.Signal(SIGTERM);
  EXPECT_EQ(pccs.Wait(), 0);

  testing::Process revoked({CONFCOM_SGXCTL_BIN, "pccs", "--revoke-pck", "--state-dir",
                            helper.state(), "--listen", "127.0.0.1:0"},
                           dir.File("pccs-revoked.log"));
  std::string revoked_url = StartPccs(revoked);
  ASSERT_FALSE(revoked_url.empty()) << revoked.Log();
  auto rv = Sgxctl("verify --json " + dir.File("q.bin") + " --pccs " + revoked_url + root);
  EXPECT_EQ(rv.status, 1) << rv.output;
  EXPECT_NE(rv.output.find("revocation"), std::string::npos) << rv.output;
  revoked.Signal(SIGTERM);
  EXPECT_EQ(revoked.Wait(), 0);

  // The helper refuses to turn an existing Processor-CA platform into a Platform-CA one.
  EXPECT_EQ(helper.Stop(), 0);
  testing::HelperProcess other(dir, {"--sim-pck-ca", "platform"}, dir.File("other.sock"),
                               helper.state());
  EXPECT_NE(other.process().Wait(), 0);
  EXPECT_NE(other.Log().find("not the platform CA"), std::string::npos) << other.Log();
}

}  // namespace
}  // namespace confcom
