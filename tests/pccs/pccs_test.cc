#include "pccs/pccs.h"

#include <gtest/gtest.h>

#include <httplib.h>

#include <thread>

#include "pki/crl.h"
#include "sim/collateral_issuer.h"
#include "testing/test_util.h"

namespace confcom::pccs {
namespace {

TEST(PercentEncodingTest, RoundTripsPem) {
  std::string pem = "-----BEGIN CERTIFICATE-----\nab+/=\n-----END CERTIFICATE-----\n";
  std::string enc = PercentEncode(pem);
  EXPECT_EQ(enc.find('\n'), std::string::npos);
  EXPECT_NE(enc.find("%2B%2F%3D"), std::string::npos);
  EXPECT_EQ(*PercentDecode(enc), pem);
  EXPECT_FALSE(PercentDecode("%4").ok());
  EXPECT_FALSE(PercentDecode("%zz").ok());
}

// Both forms an operator has at hand: the base URL, and QCNL's pccs_url as
// /etc/sgx_default_qcnl.conf and docs/hardware.md write it.
TEST(PccsUrlTest, TakesTheBaseUrlAndQcnlsPccsUrl) {
  for (const char* url :
       {"https://pccs:8081", "https://pccs:8081/", "https://pccs:8081/sgx/certification/v4/",
        "https://pccs:8081/sgx/certification/v4"}) {
    auto e = ParsePccsUrl(url);
    ASSERT_TRUE(e.ok()) << url << ": " << e.status().message();
    EXPECT_EQ(e->origin, "https://pccs:8081") << url;
    EXPECT_EQ(e->prefix, "/sgx/certification/v4") << url;
  }
  auto proxied = ParsePccsUrl("http://10.0.0.5/pccs/sgx/certification/v4/");
  ASSERT_TRUE(proxied.ok());
  EXPECT_EQ(proxied->origin, "http://10.0.0.5");
  EXPECT_EQ(proxied->prefix, "/pccs/sgx/certification/v4");

  auto v3 = ParsePccsUrl("https://pccs:8081/sgx/certification/v3/");
  ASSERT_FALSE(v3.ok());
  EXPECT_NE(v3.status().message().find("API v3"), std::string::npos) << v3.status().message();
  for (const char* bad : {"pccs:8081", "ftp://pccs", "https://", "https://pccs/other",
                          "https://pccs:8081/sgx/certification/v4/?x=1"}) {
    auto r = ParsePccsUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("/sgx/certification/v4/"), std::string::npos)
        << r.status().message();
  }
}

class PccsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File("s"));
    ASSERT_TRUE(platform.ok());
    fmspc_ = platform->info().fmspc;
    collateral_ = *sim::MakeSimCollateral(*platform);
    processor_crl_ = *sim::MakeSimPckCrl(*platform, pki::PckCa::kProcessor);
    std::map<std::string, verify::PckCrlBundle> crls = {
        {"platform", {collateral_.pck_crl_der, collateral_.pck_crl_issuer_chain_pem}},
        {"processor", processor_crl_}};
    server_ = std::make_unique<PccsServer>(collateral_, fmspc_, crls, /*simulated=*/true);
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Serve().ok()); });
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->Stop();
    thread_.join();
  }
  testing::TempDir dir_;
  sgx::Array<6> fmspc_{};
  verify::Collateral collateral_;
  verify::PckCrlBundle processor_crl_;
  std::unique_ptr<PccsServer> server_;
  std::thread thread_;
  std::string url_;
};

TEST_F(PccsServerTest, ServesTheCollateralWithIssuerChains) {
  auto fetched = FetchCollateral(url_, fmspc_, pki::PckCa::kPlatform);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->tcb_info_json, collateral_.tcb_info_json);
  EXPECT_EQ(fetched->qe_identity_json, collateral_.qe_identity_json);
  EXPECT_EQ(fetched->pck_crl_der, collateral_.pck_crl_der);
  EXPECT_EQ(fetched->root_ca_crl_der, collateral_.root_ca_crl_der);
  EXPECT_EQ(fetched->tcb_signing_chain_pem, collateral_.tcb_signing_chain_pem);
  EXPECT_EQ(fetched->pck_crl_issuer_chain_pem, collateral_.pck_crl_issuer_chain_pem);
}

