#include "quoting/sim_backend.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstring>
#include <thread>

#include "pki/x509.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::quoting {
namespace {

// Independent ECDSA-P256/SHA-256 verification with OpenSSL's API: raw x‖y key, raw r‖s.
bool OpensslVerify(ByteSpan pub_xy, ByteSpan msg, ByteSpan sig_rs) {
  uint8_t point[65] = {0x04};
  std::memcpy(point + 1, pub_xy.data(), 64);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 65),
                         OSSL_PARAM_construct_end()};
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_fromdata_init(kctx);
  EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(kctx);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(sig_rs.data(), 32, nullptr),
                 BN_bin2bn(sig_rs.data() + 32, 32, nullptr));
  uint8_t* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = pkey != nullptr &&
            EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(md, der, size_t(der_len), msg.data(), msg.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EVP_PKEY_free(pkey);
  return ok;
}

Bytes Sha256(std::initializer_list<ByteSpan> parts) {
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha256(), nullptr);
  for (auto p : parts) EVP_DigestUpdate(c, p.data(), p.size());
  Bytes out(32);
  EVP_DigestFinal_ex(c, out.data(), nullptr);
  EVP_MD_CTX_free(c);
  return out;
}

class SimBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File("state"));
    ASSERT_TRUE(platform.ok()) << platform.status().ToString();
    auto b = SimBackend::Create(std::move(platform).value());
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
    key_ = sgx::EcdsaP256AttKeyId();
    target_ = backend_->Init(key_)->qe_target_info;
  }

  Bytes AppReport(const sgx::Array<16>& cpusvn = sgx::kSimCpuSvnDefault,
                  sgx::ReportKeyLayout layout = sgx::ReportKeyLayout::kSdk219,
                  const sgx::TargetInfo* target = nullptr) {
    sgx::ReportBody body;
    body.cpu_svn = cpusvn;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    body.mr_enclave.fill(0x11);
    body.mr_signer.fill(0x22);
    body.isv_prod_id = 7;
    body.isv_svn = 2;
    body.report_data.fill(0x5d);
    auto report = sgx::MakeSimReport(target ? *target : target_, body, layout);
    auto e = report->Encode();
    return Bytes(e.begin(), e.end());
  }

  testing::TempDir dir_;
  std::unique_ptr<SimBackend> backend_;
  sgx::AttKeyId key_;
  sgx::TargetInfo target_;
};

TEST_F(SimBackendTest, PublishesTheSimulatedQeIdentity) {
  auto info = backend_->Init(key_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->qe_target_info.mr_enclave, sim::SimQeMrEnclave());
  EXPECT_EQ(info->qe_target_info.attributes.flags & sgx::kFlagDebug, 0u) << "QE must not be DEBUG";
  // pub_key_id = SHA-256(attestation key ‖ QE auth data), DCAP's ECDSA id.
  auto pub = backend_->platform().attestation_key().PublicRaw();
  Bytes auth = SimBackend::QeAuthData();
  EXPECT_EQ(Bytes(info->pub_key_id.begin(), info->pub_key_id.end()), Sha256({pub, auth}));
}

TEST_F(SimBackendTest, QuoteSignaturesChainAndBindingCheckWithOpenssl) {
  Bytes report = AppReport();
  auto quote = backend_->Quote(report, key_, nullptr);
  ASSERT_TRUE(quote.ok()) << quote.error().message;
  EXPECT_EQ(quote->size(), *backend_->QuoteSize(key_)) << "every quote has the announced size";
  auto parsed = sgx::ParseQuoteV3(*quote);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const sgx::QuoteV3& q = parsed->quote;

  // Header and app report.
  EXPECT_EQ(q.header.version, 3);
  EXPECT_EQ(q.header.att_key_type, 2);
  EXPECT_EQ(q.header.qe_svn, sim::kQeIsvSvn);
  EXPECT_EQ(q.header.pce_svn, sim::kPceSvn);
  EXPECT_EQ(q.header.qe_vendor_id, sgx::kIntelQeVendorId);
  EXPECT_TRUE(std::equal(q.header.user_data.begin(), q.header.user_data.begin() + 16,
                         backend_->platform().info().qe_id.begin()));
  EXPECT_TRUE(std::equal(report.begin(), report.begin() + 384, quote->begin() + 48));

  // 1. The attestation key signed bytes [0, 432).
  EXPECT_TRUE(OpensslVerify(q.attest_key, ByteSpan(*quote).first(432), q.signature));
  Bytes tampered = *quote;
  tampered[48 + 320] ^= 1;
  EXPECT_FALSE(OpensslVerify(q.attest_key, ByteSpan(tampered).first(432), q.signature));

  // 2. The QE report binds the attestation key and auth data.
  EXPECT_EQ(Bytes(q.qe_report.report_data.begin(), q.qe_report.report_data.begin() + 32),
            Sha256({q.attest_key, q.qe_auth_data}));
  EXPECT_EQ(Bytes(q.qe_report.report_data.begin() + 32, q.qe_report.report_data.end()),
            Bytes(32, 0));
  EXPECT_EQ(q.qe_auth_data, SimBackend::QeAuthData());
  EXPECT_EQ(q.qe_report.mr_signer, sgx::kIntelQe3MrSigner);
  EXPECT_EQ(q.qe_report.isv_prod_id, 1);

  // 3. The PCK key signed the QE report body; the chain leads to the simulated root.
  ASSERT_EQ(q.cert_data_type, sgx::kCertDataPckChain);
  ASSERT_EQ(q.cert_data.back(), 0) << "certification data ends with a NUL like Intel's";
  auto chain = pki::Certificate::ChainFromPem(AsChars(q.cert_data));
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 3u);
  auto pck_pub = (*chain)[0].PublicKey();
  ASSERT_TRUE(pck_pub.ok());
  EXPECT_EQ(pck_pub->PublicRaw(), backend_->platform().pck_key().PublicRaw());
  EXPECT_TRUE(OpensslVerify(pck_pub->PublicRaw(), ByteSpan(*quote).subspan(564, 384),
                            q.qe_report_signature));
  testing::WriteAll(dir_.File("leaf.pem"), (*chain)[0].ToPem());
  testing::WriteAll(dir_.File("ca.pem"), (*chain)[1].ToPem());
  testing::WriteAll(dir_.File("root.pem"), backend_->platform().root_ca().ToPem());
  auto r = testing::RunCommand("openssl verify -CAfile " + dir_.File("root.pem") + " -untrusted " +
                               dir_.File("ca.pem") + " " + dir_.File("leaf.pem"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ((*chain)[2].ToPem(), backend_->platform().root_ca().ToPem());
}

TEST_F(SimBackendTest, ReportForAnotherTargetIsInvalidReport) {
  sgx::TargetInfo other = target_;
  other.mr_enclave[3] ^= 0xff;
  auto quote = backend_->Quote(
      AppReport(sgx::kSimCpuSvnDefault, sgx::ReportKeyLayout::kSdk219, &other), key_, nullptr);
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error().code, aesm::AesmError::kInvalidReport);
  Bytes report = AppReport();
  report[200] ^= 1;
  EXPECT_EQ(backend_->Quote(report, key_, nullptr).error().code, aesm::AesmError::kInvalidReport);
  EXPECT_EQ(backend_->Quote(ByteSpan(report).first(400), key_, nullptr).error().code,
            aesm::AesmError::kParameter);
}

