#include "verify/verifier.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include <openssl/x509.h>

#include "pki/crl.h"
#include "quoting/sim_backend.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "testing/test_util.h"
#include "verify/json_raw.h"

namespace confcom::verify {
namespace {

constexpr std::time_t kDay = 86400;

class VerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    backend_ = quoting::SimBackend::Create(*sim::SimPlatform::LoadOrCreate(dir_->File("s")))
                   .value()
                   .release();
  }
  static void TearDownTestSuite() {
    delete backend_;
    delete dir_;
  }
  const sim::SimPlatform& platform() const { return backend_->platform(); }

  Bytes Quote(const sgx::Array<16>& cpusvn = sgx::kSimCpuSvnDefault, bool debug = false) {
    return QuoteFrom(*backend_, cpusvn, debug);
  }

  static Bytes QuoteFrom(quoting::SimBackend& backend,
                         const sgx::Array<16>& cpusvn = sgx::kSimCpuSvnDefault,
                         bool debug = false) {
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = cpusvn;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | (debug ? sgx::kFlagDebug : 0),
                       0x3};
    body.mr_enclave.fill(0xe1);
    body.mr_signer.fill(0xe2);
    body.isv_prod_id = 4;
    body.isv_svn = 5;
    body.report_data.fill(0xdd);
    auto report = sgx::MakeSimReport(backend.Init(key)->qe_target_info, body)->Encode();
    return std::move(backend.Quote(report, key, nullptr)).value();
  }

  Collateral MakeCollateral(sim::CollateralOptions o = {}) {
    auto c = sim::MakeSimCollateral(platform(), o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  std::shared_ptr<QuoteVerifier> Verifier(const Collateral& c) {
    auto v = QuoteVerifier::Create(c, platform().root_ca());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return *v;
  }

  // Re-signs a collateral document after `edit` changed its object.
  std::string Edit(const std::string& doc, const char* key,
                   const std::function<void(nlohmann::ordered_json&)>& edit,
                   const crypto::EcKey* signer = nullptr) {
    auto object = nlohmann::ordered_json::parse(*RawMemberText(doc, key));
    edit(object);
    return *sim::SignCollateralObject(signer ? *signer : platform().tcb_signing_key(), key,
                                      object.dump());
  }

  Verdict Run(const Bytes& quote, const Collateral& c, VerifyOptions o = {}) {
    return Verifier(c)->Verify(quote, o);
  }

  // The quote with its PCK certificate replaced by an `edit`ed copy, re-signed by the PCK CA:
  // everything else about it stays valid.
  Bytes WithPckCertificate(const Bytes& quote, const std::function<void(X509*)>& edit) {
    auto parsed = sgx::ParseQuoteV3(quote);
    EXPECT_TRUE(parsed.ok());
    auto chain = pki::Certificate::ChainFromPem(AsChars(parsed->quote.cert_data));
    EXPECT_TRUE(chain.ok());
    X509* x = X509_dup((*chain)[0].x509());
    edit(x);
    EXPECT_GT(X509_sign(x, platform().pck_ca_key().evp(), EVP_sha256()), 0);
    std::string pem =
        pki::Certificate::Adopt(x).ToPem() + (*chain)[1].ToPem() + (*chain)[2].ToPem();
    parsed->quote.cert_data.assign(pem.begin(), pem.end());
    return parsed->quote.Encode();
  }

  static void AddExtension(X509* x, const char* oid, ByteSpan value, bool critical) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, value.data(), int(value.size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, critical ? 1 : 0, data);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(obj);
  }

  static testing::TempDir* dir_;
  static quoting::SimBackend* backend_;
};
testing::TempDir* VerifierTest::dir_ = nullptr;
quoting::SimBackend* VerifierTest::backend_ = nullptr;

