#include "sim/app_enclave.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace confcom::sim {
namespace {

// A quoting enclave's target info, as a QE would publish it.
sgx::TargetInfo QeTarget() {
  sgx::TargetInfo t;
  t.mr_enclave = crypto::Sha256(AsBytes("a quoting enclave"));
  t.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | sgx::kFlagProvisionKey, 0x3};
  return t;
}

TEST(SimAppEnclaveTest, ReportIsForTheQeAndCarriesIdentityAndReportData) {
  sgx::ReportBody identity = SimAppEnclave::DefaultIdentity();
  identity.isv_prod_id = 9;
  identity.isv_svn = 3;
  SimAppEnclave app(identity);
  sgx::TargetInfo qe = QeTarget();
  auto qe_bytes = qe.Encode();
  Bytes data = {0x00, 0x11, 0x22, 0x33};
  auto report = app.MakeReport(qe_bytes, data);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto encoded = report->Encode();
  // The QE, checking with its own target info, accepts the MAC; another enclave does not.
  auto layout = sgx::CheckSimReportMac(qe, encoded);
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(*layout, sgx::ReportKeyLayout::kSdk219);
  EXPECT_FALSE(sgx::CheckSimReportMac(app.target_info(), encoded).ok());
  EXPECT_EQ(report->body.mr_enclave, identity.mr_enclave);
  EXPECT_EQ(report->body.mr_signer, identity.mr_signer);
  EXPECT_EQ(report->body.isv_prod_id, 9);
  EXPECT_EQ(report->body.isv_svn, 3);
  EXPECT_EQ(report->body.attributes, identity.attributes);
  EXPECT_EQ(report->body.report_data[0], 0x00);
  EXPECT_EQ(report->body.report_data[3], 0x33);
  EXPECT_EQ(report->body.report_data[4], 0x00);
  EXPECT_EQ(report->key_id, sgx::SimReportKeyId());
  // A flipped bit of the body breaks the MAC.
  encoded[100] ^= 1;
  EXPECT_FALSE(sgx::CheckSimReportMac(qe, encoded).ok());
}

TEST(SimAppEnclaveTest, LegacyLayoutIsWhatTheQeFinds) {
  SimAppEnclave app(SimAppEnclave::DefaultIdentity(), sgx::ReportKeyLayout::kLegacy);
  auto report = app.MakeReport(QeTarget().Encode(), Bytes{1});
  ASSERT_TRUE(report.ok());
  auto layout = sgx::CheckSimReportMac(QeTarget(), report->Encode());
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(*layout, sgx::ReportKeyLayout::kLegacy);
}

TEST(SimAppEnclaveTest, BadTargetInfoAndReportDataAreRefused) {
  SimAppEnclave app(SimAppEnclave::DefaultIdentity());
  auto ti = QeTarget().Encode();
  auto short_ti = app.MakeReport(ByteSpan(ti.data(), 100), Bytes{});
  ASSERT_FALSE(short_ti.ok());
  EXPECT_NE(short_ti.status().message().find("expected 512 bytes, got 100"), std::string::npos);

  sgx::TargetInfo zero = QeTarget();
  zero.mr_enclave = {};
  auto z = app.MakeReport(zero.Encode(), Bytes{});
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("all-zero MRENCLAVE"), std::string::npos);

  sgx::TargetInfo uninit = QeTarget();
  uninit.attributes.flags &= ~sgx::kFlagInitted;
  auto u = app.MakeReport(uninit.Encode(), Bytes{});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("INIT"), std::string::npos);

  auto big = app.MakeReport(ti, Bytes(65, 1));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("at most 64 bytes"), std::string::npos);
  EXPECT_TRUE(app.MakeReport(ti, Bytes(64, 1)).ok());
}

TEST(SimAppEnclaveTest, ChecksTheQeReportBindingNonceAndQuote) {
  SimAppEnclave app(SimAppEnclave::DefaultIdentity());
  Bytes nonce(16, 7), quote = {1, 2, 3, 4, 5};
  // The QE's report, made for the app's target info, binding nonce and quote.
  sgx::ReportBody qe_body;
  qe_body.mr_enclave = QeTarget().mr_enclave;
  qe_body.attributes = QeTarget().attributes;
  auto binding = crypto::Sha256({nonce, quote});
  std::copy(binding.begin(), binding.end(), qe_body.report_data.begin());
  auto qe_report = sgx::MakeSimReport(app.target_info(), qe_body);
  ASSERT_TRUE(qe_report.ok());
  auto bytes = qe_report->Encode();
  EXPECT_TRUE(app.CheckQeReport(bytes, nonce, quote).ok());

  Bytes other_nonce(16, 8);
  Status wrong_nonce = app.CheckQeReport(bytes, other_nonce, quote);
  EXPECT_EQ(wrong_nonce.code(), Status::Code::kCorruption) << wrong_nonce.ToString();
  Bytes other_quote = {1, 2, 3, 4, 6};
  EXPECT_EQ(app.CheckQeReport(bytes, nonce, other_quote).code(), Status::Code::kCorruption);

  // A report made for another enclave does not verify here.
  sgx::ReportBody other = SimAppEnclave::DefaultIdentity();
  other.mr_enclave = crypto::Sha256(AsBytes("another app"));
  SimAppEnclave someone_else(other);
  auto for_other = sgx::MakeSimReport(someone_else.target_info(), qe_body);
  ASSERT_TRUE(for_other.ok());
  Status st = app.CheckQeReport(for_other->Encode(), nonce, quote);
  EXPECT_EQ(st.code(), Status::Code::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("not made for this enclave"), std::string::npos);
}

}  // namespace
}  // namespace confcom::sim
