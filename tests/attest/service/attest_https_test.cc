// The real sgx-attest binary as a process, over HTTPS (curl, the test CA), fed the simulated
// platform's collateral by `sgxctl collateral` (files) or `sgxctl pccs` (a real PCCS
// process): it starts with a signing key made in memory and says so, attests a simulated
// quote, and its token verifies from GET /certs alone; the administration API with a static
// bearer token; /readyz; the metrics. Quotes are made in this process with the platform's
// SimBackend (the state dir is shared with sgxctl).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "attest/policy/policy.h"
#include "attest/policy/policy_jws.h"
#include "attest/token/request.h"
#include "attest/token/signing.h"
#include "crypto/crypto.h"
#include "https/test_certs.h"
#include "kube/kube_api_double.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::attest {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::Process;
using testing::ReadAll;
using testing::RunCommand;
using testing::WriteAll;

constexpr char kIssuer[] = "https://sgx-attest.confcom.test";
const std::string kAttestBin = SGX_ATTEST_BIN;
const std::string kSgxctlBin = SGXCTL_BIN;

std::string Q(const std::string& s) { return "'" + s + "'"; }

class AttestHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    https::WriteServingPair(dir_, "a");
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File("state"));
    ASSERT_TRUE(platform.ok()) << platform.status().ToString();
    backend_ = std::move(quoting::SimBackend::Create(*platform)).value();
  }

  void TearDown() override {
    for (Process* p : {attest_.get(), pccs_.get()}) {
      if (p && p->running()) {
        p->Signal(SIGTERM);
        EXPECT_EQ(p->Wait(), 0) << p->Log();
      }
    }
  }

  // Waits for `pattern` (one group: a port) in the process's log; returns the port or 0.
  static int WaitForPort(Process& p, const std::string& pattern) {
    std::regex re(pattern);
    std::smatch m;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = p.Log();
      if (std::regex_search(log, m, re)) return std::stoi(m[1]);
      if (!p.running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no '" << pattern << "' in: " << p.Log();
    return 0;
  }

  // sgx-attest with only the flags the issue names, then `extra`.
  void StartAttest(std::vector<std::string> extra) {
    std::vector<std::string> argv = {kAttestBin,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--tls-cert-file",
                                     dir_.File("tls.crt"),
                                     "--tls-private-key-file",
                                     dir_.File("tls.key"),
                                     "--issuer",
                                     kIssuer,
                                     "--trust-root",
                                     dir_.File("state/root_ca.pem")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    attest_ = std::make_unique<Process>(argv, dir_.File("attest.log"));
    port_ = WaitForPort(*attest_, "serving HTTPS on 127\\.0\\.0\\.1:([0-9]+)");
  }

  // curl over TLS verified with the test CA; returns {status, body}.
  std::pair<int, std::string> Curl(const std::string& method, const std::string& path,
                                   const std::string& body = "", const std::string& headers = "") {
    WriteAll(dir_.File("req"), body);
    CommandResult r = RunCommand(
        "curl -sS --cacert " + Q(dir_.File("ca-a.crt")) + " -X " + method + " " + headers +
        (body.empty() ? std::string() : " --data-binary @" + Q(dir_.File("req"))) + " -o " +
        Q(dir_.File("resp")) + " -w '%{http_code}' " +
        Q("https://localhost:" + std::to_string(port_) + path));
    EXPECT_EQ(r.status, 0) << r.output;
    return {std::atoi(r.output.c_str()), ReadAll(dir_.File("resp"))};
  }

  // A quote whose REPORTDATA starts with SHA-256(runtime_data).
  Bytes Quote(ByteSpan runtime_data) {
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    body.mr_enclave.fill(0xa1);
    body.mr_signer.fill(0xa2);
    auto digest = crypto::Sha256(runtime_data);
    std::copy(digest.begin(), digest.end(), body.report_data.begin());
    auto report = sgx::MakeSimReport(backend_->Init(key)->qe_target_info, body)->Encode();
    return std::move(backend_->Quote(report, key, nullptr)).value();
  }

  // Attests a fresh quote; returns its verified claims (empty on failure).
  json AttestAndVerify() {
    Bytes rd = {'p', 'u', 'b', 'k', 'e', 'y'};
    json body = {{"quote", Base64UrlEncode(Quote(rd))},
                 {"runtimeData", {{"data", Base64UrlEncode(rd)}, {"dataType", "Binary"}}}};
    auto [status, answer] = Curl("POST", "/attest/SgxEnclave?api-version=2022-08-01", body.dump(),
                                 "-H 'Content-Type: application/json'");
    EXPECT_EQ(status, 200) << answer << attest_->Log();
    auto [cstatus, jwks] = Curl("GET", "/certs");
    EXPECT_EQ(cstatus, 200) << jwks;
    json a = json::parse(answer, nullptr, false);
    auto claims = VerifyToken(a.is_object() ? a.value("token", "") : "", jwks, std::time(nullptr));
    EXPECT_TRUE(claims.ok()) << claims.status().ToString();
    return claims.ok() ? *claims : json();
  }

  testing::TempDir dir_;
  std::unique_ptr<quoting::SimBackend> backend_;
  std::unique_ptr<Process> attest_, pccs_;
  int port_ = 0;
};

TEST_F(AttestHttps, OfflineCollateralAndTheAdministrationApiWithAStaticToken) {
  CommandResult c = RunCommand(Q(kSgxctlBin) + " collateral --state-dir " + Q(dir_.File("state")) +
                               " -o " + Q(dir_.File("collateral")));
  ASSERT_EQ(c.status, 0) << c.output;
  WriteAll(dir_.File("admin-token"), "test-admin-token-0123456789\n");
  StartAttest({"--collateral-dir", dir_.File("collateral"), "--enable-admin-api",
               "--admin-token-file", dir_.File("admin-token"), "--metrics-address", "127.0.0.1:0"});
  ASSERT_NE(port_, 0);
  EXPECT_NE(attest_->Log().find("signing tokens with a key made in memory (kid "),
            std::string::npos);
  json claims = AttestAndVerify();
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["x-confcom-sgx-simulated-root"], true);
  EXPECT_EQ(claims["x-ms-policy-hash"], PolicyHash(kDefaultSgxPolicy));
  EXPECT_NE(attest_->Log().find("SIMULATED platform root"), std::string::npos);

  const std::string auth = "-H 'Authorization: Bearer test-admin-token-0123456789'";
  const std::string text =
      "version=1.0; authorizationrules { => permit(); }; issuancerules { "
      "c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"who\", value=c.value); };";
  auto [no_auth, no_auth_body] =
      Curl("PUT", "/policies/SgxEnclave?api-version=2022-08-01", EncodeUnsignedPolicyJws(text),
           "-H 'Content-Type: text/plain'");
  EXPECT_EQ(no_auth, 401) << no_auth_body;
  auto [set, set_body] =
      Curl("PUT", "/policies/SgxEnclave?api-version=2022-08-01", EncodeUnsignedPolicyJws(text),
           "-H 'Content-Type: text/plain' " + auth);
  EXPECT_EQ(set, 200) << set_body;
  json after = AttestAndVerify();
  EXPECT_EQ(after["x-ms-policy-hash"], PolicyHash(text));
  EXPECT_EQ(after["who"], after["x-ms-sgx-mrenclave"]);
  auto [get, get_body] = Curl("GET", "/policies/SgxEnclave?api-version=2022-08-01", "", auth);
  EXPECT_EQ(get, 200) << get_body;

  auto [ready, ready_body] = Curl("GET", "/readyz");
  EXPECT_EQ(ready, 200) << ready_body;
  auto [missing, missing_body] = Curl("POST", "/attest/SgxEnclave", "{}");
  EXPECT_EQ(missing, 400);
  EXPECT_EQ(json::parse(missing_body, nullptr, false)["error"]["code"],
            "MissingApiVersionParameter");

  int metrics_port = WaitForPort(*attest_, "metrics on http://127\\.0\\.0\\.1:([0-9]+)");
  CommandResult m =
      RunCommand("curl -sS http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics");
  EXPECT_NE(m.output.find("confcom_sgx_attest_attestations_total{reason=\"ok\",result=\"ok\"} 2"),
            std::string::npos)
      << m.output;
  EXPECT_NE(
      m.output.find("confcom_sgx_attest_policy_admin_total{operation=\"set\",result=\"ok\"} 1"),
      std::string::npos);
}