TEST_F(VerifierTest, AGoodQuoteVerifiesUpToDate) {
  Bytes quote = Quote();
  Verdict v = Run(quote, MakeCollateral());
  ASSERT_TRUE(v.verified) << v.message;
  EXPECT_EQ(v.result, QvResult::kOk);
  EXPECT_EQ(v.combined_status, TcbStatus::kUpToDate);
  EXPECT_EQ(v.qe_tcb_status, TcbStatus::kUpToDate);
  EXPECT_TRUE(v.advisory_ids.empty());
  ASSERT_TRUE(v.app_report.has_value());
  EXPECT_EQ(v.app_report->isv_prod_id, 4);
  EXPECT_EQ(v.app_report->report_data[0], 0xdd);
  EXPECT_EQ(*v.fmspc, platform().info().fmspc);
}

TEST_F(VerifierTest, EverySingleByteTamperFailsAtTheRightCheck) {
  Bytes quote = Quote();
  auto verifier = Verifier(MakeCollateral());
  // Find a byte inside the PCK leaf certificate's base64 body.
  size_t cert_off = sgx::kQuoteQeAuthDataOffset + 32 + 6;
  size_t leaf_byte = cert_off + 200;
  struct Case {
    const char* what;
    size_t offset;
    Check expected;
  } cases[] = {
      {"header qe_svn", 8, Check::kQuoteSignature},
      {"header user_data", 30, Check::kQuoteSignature},
      {"report body mr_enclave", 48 + 64, Check::kQuoteSignature},
      {"report body isv_svn", 48 + 258, Check::kQuoteSignature},
      {"report_data", 48 + 320 + 7, Check::kQuoteSignature},
      {"quote signature", 436 + 10, Check::kQuoteSignature},
      {"attestation key", 500 + 3, Check::kQeBinding},
      {"QE report mr_enclave", 564 + 64, Check::kQeReportSignature},
      {"QE report report_data", 564 + 320, Check::kQeReportSignature},
      {"QE report signature", 948 + 1, Check::kQeReportSignature},
      {"QE auth data", 1014 + 5, Check::kQeBinding},
      {"PCK certificate", leaf_byte, Check::kPckChain},
  };
  for (const auto& c : cases) {
    Bytes t = quote;
    t[c.offset] ^= (c.expected == Check::kPckChain) ? 0x01 : 0x40;
    Verdict v = verifier->Verify(t);
    EXPECT_FALSE(v.verified) << c.what;
    EXPECT_EQ(v.failed, c.expected) << c.what << ": " << v.message;
    EXPECT_FALSE(v.message.empty());
  }
  // Structural damage is a format failure that says where.
  Verdict truncated = verifier->Verify(ByteSpan(quote).first(1000));
  EXPECT_EQ(truncated.failed, Check::kQuoteFormat);
  EXPECT_NE(truncated.message.find("offset"), std::string::npos) << truncated.message;
}

TEST_F(VerifierTest, WrongRootFailsThePckChain) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  auto intel = QuoteVerifier::Create(c, IntelSgxRootCa());
  ASSERT_TRUE(intel.ok());
  Verdict v = (*intel)->Verify(quote);
  EXPECT_EQ(v.failed, Check::kPckChain);
  EXPECT_EQ(v.result, QvResult::kInvalidSignature);
  testing::TempDir other_dir;
  auto other = sim::SimPlatform::LoadOrCreate(other_dir.File("s"));
  auto foreign = QuoteVerifier::Create(c, other->root_ca());
  EXPECT_EQ((*foreign)->Verify(quote).failed, Check::kPckChain);
}

TEST_F(VerifierTest, ValidityIsCheckedAtTheGivenTime) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  VerifyOptions later;
  later.at = std::time(nullptr) + 45 * kDay;  // certificates still valid, collateral not
  Verdict v = Run(quote, c, later);
  EXPECT_EQ(v.failed, Check::kValidity) << v.message;
  EXPECT_NE(v.message.find("checked at"), std::string::npos);
  VerifyOptions much_later;
  much_later.at = std::time(nullptr) + 3650 * kDay;
  EXPECT_EQ(Run(quote, c, much_later).failed, Check::kValidity);
  VerifyOptions before;
  before.at = std::time(nullptr) - 10 * kDay;
  EXPECT_EQ(Run(quote, c, before).failed, Check::kValidity);
  VerifyOptions soon;
  soon.at = std::time(nullptr) + 10 * kDay;
  EXPECT_TRUE(Run(quote, c, soon).verified);
}

