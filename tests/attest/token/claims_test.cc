#include "attest/token/claims.h"

#include <gtest/gtest.h>

#include <set>

namespace confcom::attest {
namespace {

using nlohmann::json;

sgx::ReportBody Report() {
  sgx::ReportBody r;
  for (size_t i = 0; i < 32; ++i) {
    r.mr_enclave[i] = uint8_t(0xA0 + i);
    r.mr_signer[i] = uint8_t(0x0B + i);
  }
  r.isv_prod_id = 4639;
  r.isv_svn = 7;
  r.attributes.flags = sgx::kFlagInitted | sgx::kFlagMode64Bit;
  return r;
}

SgxClaimsInput Input() {
  SgxClaimsInput in;
  in.issuer = "https://attest.example.test";
  in.now = 1767225600;
  in.report = Report();
  in.policy_hash =
      "z0FRjKS0ssQTNur1V6BV8WIrh9M3fzgTo0EfHRvapWU";  // PolicyHash() is attest/policy's
  in.tcb_status = "UpToDate";
  in.collateral.quote[0] = 0xAB;
  return in;
}

TEST(ClaimsTest, MaasSgxClaims) {
  SgxClaimsInput in = Input();
  AttestData rt;
  rt.data = {1, 2, 3, 0xff};
  in.runtime_data = rt;
  in.nonce = "abc";
  json c = *BuildSgxClaims(in);
  EXPECT_EQ(c["iss"], "https://attest.example.test");
  EXPECT_EQ(c["iat"], 1767225600);
  EXPECT_EQ(c["nbf"], 1767225600);
  EXPECT_EQ(c["exp"], 1767225600 + 8 * 3600);
  EXPECT_EQ(c["jti"].get<std::string>().size(), 64u);
  EXPECT_EQ(c["nonce"], "abc");
  EXPECT_EQ(c["x-ms-ver"], "1.0");
  EXPECT_EQ(c["x-ms-attestation-type"], "sgx");
  EXPECT_EQ(c["x-ms-policy-hash"], in.policy_hash);
  EXPECT_EQ(c["x-ms-sgx-is-debuggable"], false);
  EXPECT_EQ(c["x-ms-sgx-mrenclave"],
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
  EXPECT_EQ(c["x-ms-sgx-mrsigner"], ToHex(in.report.mr_signer));
  EXPECT_EQ(c["x-ms-sgx-product-id"], 4639);
  EXPECT_EQ(c["x-ms-sgx-svn"], 7);
  EXPECT_EQ(c["x-ms-sgx-report-data"].get<std::string>().size(), 128u);
  EXPECT_EQ(c["x-ms-sgx-ehd"], "AQID_w");
  EXPECT_FALSE(c.contains("x-ms-runtime"));
  EXPECT_EQ(c["x-ms-sgx-collateral"].size(), 7u);
  EXPECT_EQ(c["x-ms-sgx-collateral"]["quotehash"].get<std::string>().substr(0, 4), "ab00");
  for (const char* k : {"qeidcertshash", "qeidcrlhash", "qeidhash", "tcbinfocertshash",
                        "tcbinfocrlhash", "tcbinfohash"}) {
    EXPECT_EQ(c["x-ms-sgx-collateral"][k].get<std::string>().size(), 64u) << k;
  }
  EXPECT_EQ(c[kTcbStatusClaim], "UpToDate");
  EXPECT_EQ(c[kSimulatedRootClaim], false);
  EXPECT_FALSE(c.contains("x-ms-sgx-config-id"));
  // Keys come out sorted, as in MAA's tokens.
  std::string prev;
  for (const auto& [k, v] : c.items()) {
    EXPECT_LT(prev, k);
    prev = k;
  }
  EXPECT_NE(BuildSgxClaims(in)->at("jti"), c["jti"]);
}

TEST(ClaimsTest, SameNamesAsARecordedMaaToken) {
  // The claim names of MAA's token for a Binary runtimeData and no nonce (sharedwus, 2021,
  // Azure/azure-sdk-for-js recording_attestsgxenclaveshared.js), less those its default
  // policy issued (aas-ehd, is-debuggable, maa-attestationcollateral, maa-ehd, product-id,
  // sgx-mrenclave, sgx-mrsigner, svn, tee).
  const std::set<std::string> maa = {"exp",
                                     "iat",
                                     "iss",
                                     "jti",
                                     "nbf",
                                     "x-ms-attestation-type",
                                     "x-ms-policy-hash",
                                     "x-ms-sgx-collateral",
                                     "x-ms-sgx-ehd",
                                     "x-ms-sgx-is-debuggable",
                                     "x-ms-sgx-mrenclave",
                                     "x-ms-sgx-mrsigner",
                                     "x-ms-sgx-product-id",
                                     "x-ms-sgx-report-data",
                                     "x-ms-sgx-svn",
                                     "x-ms-ver"};
  SgxClaimsInput in = Input();
  AttestData rt;
  rt.data = {1};
  in.runtime_data = rt;
  std::set<std::string> ours;
  auto claims = BuildSgxClaims(in);
  ASSERT_TRUE(claims.ok());
  for (const auto& [k, v] : claims->items()) {
    if (k.rfind("x-confcom-", 0) != 0) ours.insert(k);
  }
  EXPECT_EQ(ours, maa);
}

TEST(ClaimsTest, JsonRuntimeDataBecomesXMsRuntime) {
  SgxClaimsInput in = Input();
  AttestData rt;
  rt.type = DataType::kJson;
  rt.json = {{"jwk", {{"kty", "EC"}}}};
  in.runtime_data = rt;
  in.init_time_data = rt;
  json c = *BuildSgxClaims(in);
  EXPECT_EQ(c["x-ms-runtime"], rt.json);
  EXPECT_EQ(c["x-ms-inittime"], rt.json);
  EXPECT_FALSE(c.contains("x-ms-sgx-ehd"));
}

TEST(ClaimsTest, DebugKssSimulatedAndPolicyClaims) {
  SgxClaimsInput in = Input();
  in.report.attributes.flags |= sgx::kFlagDebug | 0x80;
  in.report.config_svn = 3451;
  in.report.config_id[0] = 0x01;
  in.report.isv_family_id[15] = 0xab;
  in.simulated_root = true;
  in.policy_claims = {{"is-debuggable", true}, {"tee", "sgx"}};
  json c = *BuildSgxClaims(in);
  EXPECT_EQ(c["x-ms-sgx-is-debuggable"], true);
  EXPECT_EQ(c["x-ms-sgx-config-svn"], 3451);
  EXPECT_EQ(c["x-ms-sgx-config-id"].get<std::string>().size(), 128u);
  EXPECT_EQ(c["x-ms-sgx-isv-family-id"], "000000000000000000000000000000ab");
  EXPECT_EQ(c["x-ms-sgx-isv-extended-product-id"], std::string(32, '0'));
  EXPECT_EQ(c[kSimulatedRootClaim], true);
  EXPECT_EQ(c["tee"], "sgx");
  EXPECT_EQ(c["is-debuggable"], true);

  in.policy_claims = {{"x-ms-sgx-mrenclave", "00"}};
  auto bad = BuildSgxClaims(in);
  EXPECT_NE(bad.status().message().find("\"x-ms-sgx-mrenclave\", which the service sets itself"),
            std::string::npos);
  in.policy_claims = json::object();
  in.issuer = "https://attest.example.test/";
  EXPECT_FALSE(BuildSgxClaims(in).ok());
}

TEST(DataCheckTest, RuntimeDataAgainstReportData) {
  sgx::ReportBody r = Report();
  Bytes data = {'k', 'e', 'y'};
  crypto::Sha256Digest d = crypto::Sha256(data);
  std::copy(d.begin(), d.end(), r.report_data.begin());
  EXPECT_TRUE(CheckRuntimeData(r, data).ok());
  Status st = CheckRuntimeData(r, Bytes{'k', 'e', 'Y'});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("runtimeData: SHA-256 "), std::string::npos);
  EXPECT_NE(st.message().find("is not REPORTDATA[0..32) " + ToHex(d)), std::string::npos)
      << st.message();
}

TEST(DataCheckTest, InitTimeDataAgainstConfigId) {
  sgx::ReportBody r = Report();
  Bytes data = {'c', 'f', 'g'};
  crypto::Sha256Digest d = crypto::Sha256(data);
  std::copy(d.begin(), d.end(), r.config_id.begin());
  EXPECT_TRUE(CheckInitTimeData(r, data).ok());
  Status st = CheckInitTimeData(r, Bytes{});
  EXPECT_NE(st.message().find("initTimeData: SHA-256 e3b0c442"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("CONFIGID[0..32)"), std::string::npos);
}

}  // namespace
}  // namespace confcom::attest
