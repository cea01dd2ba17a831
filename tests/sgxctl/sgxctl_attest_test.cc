// `sgxctl attest` against the real sgx-attest over HTTPS (the test CA), fed the simulated
// platform's collateral by `sgxctl collateral`: a good quote prints the verified claims and
// writes the token (exit 0); a wrong runtimeData is refused with the service's MAA error
// (exit 1); an unreachable URL and a missing file are exit 2; a draft policy's token is
// shown as UNSECURED. Quotes are made in this process with the platform's SimBackend.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <thread>

#include "attest/token/signing.h"
#include "crypto/crypto.h"
#include "https/test_certs.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::sgxctl {
namespace {

using testing::CommandResult;
using testing::Process;
using testing::ReadAll;
using testing::RunCommand;
using testing::WriteAll;

const std::string kAttestBin = SGX_ATTEST_BIN;
const std::string kSgxctlBin = SGXCTL_BIN;

std::string Q(const std::string& s) { return "'" + s + "'"; }

class SgxctlAttest : public ::testing::Test {
 protected:
  void SetUp() override {
    https::WriteServingPair(dir_, "a");
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File("state"));
    ASSERT_TRUE(platform.ok()) << platform.status().ToString();
    backend_ = std::move(quoting::SimBackend::Create(*platform)).value();
    CommandResult c = RunCommand(Q(kSgxctlBin) + " collateral --state-dir " +
                                 Q(dir_.File("state")) + " -o " + Q(dir_.File("collateral")));
    ASSERT_EQ(c.status, 0) << c.output;
    attest_ = std::make_unique<Process>(
        std::vector<std::string>{
            kAttestBin, "--listen", "127.0.0.1:0", "--tls-cert-file", dir_.File("tls.crt"),
            "--tls-private-key-file", dir_.File("tls.key"), "--issuer",
            "https://sgx-attest.confcom.test", "--trust-root", dir_.File("state/root_ca.pem"),
            "--collateral-dir", dir_.File("collateral"), "--metrics-address", "off"},
        dir_.File("attest.log"));
    std::regex re("serving HTTPS on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    for (int i = 0; i < 2000 && port_ == 0 && attest_->running(); ++i) {
      std::string log = attest_->Log();
      if (std::regex_search(log, m, re)) port_ = std::stoi(m[1]);
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(port_, 0) << attest_->Log();
  }

  void TearDown() override {
    if (attest_ && attest_->running()) {
      attest_->Signal(SIGTERM);
      EXPECT_EQ(attest_->Wait(), 0) << attest_->Log();
    }
  }

  // Writes a quote whose REPORTDATA starts with SHA-256(runtime_data) to `name`.
  void WriteQuote(const std::string& name, const std::string& runtime_data) {
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    body.mr_enclave.fill(0xa1);
    body.mr_signer.fill(0xa2);
    body.isv_prod_id = 7;
    body.isv_svn = 3;
    auto digest = crypto::Sha256(AsBytes(runtime_data));
    std::copy(digest.begin(), digest.end(), body.report_data.begin());
    auto report = sgx::MakeSimReport(backend_->Init(key)->qe_target_info, body)->Encode();
    Bytes quote = std::move(backend_->Quote(report, key, nullptr)).value();
    WriteAll(dir_.File(name), std::string(AsChars(quote)));
  }

  CommandResult Attest(const std::string& args) {
    return RunCommand(Q(kSgxctlBin) + " attest --url https://localhost:" + std::to_string(port_) +
                      " --cacert " + Q(dir_.File("ca-a.crt")) + " " + args + " 2>&1");
  }

  testing::TempDir dir_;
  std::unique_ptr<quoting::SimBackend> backend_;
  std::unique_ptr<Process> attest_;
  int port_ = 0;
};

TEST_F(SgxctlAttest, PrintsTheVerifiedClaimsAndWritesTheToken) {
  WriteQuote("quote", "pubkey");
  WriteAll(dir_.File("rd"), "pubkey");
  CommandResult r = Attest("--quote " + Q(dir_.File("quote")) + " --runtime-data " +
                           Q(dir_.File("rd")) + " -o " + Q(dir_.File("token")));
  ASSERT_EQ(r.status, 0) << r.output << attest_->Log();
  EXPECT_NE(r.output.find("token: RS256, verified against https://localhost:"), std::string::npos);
  std::string mrenclave;
  for (int i = 0; i < 32; ++i) mrenclave += "a1";
  EXPECT_NE(r.output.find("mrenclave:      " + mrenclave), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("debuggable:     false"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("product id:     7"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("svn:            3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TCB status:     UpToDate"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("simulated root: YES"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("expires:"), std::string::npos) << r.output;
  std::string token = ReadAll(dir_.File("token"));
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2) << token;
}

TEST_F(SgxctlAttest, AServiceRefusalIsPrintedAsItCameWithExitOne) {
  WriteQuote("quote", "pubkey");
  WriteAll(dir_.File("rd"), "another key");
  CommandResult r =
      Attest("--quote " + Q(dir_.File("quote")) + " --runtime-data " + Q(dir_.File("rd")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("refused (HTTP 400): "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("runtime"), std::string::npos) << r.output;
}

TEST_F(SgxctlAttest, ADraftPolicyAnswersWithAnUnsecuredToken) {
  WriteQuote("quote", "");
  WriteAll(dir_.File("policy"),
           "version=1.0; authorizationrules { => permit(); }; issuancerules "
           "{ c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"who\", "
           "value=c.value); };");
  CommandResult r =
      Attest("--quote " + Q(dir_.File("quote")) + " --draft-policy " + Q(dir_.File("policy")));
  ASSERT_EQ(r.status, 0) << r.output << attest_->Log();
  EXPECT_NE(r.output.find("token: UNSECURED"), std::string::npos) << r.output;
}

TEST_F(SgxctlAttest, UnusableInputsExitTwo) {
  EXPECT_EQ(Attest("--quote " + Q(dir_.File("absent"))).status, 2);
  WriteQuote("quote", "");
  CommandResult r = RunCommand(Q(kSgxctlBin) + " attest --url https://127.0.0.1:1 --quote " +
                               Q(dir_.File("quote")) + " 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
}

}  // namespace
}  // namespace confcom::sgxctl