TEST_F(VerifierTest, ARevokedPckIsRevoked) {
  sim::CollateralOptions o;
  o.revoke_pck = true;
  Verdict v = Run(Quote(), MakeCollateral(o));
  EXPECT_FALSE(v.verified);
  EXPECT_EQ(v.failed, Check::kRevocation);
  EXPECT_EQ(v.result, QvResult::kRevoked);
  EXPECT_NE(v.message.find(platform().pck_certificate(1).SerialHex()), std::string::npos)
      << v.message;
}

TEST_F(VerifierTest, TcbLevelsFollowTheCpusvn) {
  Collateral c = MakeCollateral();
  Verdict down = Run(Quote(sgx::kSimCpuSvnDowngraded), c);
  ASSERT_TRUE(down.verified) << down.message;
  EXPECT_EQ(down.result, QvResult::kOutOfDate);
  EXPECT_EQ(down.tcb_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(down.advisory_ids, std::vector<std::string>{sim::kSimAdvisoryId});
  Verdict up = Run(Quote(sgx::kSimCpuSvnUpgraded), c);
  ASSERT_TRUE(up.verified);
  EXPECT_EQ(up.result, QvResult::kOk);
  // A TCB below every level is not supported.
  c.tcb_info_json = Edit(c.tcb_info_json, "tcbInfo",
                         [](auto& j) { j["tcbLevels"].erase(j["tcbLevels"].begin() + 2); });
  Verdict none = Run(Quote(sgx::kSimCpuSvnDowngraded), c);
  EXPECT_EQ(none.failed, Check::kTcbLevel) << none.message;
}

TEST_F(VerifierTest, QeIdentityMismatchAndQeStatus) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  Collateral wrong_signer = c;
  wrong_signer.qe_identity_json = Edit(c.qe_identity_json, "enclaveIdentity",
                                       [](auto& j) { j["mrsigner"] = std::string(64, 'A'); });
  Verdict v = Run(quote, wrong_signer);
  EXPECT_EQ(v.failed, Check::kQeIdentity) << v.message;
  EXPECT_NE(v.message.find("MRSIGNER"), std::string::npos);

  Collateral wrong_prod = c;
  wrong_prod.qe_identity_json =
      Edit(c.qe_identity_json, "enclaveIdentity", [](auto& j) { j["isvprodid"] = 2; });
  EXPECT_EQ(Run(quote, wrong_prod).failed, Check::kQeIdentity);

  Collateral wrong_attrs = c;
  wrong_attrs.qe_identity_json = Edit(c.qe_identity_json, "enclaveIdentity", [](auto& j) {
    j["attributes"] = "13000000000000000000000000000000";  // demands DEBUG
  });
  EXPECT_EQ(Run(quote, wrong_attrs).failed, Check::kQeIdentity);

  // A QE below the newest level is OutOfDate, which makes an UpToDate platform OutOfDate.
  Collateral newer_qe = c;
  newer_qe.qe_identity_json = Edit(c.qe_identity_json, "enclaveIdentity", [](auto& j) {
    j["tcbLevels"][0]["tcb"]["isvsvn"] = 9;
    j["tcbLevels"][1]["tcb"]["isvsvn"] = 8;
  });
  Verdict combined = Run(quote, newer_qe);
  ASSERT_TRUE(combined.verified) << combined.message;
  EXPECT_EQ(combined.tcb_status, TcbStatus::kUpToDate);
  EXPECT_EQ(combined.qe_tcb_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(combined.combined_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(combined.result, QvResult::kOutOfDate);
}

TEST_F(VerifierTest, CollateralSignaturesAndPlatformMatch) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  Collateral forged = c;  // changed after signing
  size_t pos = forged.tcb_info_json.find("UpToDate");
  forged.tcb_info_json.replace(pos, 8, "Revoked\"");
  forged.tcb_info_json.erase(pos + 7, 1);
  EXPECT_EQ(Run(quote, forged).failed, Check::kTcbInfo);

  auto stranger = *crypto::EcKey::Generate();
  Collateral foreign_key = c;
  foreign_key.qe_identity_json = Edit(
      c.qe_identity_json, "enclaveIdentity", [](auto&) {}, &stranger);
  EXPECT_EQ(Run(quote, foreign_key).failed, Check::kQeIdentity);

  Collateral other_fmspc = c;
  other_fmspc.tcb_info_json =
      Edit(c.tcb_info_json, "tcbInfo", [](auto& j) { j["fmspc"] = "00906ED50000"; });
  Verdict v = Run(quote, other_fmspc);
  EXPECT_EQ(v.failed, Check::kPlatformMatch);
  EXPECT_NE(v.message.find("00906ed50000"), std::string::npos) << v.message;

  Collateral tdx = c;
  tdx.tcb_info_json = Edit(c.tcb_info_json, "tcbInfo", [](auto& j) { j["id"] = "TDX"; });
  EXPECT_EQ(Run(quote, tdx).failed, Check::kTcbInfo);

  Collateral swapped_crl = c;
  swapped_crl.pck_crl_der = c.root_ca_crl_der;  // signed by the root, not the PCK's issuer
  EXPECT_EQ(Run(quote, swapped_crl).failed, Check::kCrl);

  EXPECT_FALSE(QuoteVerifier::Create(Collateral{}, platform().root_ca()).ok());
}

// Found by the collateral fuzzer: a second "tcbInfo" member must not replace the signed one.
TEST_F(VerifierTest, ADuplicatedSignedObjectCannotSmuggleFields) {
  Collateral c = MakeCollateral();
  std::string signed_object = std::string(*RawMemberText(c.tcb_info_json, "tcbInfo"));
  std::string forged = signed_object;
  for (size_t pos; (pos = forged.find("OutOfDate")) != std::string::npos;)
    forged.replace(pos, 9, "UpToDate");
  std::string signature = c.tcb_info_json.substr(c.tcb_info_json.find(",\"signature\""));
  c.tcb_info_json = "{\"tcbInfo\":" + signed_object + ",\"tcbInfo\":" + forged + signature;
  auto v = QuoteVerifier::Create(c, platform().root_ca());
  ASSERT_FALSE(v.ok()) << "a document with two tcbInfo members must be refused";
  EXPECT_NE(v.status().message().find("more than one"), std::string::npos) << v.status().message();
}

TEST_F(VerifierTest, DebugEnclavesNeedExplicitConsent) {
  Bytes quote = Quote(sgx::kSimCpuSvnDefault, /*debug=*/true);
  Collateral c = MakeCollateral();
  Verdict v = Run(quote, c);
  EXPECT_EQ(v.failed, Check::kDebug);
  VerifyOptions allow;
  allow.allow_debug = true;
  EXPECT_TRUE(Run(quote, c, allow).verified);
}

// A v3 quote assembled in the test from the spec's offsets with its own attestation key, the
// platform's PCK key and chain: the verifier does not depend on our quote generator.
TEST_F(VerifierTest, VerifiesAHandBuiltQuote) {
  auto attest = *crypto::EcKey::Generate();
  Bytes auth(32);
  for (size_t i = 0; i < 32; ++i) auth[i] = uint8_t(i);
  std::string chain = platform().PckChainPem(1);
  chain.push_back('\0');
  Bytes q(1020 + 32 + chain.size(), 0);
  auto le16 = [&](size_t o, uint16_t v) {
    q[o] = uint8_t(v);
    q[o + 1] = uint8_t(v >> 8);
  };
  auto le32 = [&](size_t o, uint32_t v) {
    for (int i = 0; i < 4; ++i) q[o + i] = uint8_t(v >> (8 * i));
  };
  le16(0, 3);
  le16(2, 2);
  le16(8, 8);
  le16(10, 13);
  std::memcpy(&q[12], sgx::kIntelQeVendorId.data(), 16);
  std::memset(&q[48 + 64], 0x42, 32);  // app mr_enclave
  q[48 + 48] = 0x05;                   // app attributes: INITTED | MODE64BIT
  le32(432, uint32_t(q.size() - 436));
  auto pub = attest.PublicRaw();
  std::memcpy(&q[500], pub.data(), 64);
  // QE report: QE3 identity, report_data = SHA-256(attestation key || auth data).
  size_t qe = 564;
  std::memcpy(&q[qe], sgx::kSimCpuSvnDefault.data(), 16);
  q[qe + 48] = 0x15;
  std::memcpy(&q[qe + 64], sim::SimQeMrEnclave().data(), 32);
  std::memcpy(&q[qe + 128], sgx::kIntelQe3MrSigner.data(), 32);
  le16(qe + 256, 1);
  le16(qe + 258, 8);
  auto binding = crypto::Sha256({pub, auth});
  std::memcpy(&q[qe + 320], binding.data(), 32);
  auto qe_sig = *platform().pck_key().Sign(ByteSpan(q).subspan(qe, 384));
  std::memcpy(&q[948], qe_sig.data(), 64);
  le16(1012, 32);
  std::memcpy(&q[1014], auth.data(), 32);
  le16(1046, 5);
  le32(1048, uint32_t(chain.size()));
  std::memcpy(&q[1052], chain.data(), chain.size());
  auto sig = *attest.Sign(ByteSpan(q).first(432));
  std::memcpy(&q[436], sig.data(), 64);

  Verdict v = Run(q, MakeCollateral());
  ASSERT_TRUE(v.verified) << v.message;
  EXPECT_EQ(v.result, QvResult::kOk);
  EXPECT_EQ(v.app_report->mr_enclave[0], 0x42);
}

// RFC 5280 4.2: a critical extension the verifier does not process fails the certificate, as
// `openssl verify` fails it; the same extension marked non-critical is ignored.
TEST_F(VerifierTest, AnUnknownCriticalExtensionIsRefused) {
  Bytes good = Quote();
  Collateral c = MakeCollateral();
  Bytes utf8 = pki::EncodeUtf8StringDer("x");
  Bytes critical = WithPckCertificate(
      good, [&](X509* x) { AddExtension(x, "1.3.6.1.4.1.32473.9.9", utf8, true); });
  Verdict v = Run(critical, c);
  EXPECT_EQ(v.failed, Check::kPckChain) << v.message;
  EXPECT_NE(v.message.find("critical extension 1.3.6.1.4.1.32473.9.9"), std::string::npos)
      << v.message;
  Bytes plain = WithPckCertificate(
      good, [&](X509* x) { AddExtension(x, "1.3.6.1.4.1.32473.9.9", utf8, false); });
  Verdict ok = Run(plain, c);
  EXPECT_TRUE(ok.verified) << ok.message;

  // The independent check: openssl refuses the same certificate.
  testing::TempDir dir;
  auto chain =
      *pki::Certificate::ChainFromPem(AsChars(sgx::ParseQuoteV3(critical)->quote.cert_data));
  testing::WriteAll(dir.File("pck.pem"), chain[0].ToPem());
  testing::WriteAll(dir.File("ca.pem"), chain[1].ToPem());
  testing::WriteAll(dir.File("root.pem"), chain[2].ToPem());
  auto r = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") + " -untrusted " +
                               dir.File("ca.pem") + " " + dir.File("pck.pem"));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("unhandled critical extension"), std::string::npos) << r.output;
}