// Rotation: two key pairs given in pairs of flags are both published in /certs; the one with
// the later notBefore signs, whichever order the flags name them in.
TEST_F(AttestHttps, RotatedKeysAreAllPublishedAndTheNewestSigns) {
  CommandResult c = RunCommand(Q(kSgxctlBin) + " collateral --state-dir " + Q(dir_.File("state")) +
                               " -o " + Q(dir_.File("collateral")));
  ASSERT_EQ(c.status, 0) << c.output;
  std::time_t now = std::time(nullptr);
  auto old_key = SigningKey::Generate(kIssuer, now - 7200, now + 86400);
  auto new_key = SigningKey::Generate(kIssuer, now - 60, now + 86400);
  ASSERT_TRUE(old_key.ok() && new_key.ok());
  for (auto [name, key] : {std::pair{"old", &*old_key}, std::pair{"new", &*new_key}}) {
    WriteAll(dir_.File(std::string(name) + ".crt"), key->CertificatePem());
    WriteAll(dir_.File(std::string(name) + ".key"), key->PrivateKeyPem().value());
    ASSERT_EQ(chmod(dir_.File(std::string(name) + ".key").c_str(), 0600), 0);
  }
  StartAttest({"--collateral-dir", dir_.File("collateral"), "--metrics-address", "off",
               "--signing-key-file", dir_.File("new.key"), "--signing-key-file",
               dir_.File("old.key"), "--signing-cert-file", dir_.File("new.crt"),
               "--signing-cert-file", dir_.File("old.crt")});
  ASSERT_NE(port_, 0);
  EXPECT_NE(attest_->Log().find("publishing signing key " + new_key->kid()), std::string::npos)
      << attest_->Log();
  auto [status, jwks] = Curl("GET", "/certs");
  ASSERT_EQ(status, 200);
  json keys = json::parse(jwks)["keys"];
  ASSERT_EQ(keys.size(), 2u) << jwks;
  EXPECT_EQ(keys[0]["kid"], new_key->kid());
  EXPECT_EQ(keys[1]["kid"], old_key->kid());
  json claims = AttestAndVerify();
  EXPECT_EQ(claims["iss"], kIssuer);
}

