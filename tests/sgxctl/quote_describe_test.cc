#include "sgxctl/quote_describe.h"

#include <gtest/gtest.h>

#include "quoting/sim_backend.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::sgxctl {
namespace {

TEST(QuoteDescribeTest, DescribesEveryPartOfASimulatedQuote) {
  testing::TempDir dir;
  auto backend =
      quoting::SimBackend::Create(*sim::SimPlatform::LoadOrCreate(dir.File("s"))).value();
  auto key = sgx::EcdsaP256AttKeyId();
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDowngraded;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | sgx::kFlagDebug, 0x3};
  body.isv_prod_id = 42;
  body.report_data.fill(0xab);
  auto report = sgx::MakeSimReport(backend->Init(key)->qe_target_info, body)->Encode();
  auto quote = backend->Quote(report, key, nullptr);
  ASSERT_TRUE(quote.ok());
  auto parsed = sgx::ParseQuoteV3(*quote);
  ASSERT_TRUE(parsed.ok());
  auto j = DescribeQuote(*parsed);

  EXPECT_EQ(j["header"]["version"], 3);
  EXPECT_EQ(j["header"]["qe_vendor"], "Intel");
  EXPECT_EQ(j["app_report"]["isv_prod_id"], 42);
  EXPECT_EQ(j["app_report"]["report_data"], ToHex(body.report_data));
  auto flags = j["app_report"]["attributes"]["flag_names"];
  EXPECT_NE(std::find(flags.begin(), flags.end(), "DEBUG"), flags.end());
  EXPECT_EQ(j["signature_data"]["certification_data"]["type"], 5);
  auto certs = j["signature_data"]["certification_data"]["certificates"];
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0]["subject"],
            "CN=Intel SGX PCK Certificate, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(certs[0]["sgx_extension"]["fmspc"], "53494d554c41");
  // The certified TCB of the level the report's CPUSVN selected (tcbType 0: CPUSVN = components).
  EXPECT_EQ(certs[0]["sgx_extension"]["cpusvn"],
            ToHex(sim::FindTcbProfile(sgx::kSimCpuSvnDowngraded)->CertifiedCpuSvn()));
  EXPECT_EQ(certs[0]["sgx_extension"]["pcesvn"], 13);
  EXPECT_EQ(certs[2]["subject"],
            "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(j["simulated_platform"], true);

  std::string text = RenderText(j);
  EXPECT_NE(text.find("  qe_vendor: Intel\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fmspc: 53494d554c41"), std::string::npos);
  EXPECT_NE(text.find("flag_names: [\"INITTED\",\"DEBUG\",\"MODE64BIT\"]"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace confcom::sgxctl