TEST_F(VerifierTest, ASecondSgxExtensionIsRefused) {
  Bytes good = Quote();
  auto chain = *pki::Certificate::ChainFromPem(AsChars(sgx::ParseQuoteV3(good)->quote.cert_data));
  // A second SGX extension claiming a better TCB must not be able to win.
  pki::SgxExtension better = *chain[0].SgxExt();
  better.tcb.components.fill(255);
  Bytes value = *pki::EncodeSgxExtension(better);
  Bytes twice = WithPckCertificate(
      good, [&](X509* x) { AddExtension(x, pki::kSgxExtensionOid, value, false); });
  Verdict v = Run(twice, MakeCollateral());
  EXPECT_EQ(v.failed, Check::kPckChain) << v.message;
  EXPECT_NE(v.message.find("1.2.840.113741.1.13.1 more than once"), std::string::npos) << v.message;
  auto reparsed =
      pki::Certificate::ChainFromPem(AsChars(sgx::ParseQuoteV3(twice)->quote.cert_data));
  EXPECT_FALSE((*reparsed)[0].SgxExt().ok());
}

// Intel's QVL refused any byte after the quote up to DCAP 1.16 and accepts a longer buffer,
// zeros or not, since DCAP 1.18. Zero padding (an app's buffer of the announced quote size)
// verifies here with a warning naming it; non-zero bytes always fail (they could smuggle data).
TEST_F(VerifierTest, ZeroPaddingWarnsAndOtherTrailingBytesFail) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  Bytes garbage = quote;
  for (int i = 0; i < 100 * 1024; ++i) garbage.push_back(uint8_t(i * 7 + 1));
  Verdict g = Run(garbage, c);
  EXPECT_EQ(g.failed, Check::kQuoteFormat) << g.message;
  EXPECT_NE(g.message.find("102400 bytes after the quote's end"), std::string::npos) << g.message;
  EXPECT_NE(g.message.find("not all zero"), std::string::npos) << g.message;
  EXPECT_NE(g.message.find("smuggle"), std::string::npos) << g.message;
  EXPECT_NE(g.message.find("send only the first " + std::to_string(quote.size()) + " bytes"),
            std::string::npos)
      << g.message;

  // One non-zero byte at the end of otherwise zero padding is enough to fail.
  Bytes almost = quote;
  almost.resize(quote.size() + 4096, 0);
  almost.back() = 1;
  EXPECT_EQ(Run(almost, c).failed, Check::kQuoteFormat);

  Bytes padded = quote;
  padded.resize(quote.size() + 4096, 0);
  Verdict p = Run(padded, c);
  ASSERT_TRUE(p.verified) << p.message;
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("4096 bytes after the quote's end (it is " +
                               std::to_string(quote.size()) + " bytes), all zero"),
            std::string::npos)
      << p.warnings[0];
  EXPECT_NE(p.warnings[0].find("DCAP 1.18"), std::string::npos) << p.warnings[0];
  EXPECT_TRUE(Run(quote, c).warnings.empty());
}

