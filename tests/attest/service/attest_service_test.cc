// sgx-attest's routes without HTTP: quotes of the simulated platform (quoting::SimBackend)
// verified with its collateral (sim::MakeSimCollateral) through a FixedVerifierSource, tokens
// checked as a relying party would (VerifyToken against the GET /certs body), every refusal
// with its status, MAA code and a message naming what failed; the administration API with a
// fake authorizer.
#include "attest/service/attest_service.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "attest/policy/policy_jws.h"
#include "attest/service/fixed_verifier_source.h"
#include "attest/service/options.h"
#include "attest/service/static_token_authorizer.h"
#include "attest/token/request.h"
#include "crypto/crypto.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "testing/test_util.h"

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kIssuer[] = "https://sgx-attest.test";
constexpr char kApiVersion[] = "2022-08-01";

// The authorizer's answers, set per test.
class FakeAuthorizer : public PolicyAdminAuthorizer {
 public:
  Result<AdminDecision> Decide(std::string_view authorization, PolicyAccess access) override {
    last_authorization = std::string(authorization);
    last_access = access;
    if (!status.ok()) return status;
    return decision;
  }
  AdminDecision decision{true, true, "system:serviceaccount:ops:admin", ""};
  Status status;
  std::string last_authorization;
  PolicyAccess last_access = PolicyAccess::kRead;
};

struct Answer {
  int status = 0;
  json body;
};

class AttestServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    backend_ = quoting::SimBackend::Create(*sim::SimPlatform::LoadOrCreate(dir_->File("s")))
                   .value()
                   .release();
    key_ = new SigningKey(
        *SigningKey::Generate(kIssuer, std::time(nullptr) - 3600, std::time(nullptr) + 86400));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete backend_;
    delete dir_;
  }

  void SetUp() override { MakeService({}); }

  void MakeService(sim::CollateralOptions collateral, bool with_admin = true) {
    auto c = sim::MakeSimCollateral(backend_->platform(), collateral);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto source = FixedVerifierSource::Create(*c, backend_->platform().root_ca(), true);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    source_ = std::move(source).value();
    AttestServiceOptions o;
    o.issuer = kIssuer;
    o.keys = *SigningKeySet::Create({*key_});
    o.verifiers = source_.get();
    o.policies = &store_;
    o.admin = with_admin ? &admin_ : nullptr;
    o.metrics = metrics_.get();
    auto service = AttestService::Create(std::move(o));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(service).value();
  }

  // A quote of an enclave whose REPORTDATA starts with SHA-256(runtime_data).
  static Bytes Quote(ByteSpan runtime_data, bool debug = false,
                     const sgx::Array<16>& cpusvn = sgx::kSimCpuSvnDefault) {
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = cpusvn;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | (debug ? sgx::kFlagDebug : 0),
                       0x3};
    body.mr_enclave.fill(0xe1);
    body.mr_signer.fill(0xe2);
    body.isv_prod_id = 4;
    body.isv_svn = 5;
    auto digest = crypto::Sha256(runtime_data);
    std::copy(digest.begin(), digest.end(), body.report_data.begin());
    auto report = sgx::MakeSimReport(backend_->Init(key)->qe_target_info, body)->Encode();
    return std::move(backend_->Quote(report, key, nullptr)).value();
  }

  static Bytes RuntimeData() { return Bytes{'k', 'e', 'y', '-', '1'}; }

  static json Body(const Bytes& quote, const Bytes& runtime_data) {
    return {{"quote", Base64UrlEncode(quote)},
            {"runtimeData", {{"data", Base64UrlEncode(runtime_data)}, {"dataType", "Binary"}}}};
  }

  static https::Request Req(std::string method, std::string path, std::string body,
                            std::optional<std::string> api_version = kApiVersion) {
    https::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    if (api_version) r.query.push_back({"api-version", *api_version});
    r.body = std::move(body);
    r.remote_address = "10.0.0.7";
    return r;
  }

  static Answer Parse(const https::Response& r) {
    EXPECT_EQ(r.content_type, "application/json");
    return {r.status, json::parse(r.body, nullptr, false)};
  }

  Answer Attest(const json& body, EvidenceKind kind = EvidenceKind::kSgxQuote,
                std::optional<std::string> api_version = kApiVersion) {
    return Parse(service_->Attest(
        Req("POST", kind == EvidenceKind::kSgxQuote ? "/attest/SgxEnclave" : "/attest/OpenEnclave",
            body.dump(), api_version),
        kind));
  }

  // The claims of a token from a 200 answer, verified from GET /certs alone.
  json Claims(const Answer& a) {
    EXPECT_EQ(a.status, 200) << a.body.dump();
    std::string jwks = service_->Certs(Req("GET", "/certs", "", std::nullopt)).body;
    auto claims = VerifyToken(a.body.value("token", ""), jwks, std::time(nullptr));
    EXPECT_TRUE(claims.ok()) << claims.status().ToString();
    return claims.ok() ? *claims : json();
  }

  static json Header(const std::string& token) {
    Bytes b = *DecodeBase64Any(token.substr(0, token.find('.')), "header");
    return json::parse(b.begin(), b.end());
  }
  static json Payload(const std::string& token) {
    size_t a = token.find('.'), b = token.find('.', a + 1);
    Bytes p = *DecodeBase64Any(token.substr(a + 1, b - a - 1), "payload");
    return json::parse(p.begin(), p.end());
  }

  static void ExpectError(const Answer& a, int status, const std::string& code,
                          const std::string& message_part) {
    EXPECT_EQ(a.status, status) << a.body.dump();
    EXPECT_EQ(a.body["error"]["code"], code) << a.body.dump();
    EXPECT_NE(a.body["error"].value("message", "").find(message_part), std::string::npos)
        << a.body.dump();
  }

  static testing::TempDir* dir_;
  static quoting::SimBackend* backend_;
  static SigningKey* key_;
  prometheus::Registry registry_;
  std::unique_ptr<AttestMetrics> metrics_ = std::make_unique<AttestMetrics>(registry_);
  InMemoryPolicyStore store_;
  FakeAuthorizer admin_;
  std::unique_ptr<FixedVerifierSource> source_;
  std::unique_ptr<AttestService> service_;
};
testing::TempDir* AttestServiceTest::dir_ = nullptr;
quoting::SimBackend* AttestServiceTest::backend_ = nullptr;
SigningKey* AttestServiceTest::key_ = nullptr;