// Key and certificate flags must come in pairs.
TEST_F(AttestHttps, SigningKeyFlagsWithoutTheirPairAreAUsageError) {
  Process p({kAttestBin, "--issuer", kIssuer, "--collateral-dir", dir_.path(), "--signing-key-file",
             dir_.File("a.key")},
            dir_.File("usage.log"));
  EXPECT_EQ(p.Wait(), 2);
  EXPECT_NE(p.Log().find("in pairs (1 key file(s), 0 certificate file(s))"), std::string::npos)
      << p.Log();
}

// The issue's first start: only --listen, the TLS files, --issuer, --pccs-url and --trust-root,
// with collateral from a real `sgxctl pccs` process. It serves at once, says its signing key
// is made in memory, and a relying party verifies its token from /certs.
TEST_F(AttestHttps, FirstStartWithAPccsServesAtOnce) {
  pccs_ = std::make_unique<Process>(
      std::vector<std::string>{kSgxctlBin, "pccs", "--state-dir", dir_.File("state"), "--listen",
                               "127.0.0.1:0"},
      dir_.File("pccs.log"));
  int pccs_port = WaitForPort(*pccs_, "on http://127\\.0\\.0\\.1:([0-9]+)/sgx/certification/v4/");
  ASSERT_NE(pccs_port, 0);
  StartAttest({"--pccs-url",
               "http://127.0.0.1:" + std::to_string(pccs_port) + "/sgx/certification/v4/",
               "--metrics-address", "off"});
  ASSERT_NE(port_, 0);
  EXPECT_NE(attest_->Log().find("signing tokens with a key made in memory (kid "),
            std::string::npos)
      << attest_->Log();
  auto [ready, ready_body] = Curl("GET", "/readyz");
  EXPECT_EQ(ready, 200) << ready_body;
  json claims = AttestAndVerify();
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["x-confcom-sgx-simulated-root"], true);
  EXPECT_EQ(claims["x-confcom-sgx-tcb-status"], "UpToDate");
  std::string mrsigner;
  for (int i = 0; i < 32; ++i) mrsigner += "a2";
  EXPECT_EQ(claims["sgx-mrsigner"], mrsigner);
  // The second quote is served from the cache: no second fetch.
  AttestAndVerify();
  // The administration API is off, and says how to turn it on.
  auto [off, off_body] = Curl("GET", "/policies/SgxEnclave?api-version=2022-08-01");
  EXPECT_EQ(off, 403);
  EXPECT_NE(off_body.find("--enable-admin-api"), std::string::npos) << off_body;
}