// QVL checks the signature over the compact re-serialisation of the parsed object: collateral
// re-formatted on its way (pretty-printed by a proxy or a tool) still verifies.
TEST_F(VerifierTest, ReformattedCollateralVerifiesAsInQvl) {
  Bytes quote = Quote();
  Collateral c = MakeCollateral();
  c.tcb_info_json = nlohmann::ordered_json::parse(c.tcb_info_json).dump(2);
  c.qe_identity_json = nlohmann::ordered_json::parse(c.qe_identity_json).dump(4);
  ASSERT_NE(c.tcb_info_json.find("\n  "), std::string::npos);
  Verdict v = Run(quote, c);
  EXPECT_TRUE(v.verified) << v.message;

  // Re-formatting never lets a changed value through.
  Collateral forged = c;
  size_t pos = forged.tcb_info_json.find("\"OutOfDate\"");
  ASSERT_NE(pos, std::string::npos);
  forged.tcb_info_json.replace(pos, 11, "\"UpToDate\"");
  EXPECT_EQ(Run(Quote(sgx::kSimCpuSvnDowngraded), forged).failed, Check::kTcbInfo);
}

// A member twice at any depth is refused: the signed text and the parsed fields could differ.
TEST_F(VerifierTest, ADuplicateMemberAtAnyDepthIsRefused) {
  Collateral c = MakeCollateral();
  size_t pos = c.tcb_info_json.find("\"tcbStatus\":\"OutOfDate\"");
  ASSERT_NE(pos, std::string::npos);
  c.tcb_info_json.insert(pos, "\"tcbStatus\":\"UpToDate\",");
  auto v = QuoteVerifier::Create(c, platform().root_ca());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("more than one \"tcbStatus\""), std::string::npos)
      << v.status().message();
}