TEST_F(AttestServiceTest, AGoodQuoteGetsATokenARelyingPartyVerifiesFromCerts) {
  Bytes quote = Quote(RuntimeData());
  json body = Body(quote, RuntimeData());
  body["nonce"] = "n-123";
  Answer a = Attest(body);
  json c = Claims(a);
  json h = Header(a.body["token"]);
  EXPECT_EQ(h["alg"], "RS256");
  EXPECT_EQ(h["jku"], std::string(kIssuer) + "/certs");
  EXPECT_EQ(h["kid"], key_->kid());
  EXPECT_EQ(c["iss"], kIssuer);
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 8 * 3600);
  EXPECT_EQ(c["nonce"], "n-123");
  EXPECT_EQ(c["x-ms-attestation-type"], "sgx");
  EXPECT_EQ(c["x-ms-sgx-mrenclave"], [] {
    std::string s;
    for (int i = 0; i < 32; ++i) s += "e1";
    return s;
  }());
  EXPECT_EQ(c["x-ms-sgx-product-id"], 4);
  EXPECT_EQ(c["x-ms-sgx-svn"], 5);
  EXPECT_EQ(c["x-ms-sgx-is-debuggable"], false);
  EXPECT_EQ(c["x-ms-sgx-ehd"], Base64UrlEncode(RuntimeData()));
  EXPECT_EQ(c["x-ms-policy-hash"], PolicyHash(kDefaultSgxPolicy));
  // The default policy's issuance rules.
  EXPECT_EQ(c["sgx-mrenclave"], c["x-ms-sgx-mrenclave"]);
  EXPECT_EQ(c["is-debuggable"], false);
  EXPECT_EQ(c["tee"], "sgx");
  EXPECT_EQ(c[kTcbStatusClaim], "UpToDate");
  EXPECT_EQ(c[kSimulatedRootClaim], true);
  EXPECT_EQ(c["x-ms-sgx-collateral"]["quotehash"], ToHex(crypto::Sha256(quote)));
  EXPECT_EQ(c["x-ms-sgx-collateral"].size(), 7u);
}

TEST_F(AttestServiceTest, ZeroPaddingAfterTheQuoteIsAcceptedNonZeroRefused) {
  Bytes quote = Quote(RuntimeData());
  Bytes padded = quote;
  padded.resize(quote.size() + 64, 0);
  Claims(Attest(Body(padded, RuntimeData())));
  padded.back() = 1;
  ExpectError(Attest(Body(padded, RuntimeData())), 400, "InvalidParameter", "does not verify");
}