TEST_F(SimBackendTest, AcceptsPre219SdkReports) {
  auto quote = backend_->Quote(AppReport(sgx::kSimCpuSvnDefault, sgx::ReportKeyLayout::kLegacy),
                               key_, nullptr);
  EXPECT_TRUE(quote.ok()) << quote.error().message;
}

TEST_F(SimBackendTest, QeReportInfoIsForTheAppAndBindsNonceAndQuote) {
  sgx::QeReportInfo info;
  info.nonce.fill(0x6e);
  info.app_target_info.mr_enclave.fill(0x11);
  info.app_target_info.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  auto quote = backend_->Quote(AppReport(), key_, &info);
  ASSERT_TRUE(quote.ok());
  auto qe_report = info.qe_report.Encode();
  EXPECT_TRUE(sgx::CheckSimReportMac(info.app_target_info, qe_report).ok());
  EXPECT_EQ(
      Bytes(info.qe_report.body.report_data.begin(), info.qe_report.body.report_data.begin() + 32),
      Sha256({info.nonce, *quote}));
  EXPECT_EQ(info.qe_report.body.mr_enclave, sim::SimQeMrEnclave());
  sgx::TargetInfo not_the_app = info.app_target_info;
  not_the_app.mr_enclave[0] ^= 1;
  EXPECT_FALSE(sgx::CheckSimReportMac(not_the_app, qe_report).ok());
}

TEST_F(SimBackendTest, CpusvnSelectsThePckCertificate) {
  struct Case {
    sgx::Array<16> cpusvn;
    sgx::Array<16> expected;
  } cases[] = {{sgx::kSimCpuSvnDowngraded, sgx::kSimCpuSvnDowngraded},
               {sgx::kSimCpuSvnUpgraded, sgx::kSimCpuSvnUpgraded},
               {sgx::Array<16>{1, 2, 3}, sgx::kSimCpuSvnDefault}};
  for (const auto& c : cases) {
    auto quote = backend_->Quote(AppReport(c.cpusvn), key_, nullptr);
    ASSERT_TRUE(quote.ok());
    auto q = sgx::ParseQuoteV3(*quote)->quote;
    auto chain = pki::Certificate::ChainFromPem(AsChars(q.cert_data));
    // The certificate of the selected level: its certified TCB, not the raw CPUSVN.
    EXPECT_EQ((*chain)[0].SgxExt()->tcb.cpusvn, sim::FindTcbProfile(c.expected)->CertifiedCpuSvn());
    EXPECT_EQ(q.qe_report.cpu_svn, c.expected);
    EXPECT_TRUE(OpensslVerify((*chain)[0].PublicKey()->PublicRaw(),
                              ByteSpan(*quote).subspan(564, 384), q.qe_report_signature));
  }
}

TEST_F(SimBackendTest, ConcurrentQuotesAreAllValid) {
  Bytes report = AppReport();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto quote = backend_->Quote(report, key_, nullptr);
        if (!quote.ok()) continue;
        auto q = sgx::ParseQuoteV3(*quote);
        if (q.ok() &&
            OpensslVerify(q->quote.attest_key, ByteSpan(*quote).first(432), q->quote.signature)) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace confcom::quoting