// Collateral written the moment a verifier's clock reads a little earlier still verifies.
TEST_F(VerifierTest, FreshCollateralToleratesAClockBehind) {
  Collateral c = MakeCollateral();
  VerifyOptions behind;
  behind.at = std::time(nullptr) - 3600;
  Verdict v = Run(Quote(), c, behind);
  EXPECT_TRUE(v.verified) << v.message;
  auto crl = pki::Crl::FromDer(c.pck_crl_der);
  EXPECT_LE(crl->ThisUpdate(), std::time(nullptr) - sim::kSimBackdate + 5);
  auto tcb = ParseTcbInfo(c.tcb_info_json);
  EXPECT_LE(tcb->issue_date, std::time(nullptr) - sim::kSimBackdate + 5);
}

// A platform whose PCK certificates come from the Processor CA: its own CRL verifies; the
// Platform CA's CRL is refused with the CA to fetch instead.
TEST_F(VerifierTest, ProcessorCaPlatformNeedsTheProcessorCrl) {
  testing::TempDir dir;
  auto platform = sim::SimPlatform::LoadOrCreate(dir.File("s"), nullptr, sim::PckCa::kProcessor);
  ASSERT_TRUE(platform.ok()) << platform.status().ToString();
  auto backend = quoting::SimBackend::Create(*platform).value();
  Bytes quote = QuoteFrom(*backend);

  auto own = sim::MakeSimCollateral(*platform);
  ASSERT_TRUE(own.ok());
  auto verifier = QuoteVerifier::Create(*own, platform->root_ca());
  Verdict v = (*verifier)->Verify(quote);
  EXPECT_TRUE(v.verified) << v.message;

  sim::CollateralOptions wrong;
  wrong.pck_crl_ca = sim::PckCa::kPlatform;
  auto other = sim::MakeSimCollateral(*platform, wrong);
  Verdict w = (*QuoteVerifier::Create(*other, platform->root_ca()))->Verify(quote);
  EXPECT_EQ(w.failed, Check::kCrl) << w.message;
  EXPECT_NE(w.message.find("ca=processor"), std::string::npos) << w.message;

  sim::CollateralOptions revoked;
  revoked.revoke_pck = true;
  auto rev = sim::MakeSimCollateral(*platform, revoked);
  EXPECT_EQ((*QuoteVerifier::Create(*rev, platform->root_ca()))->Verify(quote).failed,
            Check::kRevocation);
}

TEST_F(VerifierTest, ConcurrentVerification) {
  auto verifier = Verifier(MakeCollateral());
  Bytes good = Quote(), down = Quote(sgx::kSimCpuSvnDowngraded);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (verifier->Verify(good).result == QvResult::kOk &&
            verifier->Verify(down).result == QvResult::kOutOfDate) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST(IntelRootTest, IsIntelsPublishedRoot) {
  const auto& root = IntelSgxRootCa();
  EXPECT_EQ(root.Subject(),
            "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(ToHex(crypto::Sha256(root.ToDer())),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
  EXPECT_TRUE(root.IsSignedBy(root));
}

}  // namespace
}  // namespace confcom::verify