TEST_F(AttestServiceTest, ATamperedQuoteIsRefusedNamingTheCheck) {
  Bytes quote = Quote(RuntimeData());
  quote[48 + 64] ^= 1;  // inside the report body's MRENCLAVE: the QE's signature breaks
  Answer a = Attest(Body(quote, RuntimeData()));
  ExpectError(a, 400, "InvalidParameter", "the quote does not verify (quote-signature check)");
}

TEST_F(AttestServiceTest, AWrongRuntimeDataIsRefusedWithBothHashes) {
  Bytes quote = Quote(RuntimeData());
  ExpectError(Attest(Body(quote, Bytes{'o', 't', 'h', 'e', 'r'})), 400, "InvalidParameter",
              "runtimeData: SHA-256");
}

TEST_F(AttestServiceTest, DebugEnclavesAreThePolicysToJudge) {
  Bytes quote = Quote(RuntimeData(), /*debug=*/true);
  // The default policy permits them, and says so.
  json c = Claims(Attest(Body(quote, RuntimeData())));
  EXPECT_EQ(c["x-ms-sgx-is-debuggable"], true);
  // A policy that forbids them refuses with its rule.
  auto policy = Policy::Parse(
      "version=1.0; authorizationrules { [type==\"x-ms-sgx-is-debuggable\", value==true] => "
      "deny(); => permit(); };");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_TRUE(store_.Set(*policy).ok());
  ExpectError(Attest(Body(quote, RuntimeData())), 400, "PolicyEvaluationError",
              "policy rule at line 1 denied");
  // A release enclave still passes.
  Claims(Attest(Body(Quote(RuntimeData()), RuntimeData())));
}

TEST_F(AttestServiceTest, ARevokedPlatformIsRefused) {
  sim::CollateralOptions o;
  o.revoke_pck = true;
  MakeService(o);
  ExpectError(Attest(Body(Quote(RuntimeData()), RuntimeData())), 400, "InvalidParameter",
              "the platform is revoked");
}

TEST_F(AttestServiceTest, AnOutOfDatePlatformIsRefusedWithItsStatusDateAndAdvisory) {
  Answer a = Attest(Body(Quote(RuntimeData(), false, sgx::kSimCpuSvnDowngraded), RuntimeData()));
  ExpectError(a, 400, "InvalidParameter", "the platform's TCB is OutOfDate (TCB date ");
  EXPECT_NE(a.body["error"]["message"].get<std::string>().find(sim::kSimAdvisoryId),
            std::string::npos);
}

TEST_F(AttestServiceTest, TheTcbBaselineOfThePolicyPicksTheCollateral) {
  // The simulated collateral has one TCB evaluation data number; another is not found.
  std::string policy =
      "version=1.1; configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", "
      "value=\"999\"); }; authorizationrules { => permit(); };";
  json body = Body(Quote(RuntimeData()), RuntimeData());
  body["draftPolicyForAttestation"] = policy;
  ExpectError(Attest(body), 400, "InvalidParameter", "asks for 999");
  body["draftPolicyForAttestation"] =
      "version=1.1; configurationrules { => issueproperty(type=\"x-ms-sgx-tcbidentifier\", "
      "value=\"latest\"); }; authorizationrules { => permit(); };";
  ExpectError(Attest(body), 400, "PolicyEvaluationError", "x-ms-sgx-tcbidentifier");
}

TEST_F(AttestServiceTest, ADraftPolicyIsAnsweredWithAnUnsecuredToken) {
  json body = Body(Quote(RuntimeData()), RuntimeData());
  std::string draft =
      "version=1.0; authorizationrules { => permit(); }; issuancerules { "
      "c:[type==\"x-ms-sgx-svn\"] => issue(type=\"draft-svn\", value=c.value); };";
  body["draftPolicyForAttestation"] = draft;
  Answer a = Attest(body);
  ASSERT_EQ(a.status, 200) << a.body.dump();
  std::string token = a.body["token"];
  EXPECT_EQ(Header(token), json({{"alg", "none"}, {"typ", "JWT"}}));
  EXPECT_EQ(token.back(), '.');
  json c = Payload(token);
  EXPECT_EQ(c["draft-svn"], 5);
  EXPECT_EQ(c["x-ms-policy-hash"], PolicyHash(draft));
  // The stored policy is untouched.
  EXPECT_TRUE(store_.Current()->is_default);

  body["draftPolicyForAttestation"] = "version=1.0;\nauthorizationrules { => permit() };";
  ExpectError(Attest(body), 400, "PolicyParsingError", "line 2, column");
}