TEST_F(PccsServerTest, FetchesThroughQcnlsPccsUrlToo) {
  auto fetched = FetchCollateral(url_ + "/sgx/certification/v4/", fmspc_, pki::PckCa::kPlatform);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->tcb_info_json, collateral_.tcb_info_json);
  auto twice = FetchCollateral(url_ + "/sgx/certification/v4/sgx/certification/v4/", fmspc_,
                               pki::PckCa::kPlatform);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("HTTP 404"), std::string::npos)
      << twice.status().message();
}

TEST_F(PccsServerTest, ServesEachPckCasCrl) {
  auto fetched = FetchCollateral(url_, fmspc_, pki::PckCa::kProcessor);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->pck_crl_der, processor_crl_.crl_der);
  EXPECT_NE(fetched->pck_crl_der, collateral_.pck_crl_der);
  EXPECT_EQ(fetched->pck_crl_issuer_chain_pem, processor_crl_.issuer_chain_pem);
  auto crl = pki::Crl::FromDer(fetched->pck_crl_der);
  ASSERT_TRUE(crl.ok());
  EXPECT_NE(crl->Issuer().find("Intel SGX PCK Processor CA"), std::string::npos) << crl->Issuer();
  EXPECT_TRUE(crl->ExtensionValue(sim::kSimMarkerOid).has_value());

  auto r = testing::RunCommand("curl -sS -D - -o /dev/null '" + url_ +
                               "/sgx/certification/v4/pckcrl?ca=bogus'");
  EXPECT_NE(r.output.find(" 404"), std::string::npos) << r.output;
  auto ok = testing::RunCommand("curl -sS -D - -o /dev/null '" + url_ +
                                "/sgx/certification/v4/pckcrl?ca=processor'");
  EXPECT_NE(ok.output.find(" 200"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("Confcom-Simulated: true"), std::string::npos) << ok.output;
}

TEST_F(PccsServerTest, UnknownFmspcIs404AndBadRequestsAre400) {
  sgx::Array<6> other = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
  auto r = FetchCollateral(url_, other, pki::PckCa::kPlatform);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("HTTP 404"), std::string::npos) << r.status().message();
  EXPECT_FALSE(FetchCollateral("http://127.0.0.1:1", fmspc_, pki::PckCa::kPlatform).ok());
}

// API v4's tcbEvaluationDataNumber: the number the PCCS has gives its documents, another a 404
// that says which number it has; not a number, or with `update`, a 400 (as Intel's PCS).
TEST_F(PccsServerTest, AnswersTcbEvaluationDataNumber) {
  auto same = FetchCollateral(url_, fmspc_, pki::PckCa::kPlatform, 1);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->tcb_info_json, collateral_.tcb_info_json);
  EXPECT_EQ(same->qe_identity_json, collateral_.qe_identity_json);

  auto other = FetchCollateral(url_, fmspc_, pki::PckCa::kPlatform, 7);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Status::Code::kNotFound);
  EXPECT_NE(other.status().message().find("tcbEvaluationDataNumber=7 answered HTTP 404: no TCB "
                                          "Info for FMSPC " +
                                          ToHex(fmspc_) +
                                          " with tcbEvaluationDataNumber 7 (this PCCS has number "
                                          "1)"),
            std::string::npos)
      << other.status().message();

  auto code = [&](const std::string& query) {
    auto r = testing::RunCommand("curl -sS -o /dev/null -w '%{http_code}' '" + url_ +
                                 "/sgx/certification/v4/" + query + "'");
    return r.output;
  };
  EXPECT_EQ(code("qe/identity?tcbEvaluationDataNumber=1"), "200");
  EXPECT_EQ(code("qe/identity?tcbEvaluationDataNumber=2"), "404");
  EXPECT_EQ(code("qe/identity?tcbEvaluationDataNumber=x"), "400");
  EXPECT_EQ(code("tcb?fmspc=" + ToHex(fmspc_) + "&tcbEvaluationDataNumber=1&update=early"), "400");
}

// Overload and outages are Unavailable (worth retrying), other answers NotFound.
TEST(FetchCollateralTest, ServerErrorsAreUnavailable) {
  httplib::Server server;
  server.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.path.find("/tcb") != std::string::npos ? 503 : 200;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  auto r = FetchCollateral("http://127.0.0.1:" + std::to_string(port), sim::kSimFmspc,
                           pki::PckCa::kPlatform);
  server.stop();
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("HTTP 503"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace confcom::pccs
