#include "verify/quote_platform.h"

#include <gtest/gtest.h>

#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::verify {
namespace {

class QuotePlatformTest : public ::testing::Test {
 protected:
  Bytes QuoteFrom(pki::PckCa ca) {
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File(pki::PckCaName(ca)), nullptr, ca);
    EXPECT_TRUE(platform.ok()) << platform.status().ToString();
    auto backend = quoting::SimBackend::Create(*platform).value();
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    auto report = sgx::MakeSimReport(backend->Init(key)->qe_target_info, body)->Encode();
    return std::move(backend->Quote(report, key, nullptr)).value();
  }
  testing::TempDir dir_;
};

TEST_F(QuotePlatformTest, ReadsTheFmspcAndEitherPckCa) {
  for (pki::PckCa ca : {pki::PckCa::kPlatform, pki::PckCa::kProcessor}) {
    auto p = ReadQuotePlatform(QuoteFrom(ca));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->fmspc, sim::kSimFmspc);
    EXPECT_EQ(p->ca, ca);
    EXPECT_EQ(p->pck_certificate.SubjectCommonName(), "Intel SGX PCK Certificate");
    EXPECT_EQ(p->pck_ca_certificate.SubjectCommonName(), pki::PckCaCommonName(ca));
  }
}

TEST_F(QuotePlatformTest, SaysWhatCannotBeRead) {
  auto message = [](ByteSpan quote) {
    auto p = ReadQuotePlatform(quote);
    EXPECT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument) << p.status().ToString();
    return p.status().message();
  };
  EXPECT_NE(message(AsBytes("short")).find("quote"), std::string::npos);

  sgx::QuoteV3 q = sgx::ParseQuoteV3(QuoteFrom(pki::PckCa::kPlatform))->quote;
  sgx::QuoteV3 one = q;
  std::string pem(AsChars(q.cert_data));
  std::string leaf = pem.substr(0, pem.find("-----END CERTIFICATE-----") + 26);
  one.cert_data.assign(leaf.begin(), leaf.end());
  EXPECT_NE(message(one.Encode()).find("holds 1 certificate"), std::string::npos);

  sgx::QuoteV3 big = q;
  big.cert_data.resize(kMaxPckChainPem + 1, '\n');
  EXPECT_NE(message(big.Encode()).find("over the 16384"), std::string::npos);

  sgx::QuoteV3 swapped = q;  // CA first: the "leaf" has no SGX extension
  std::string rest = pem.substr(leaf.size());
  std::string reordered = rest + leaf;
  swapped.cert_data.assign(reordered.begin(), reordered.end());
  EXPECT_NE(message(swapped.Encode()).find("cannot read the FMSPC"), std::string::npos);
}

}  // namespace
}  // namespace confcom::verify