TEST_F(AttestServiceTest, ApiVersionMissingOrUnknownIsRefused) {
  json body = Body(Quote(RuntimeData()), RuntimeData());
  ExpectError(Attest(body, EvidenceKind::kSgxQuote, std::nullopt), 400,
              "MissingApiVersionParameter", "api-version");
  ExpectError(Attest(body, EvidenceKind::kSgxQuote, "2019-01-01"), 400,
              "InvalidApiVersionParameter", "2019-01-01");
  Claims(Attest(body, EvidenceKind::kSgxQuote, "2020-10-01"));
}

TEST_F(AttestServiceTest, BadBodiesAreRefusedSayingWhat) {
  ExpectError(
      Parse(service_->Attest(Req("POST", "/attest/SgxEnclave", "{"), EvidenceKind::kSgxQuote)), 400,
      "InvalidParameter", "JSON");
  ExpectError(Attest({{"quote", "!!!"}}), 400, "InvalidParameter", "quote is not base64");
  Bytes quote = Quote(RuntimeData());
  quote.resize(quote.size() / 2);
  ExpectError(Attest(Body(quote, RuntimeData())), 400, "InvalidParameter", "quote");
}

TEST_F(AttestServiceTest, AnOpenEnclaveReportIsAttested) {
  Bytes quote = Quote(RuntimeData());
  Bytes report(16, 0);
  report[0] = 1;  // version
  report[4] = 2;  // OE_REPORT_TYPE_SGX_REMOTE
  uint64_t size = quote.size();
  for (int i = 0; i < 8; ++i) report[8 + i] = uint8_t(size >> (8 * i));
  report.insert(report.end(), quote.begin(), quote.end());
  json body = {{"report", Base64UrlEncode(report)},
               {"runtimeData", {{"data", Base64UrlEncode(RuntimeData())}, {"dataType", "Binary"}}}};
  json c = Claims(Attest(body, EvidenceKind::kOpenEnclaveReport));
  EXPECT_EQ(c["x-ms-sgx-product-id"], 4);
  report[4] = 1;  // a local report
  body["report"] = Base64UrlEncode(report);
  ExpectError(Attest(body, EvidenceKind::kOpenEnclaveReport), 400, "InvalidParameter", "report");
}

TEST_F(AttestServiceTest, CertsAndMetadataAnswerWithOrWithoutApiVersion) {
  for (auto v : {std::optional<std::string>(), std::optional<std::string>(kApiVersion)}) {
    Answer certs = Parse(service_->Certs(Req("GET", "/certs", "", v)));
    EXPECT_EQ(certs.status, 200);
    EXPECT_EQ(certs.body["keys"][0]["kid"], key_->kid());
    Answer meta =
        Parse(service_->OpenIdMetadata(Req("GET", "/.well-known/openid-configuration", "", v)));
    EXPECT_EQ(meta.status, 200);
    EXPECT_EQ(meta.body["issuer"], kIssuer);
    EXPECT_EQ(meta.body["jwks_uri"], std::string(kIssuer) + "/certs");
  }
  auto routes = service_->Routes();
  EXPECT_EQ(routes.size(), 7u);
}

TEST_F(AttestServiceTest, AdministrationIsOffWithoutAnAuthorizer) {
  MakeService({}, /*with_admin=*/false);
  ExpectError(Parse(service_->GetPolicy(Req("GET", "/policies/SgxEnclave", ""))), 403, "Forbidden",
              "policy administration is off: start sgx-attest with --enable-admin-api");
  ExpectError(
      Parse(service_->SetPolicy(Req("PUT", "/policies/SgxEnclave", EncodeUnsignedPolicyJws("x")))),
      403, "Forbidden", "--enable-admin-api");
}