// In a cluster: the policy in a ConfigMap and the API server deciding who may administer it
// (the strict API-server double answers TokenReview and SubjectAccessReview from its tables).
TEST_F(AttestHttps, InAClusterThePolicyLivesInAConfigMapAndRbacDecides) {
  std::string err;
  testing::TlsFiles tls = testing::MakeTlsFiles(dir_.File(""), "apiserver-ca", &err);
  ASSERT_FALSE(tls.ca_crt.empty()) << err;
  testing::KubeApiDouble api(tls, "sgx-attest-sa-token", "unused-node", "{}", dir_.path());
  const std::string configmap = "/api/v1/namespaces/kube-system/configmaps/sgx-attest-policy";
  api.AllowCreate("/api/v1/namespaces/kube-system/configmaps", "ConfigMap");
  api.AddReviewToken("alice-token", {"alice", "u-1", {"ops"}, {}, {"sgx-attest"}});
  api.AddReviewToken("bob-token", {"bob", "u-2", {"viewers"}, {}, {"sgx-attest"}});
  for (const char* verb : {"get", "update"}) {
    api.AllowAccess("alice", verb, "kube-system", "configmaps", "sgx-attest-policy");
  }
  api.AllowAccess("bob", "get", "kube-system", "configmaps", "sgx-attest-policy");
  std::string kubeconfig = testing::WriteKubeconfig(dir_.File("kubeconfig"), api.url(), tls.ca_crt,
                                                    "sgx-attest-sa-token");

  CommandResult c = RunCommand(Q(kSgxctlBin) + " collateral --state-dir " + Q(dir_.File("state")) +
                               " -o " + Q(dir_.File("collateral")));
  ASSERT_EQ(c.status, 0) << c.output;
  StartAttest({"--collateral-dir", dir_.File("collateral"), "--enable-admin-api",
               "--policy-configmap", "kube-system/sgx-attest-policy", "--kubeconfig", kubeconfig,
               "--metrics-address", "off"});
  ASSERT_NE(port_, 0);

  const std::string text =
      "version=1.0; authorizationrules { => permit(); }; issuancerules { "
      "c:[type==\"x-ms-sgx-svn\"] => issue(type=\"cluster-svn\", value=c.value); };";
  const std::string path = "/policies/SgxEnclave?api-version=2022-08-01";
  auto put = [&](const std::string& auth) {
    return Curl("PUT", path, EncodeUnsignedPolicyJws(text),
                "-H 'Content-Type: text/plain'" +
                    (auth.empty() ? std::string() : " -H 'Authorization: Bearer " + auth + "'"));
  };
  EXPECT_EQ(put("").first, 401);
  EXPECT_EQ(put("nobody-token").first, 401);
  auto [forbidden, forbidden_body] = put("bob-token");
  EXPECT_EQ(forbidden, 403) << forbidden_body;
  EXPECT_NE(forbidden_body.find("bob"), std::string::npos) << forbidden_body;
  auto [set, set_body] = put("alice-token");
  ASSERT_EQ(set, 200) << set_body << attest_->Log();
  EXPECT_NE(api.Object(configmap).find("cluster-svn"), std::string::npos) << api.Object(configmap);
  json after = AttestAndVerify();
  EXPECT_EQ(after["x-ms-policy-hash"], PolicyHash(text));
  EXPECT_EQ(after["cluster-svn"], 0);
  auto [get, get_body] = Curl("GET", path, "", "-H 'Authorization: Bearer bob-token'");
  EXPECT_EQ(get, 200) << get_body;
}

}  // namespace
}  // namespace confcom::attest
