#include "verify/collateral.h"

#include <gtest/gtest.h>

#include "sgx/att_key_id.h"
#include "sim/collateral_issuer.h"
#include "testing/test_util.h"

namespace confcom::verify {
namespace {

TEST(CollateralTest, ParsesTheSimulatedPlatformsCollateral) {
  testing::TempDir dir;
  auto platform = sim::SimPlatform::LoadOrCreate(dir.File("s"));
  ASSERT_TRUE(platform.ok());
  sim::CollateralOptions o;
  o.now = 1'800'000'000;
  auto c = sim::MakeSimCollateral(*platform, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();

  auto tcb = ParseTcbInfo(c->tcb_info_json);
  ASSERT_TRUE(tcb.ok()) << tcb.status().ToString();
  EXPECT_EQ(tcb->id, "SGX");
  EXPECT_EQ(tcb->version, 3);
  // Back-dated like the certificates, for verifiers whose clock is behind.
  EXPECT_EQ(tcb->issue_date, 1'800'000'000 - sim::kSimBackdate);
  EXPECT_EQ(tcb->next_update, 1'800'000'000 + 30 * 86400);
  EXPECT_EQ(tcb->fmspc, platform->info().fmspc);
  ASSERT_EQ(tcb->levels.size(), 3u);
  EXPECT_EQ(tcb->levels[0].status, TcbStatus::kUpToDate);
  EXPECT_EQ(tcb->levels[2].status, TcbStatus::kOutOfDate);
  EXPECT_EQ(tcb->levels[2].advisory_ids, std::vector<std::string>{sim::kSimAdvisoryId});
  EXPECT_EQ(tcb->levels[1].components, sim::DefaultTcbProfile().components);
  EXPECT_EQ(tcb->signature.size(), 64u);
  // The signed text is the exact object between "tcbInfo": and ,"signature".
  EXPECT_TRUE(
      c->tcb_info_json.starts_with("{\"tcbInfo\":" + tcb->signed_text + ",\"signature\":\""));
  EXPECT_TRUE(platform->tcb_signing_key().Verify(AsBytes(tcb->signed_text), tcb->signature));

  auto qe = ParseQeIdentity(c->qe_identity_json);
  ASSERT_TRUE(qe.ok()) << qe.status().ToString();
  EXPECT_EQ(qe->id, "QE");
  EXPECT_EQ(qe->version, 2);
  EXPECT_EQ(qe->mrsigner, sgx::kIntelQe3MrSigner);
  EXPECT_EQ(qe->isvprodid, 1);
  EXPECT_EQ(qe->miscselect_mask, 0xFFFFFFFFu);
  EXPECT_EQ(qe->attributes[0], 0x11);
  EXPECT_EQ(qe->attributes_mask[0], 0xFB);
  EXPECT_EQ(qe->levels[0].isvsvn, sim::kQeIsvSvn);

  // The issuer chains are what they say.
  EXPECT_NE(c->tcb_signing_chain_pem.find(platform->tcb_signing().ToPem()), std::string::npos);
  EXPECT_TRUE(c->pck_crl_issuer_chain_pem.starts_with(platform->pck_ca().ToPem()));
}

TEST(CollateralTest, CrlsHaveTheRequiredExtensionsAndVerifyWithOpenssl) {
  testing::TempDir dir;
  auto platform = sim::SimPlatform::LoadOrCreate(dir.File("s"));
  sim::CollateralOptions o;
  o.revoke_pck = true;
  auto c = sim::MakeSimCollateral(*platform, o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(WriteCollateralDir(*c, platform->root_ca().ToPem(), dir.File("out")).ok());
  auto r = testing::RunCommand("openssl crl -inform DER -in " + dir.File("out/pck_crl.der") +
                               " -noout -text -CAfile " + dir.File("out/pck_crl_issuer_chain.pem"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("X509v3 CRL Number"), std::string::npos);
  EXPECT_NE(r.output.find("X509v3 Authority Key Identifier"), std::string::npos);
  EXPECT_NE(r.output.find(platform->pck_certificate(1).SerialHex()), std::string::npos)
      << "revoked serial listed";
  auto loaded = LoadCollateralDir(dir.File("out"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->pck_crl_der, c->pck_crl_der);
  EXPECT_EQ(loaded->tcb_info_json, c->tcb_info_json);
}

TEST(CollateralTest, RejectsMalformedDocumentsNamingTheField) {
  auto expect = [](const std::string& doc, const std::string& needle) {
    auto r = ParseTcbInfo(doc);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  expect("not json", "not a JSON object");
  expect(R"({"tcbInfo":{},"signature":"00"})", "signature");
  std::string sig(128, 'a');
  expect(R"({"tcbInfo":{"id":"SGX"},"signature":")" + sig + "\"}", "version");
  expect(
      R"({"tcbInfo":{"id":"SGX","version":3,"issueDate":"yesterday"},"signature":")" + sig + "\"}",
      "issueDate");
  EXPECT_FALSE(ParseQeIdentity(R"({"enclaveIdentity":[]})").ok());
}

TEST(CollateralTest, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339("1970-01-02T00:00:00Z"), 86400);
  EXPECT_EQ(*ParseRfc3339("2026-11-22T17:20:58.123Z"), *ParseRfc3339("2026-11-22T17:20:58Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-22T17:20:58+02:00").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-22").ok());
  EXPECT_EQ(FormatRfc3339(86400), "1970-01-02T00:00:00Z");
}

TEST(CollateralTest, StatusNames) {
  for (auto s :
       {TcbStatus::kUpToDate, TcbStatus::kOutOfDateConfigurationNeeded, TcbStatus::kRevoked}) {
    EXPECT_EQ(*ParseTcbStatus(TcbStatusName(s)), s);
  }
  EXPECT_FALSE(ParseTcbStatus("Fine").ok());
}

}  // namespace
}  // namespace confcom::verify