TEST_F(AttestServiceTest, AdministrationAsksTheAuthorizer) {
  auto get = [&](std::string authorization) {
    auto r = Req("GET", "/policies/SgxEnclave", "");
    r.headers.push_back({"Authorization", authorization});
    return Parse(service_->GetPolicy(r));
  };
  admin_.decision = {false, false, "", "the token is not valid: expired"};
  ExpectError(get("Bearer x"), 401, "Unauthorized", "expired");
  EXPECT_EQ(admin_.last_authorization, "Bearer x");
  EXPECT_EQ(admin_.last_access, PolicyAccess::kRead);
  admin_.decision = {true, false, "system:serviceaccount:a:b", "may not update configmaps"};
  ExpectError(get("Bearer y"), 403, "Forbidden", "system:serviceaccount:a:b: may not update");
  admin_.status = Status::Unavailable("API server 10.0.0.1:443 refused the connection");
  ExpectError(get("Bearer y"), 503, "ServiceUnavailable", "refused the connection");
  admin_.status = Status::Ok();
  admin_.decision = {true, true, "u", ""};
  ExpectError(Parse(service_->GetPolicy(Req("GET", "/policies/SgxEnclave", "", std::nullopt))), 400,
              "MissingApiVersionParameter", "api-version");

  // GET: the policy in force, as MAA answers it: a signed token whose x-ms-policy is the
  // unsigned policy JWS.
  Answer a = get("Bearer ok");
  json c = Claims(a);
  EXPECT_EQ(c["iss"], kIssuer);
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 3600);
  auto jws = DecodePolicyJws(c["x-ms-policy"].get<std::string>());
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(jws->policy_text, std::string(kDefaultSgxPolicy));
}

TEST_F(AttestServiceTest, APolicySetThroughTheApiChangesTheNextToken) {
  json before = Claims(Attest(Body(Quote(RuntimeData()), RuntimeData())));
  std::string text =
      "version=1.0; authorizationrules { => permit(); }; issuancerules { "
      "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"who-signed\", value=c.value); };";
  std::string jws = EncodeUnsignedPolicyJws(text);
  Answer set = Parse(service_->SetPolicy(Req("PUT", "/policies/SgxEnclave", jws)));
  json r = Claims(set);
  EXPECT_EQ(r["x-ms-policy-result"], "Updated");
  EXPECT_EQ(r["x-ms-policy-token-hash"], PolicyTokenHash(jws));
  EXPECT_FALSE(r.contains("x-ms-policy-signer"));
  EXPECT_EQ(admin_.last_access, PolicyAccess::kWrite);

  json after = Claims(Attest(Body(Quote(RuntimeData()), RuntimeData())));
  EXPECT_EQ(after["x-ms-policy-hash"], PolicyHash(text));
  EXPECT_NE(after["x-ms-policy-hash"], before["x-ms-policy-hash"]);
  EXPECT_EQ(after["who-signed"], after["x-ms-sgx-mrsigner"]);
  EXPECT_FALSE(after.contains("sgx-mrenclave"));  // the default policy's claims are gone

  // GET returns the text set, byte for byte.
  json got = Claims(Parse(service_->GetPolicy(Req("GET", "/policies/SgxEnclave", ""))));
  EXPECT_EQ(DecodePolicyJws(got["x-ms-policy"].get<std::string>())->policy_text, text);

  // Reset: the default again.
  std::string reset = "eyJhbGciOiJub25lIn0..";  // what the JS SDK's resetPolicy sends
  json rr = Claims(Parse(service_->ResetPolicy(Req("POST", "/policies/SgxEnclave:reset", reset))));
  EXPECT_EQ(rr["x-ms-policy-result"], "Removed");
  EXPECT_EQ(rr["x-ms-policy-token-hash"], PolicyTokenHash(reset));
  json again = Claims(Attest(Body(Quote(RuntimeData()), RuntimeData())));
  EXPECT_EQ(again["x-ms-policy-hash"], PolicyHash(kDefaultSgxPolicy));
}

TEST_F(AttestServiceTest, BadPolicyUploadsAreRefused) {
  auto put = [&](const std::string& body) {
    return Parse(service_->SetPolicy(Req("PUT", "/policies/SgxEnclave", body)));
  };
  ExpectError(put("not a jws"), 400, "InvalidOperation", "policy JWS");
  ExpectError(put(EncodeUnsignedPolicyJws("version=1.0; authorizationrules { => permit() };")), 400,
              "PolicyParsingError", "line 1, column");
  ExpectError(put("eyJhbGciOiJub25lIn0.."), 400, "InvalidOperation", ":reset");
  // A signed JWS: refused, saying what to send.
  std::string unsigned_jws =
      EncodeUnsignedPolicyJws("version=1.0; authorizationrules { => permit(); };");
  std::string payload = unsigned_jws.substr(unsigned_jws.find('.') + 1);
  payload.pop_back();
  std::string signed_jws =
      Base64UrlEncode(AsBytes("{\"alg\":\"RS256\"}")) + "." + payload + ".c2ln";
  ExpectError(put(signed_jws), 400, "InvalidOperation", "unsigned form");
  // A JSON string holding the JWS is taken too.
  Claims(put(json(unsigned_jws).dump()));
  EXPECT_FALSE(store_.Current()->is_default);
}

TEST_F(AttestServiceTest, OutcomesAreCountedByReason) {
  Claims(Attest(Body(Quote(RuntimeData()), RuntimeData())));
  Attest(Body(Quote(RuntimeData()), Bytes{'x'}));
  Attest(Body(Quote(RuntimeData()), RuntimeData()), EvidenceKind::kSgxQuote, std::nullopt);
  std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(text.find("confcom_sgx_attest_attestations_total{reason=\"ok\",result=\"ok\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reason=\"runtime_data\",result=\"refused\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("reason=\"invalid_request\",result=\"refused\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("confcom_sgx_attest_collateral_lookups_total{result=\"hit\"} 2"),
            std::string::npos)
      << text;
}

TEST(AttestOptions, FlagsAreCheckedBeyondCli11) {
  AttestFlags f;
  f.issuer = "https://sgx-attest.confcom.svc";
  f.pccs_url = "http://127.0.0.1:8081/sgx/certification/v4/";
  auto s = SettingsFromFlags(f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->token_lifetime.count(), 8 * 3600);
  EXPECT_EQ(s->server.port, 8443);
  EXPECT_FALSE(s->policy_configmap);

  auto bad = [](AttestFlags g, const std::string& part) {
    auto r = SettingsFromFlags(g);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  AttestFlags g = f;
  g.issuer += "/";
  bad(g, "ends with '/'");
  g = f;
  g.issuer = "sgx-attest.confcom.svc";
  bad(g, "not an http(s) URL");
  g = f;
  g.collateral_dir = "/var/lib/collateral";
  bad(g, "exactly one of --pccs-url");
  g = f;
  g.pccs_url.clear();
  bad(g, "exactly one of --pccs-url");
  g = f;
  g.signing_key_files = {"/k"};
  bad(g, "in pairs (1 key file(s), 0 certificate file(s))");
  g.signing_cert_files = {"/c", "/d"};
  bad(g, "in pairs (1 key file(s), 2 certificate file(s))");
  g = f;
  g.policy_configmap = "confcom";
  bad(g, "NAMESPACE/NAME");
  g.policy_configmap = "confcom/sgx-attest-policy";
  auto ok = SettingsFromFlags(g);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->policy_configmap->ns, "confcom");
  EXPECT_EQ(ok->policy_configmap->name, "sgx-attest-policy");
  g = f;
  g.admin_token_file = "/t";
  bad(g, "needs --enable-admin-api");
  g = f;
  g.enable_admin_api = true;
  bad(g, "needs --policy-configmap");
  g.admin_token_file = "/t";
  EXPECT_TRUE(SettingsFromFlags(g).ok());
}

TEST(AttestOptions, TokenLifetimes) {
  EXPECT_EQ(ParseLifetime("8h")->count(), 28800);
  EXPECT_EQ(ParseLifetime("1h30m")->count(), 5400);
  EXPECT_EQ(ParseLifetime("90s")->count(), 90);
  for (const char* bad : {"", "8", "h", "8x", "0s", "200h", "-1h"}) {
    EXPECT_FALSE(ParseLifetime(bad).ok()) << bad;
  }
}

TEST(AttestStaticToken, OnlyTheTokenOfTheFileIsAllowed) {
  StaticTokenAuthorizer a("0123456789abcdef-token");
  EXPECT_FALSE(a.Decide("", PolicyAccess::kRead)->authenticated);
  EXPECT_FALSE(a.Decide("Basic x", PolicyAccess::kRead)->authenticated);
  EXPECT_FALSE(a.Decide("Bearer 0123456789abcdef-tokeN", PolicyAccess::kWrite)->authenticated);
  auto d = a.Decide("Bearer 0123456789abcdef-token", PolicyAccess::kWrite);
  EXPECT_TRUE(d->authenticated);
  EXPECT_TRUE(d->allowed);
  testing::TempDir dir;
  testing::WriteAll(dir.File("t"), "short\n");
  EXPECT_FALSE(StaticTokenAuthorizer::FromFile(dir.File("t")).ok());
  testing::WriteAll(dir.File("t"), "  0123456789abcdef-token\n");
  auto fromfile = StaticTokenAuthorizer::FromFile(dir.File("t"));
  ASSERT_TRUE(fromfile.ok());
  EXPECT_TRUE((*fromfile)->Decide("Bearer 0123456789abcdef-token", PolicyAccess::kRead)->allowed);
}

}  // namespace
}  // namespace confcom::attest
