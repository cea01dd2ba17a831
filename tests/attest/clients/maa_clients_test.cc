// Clients no one here wrote, against the real sgx-attest over HTTPS: Microsoft's
// @azure/attestation (tests/attest/maa-client/maa_client.mjs under node, unchanged SDK) and the
// app and Python relying party of examples/attest. Real processes only: the quote helper (the
// simulated platform) and `sgxctl quote` make the quotes; `sgxctl pccs` serves the platform's
// collateral, a second one with its PCK certificates revoked; one sgx-attest per PCCS. What the
// SDK sends and requires: docs/attest-clients.md. Suites are AttestClients*.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "https/test_certs.h"
#include "integration/helper_process.h"
#include "kube/kube_api_double.h"
#include "testing/test_util.h"

namespace confcom::attest {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::RunCommand;

const std::string kMrEnclave(64, 'a');  // "aa..aa": the enclave the relying party expects
const std::string kMrSigner(64, 'b');
const std::string kOtherMrEnclave(64, 'c');
constexpr int kProductId = 4;
constexpr int kSvn = 5;
// The bearer token the administration client sends: --admin-token-file's, or alice's for the
// API server double.
constexpr char kAdminToken[] = "sgx-attest-admin-token";

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// Base64url without padding, as Microsoft's SDK sends it (OpenSSL's base64, then the URL-safe
// alphabet).
std::string Base64Url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// A TCP port that was free a moment ago (the daemon is told it with --listen).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

// `sgxctl pccs` on a free port; its URL from the log, or "" after 4 s.
std::string PccsUrl(testing::Process& pccs) {
  for (int i = 0; i < 200; ++i) {
    std::string log = pccs.Log();
    auto pos = log.find("http://127.0.0.1:");
    if (pos != std::string::npos) return log.substr(pos, log.find('/', pos + 7) - pos);
    std::this_thread::sleep_for(20ms);
  }
  return "";
}

// One sgx-attest daemon over HTTPS on localhost (the test certificate names "localhost").
struct Daemon {
  std::string url;
  std::string log;  // its log when it did not start (the process is then gone)
  std::unique_ptr<testing::Process> process;
};

class AttestClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bin_.empty()) GTEST_SKIP() << "sgx-attest is not built";
    helper_ = std::make_unique<testing::HelperProcess>(dir_);
    ASSERT_TRUE(helper_->WaitReady()) << helper_->Log();
    https::WriteServingPair(dir_, "attest");
    ca_ = dir_.File("ca-attest.crt");
    auto c = Sgxctl("collateral --state-dir " + helper_->state() + " -o " + dir_.File("col"));
    ASSERT_EQ(c.status, 0) << c.output;

    // The quotes: REPORTDATA starts with SHA-256 of the runtime data each is sent with.
    testing::WriteAll(dir_.File("runtime.bin"), "confcom binary runtime data \x01\x02\xff");
    testing::WriteAll(dir_.File("runtime-wrong.bin"), "confcom binary runtime data \x01\x02\xfe");
    testing::WriteAll(dir_.File("runtime.json"), R"({"jwk":{"kty":"EC","crv":"P-256"},"n":7})");
    MakeQuote("good.bin", "runtime.bin", kMrEnclave, "");
    MakeQuote("json.bin", "runtime.json", kMrEnclave, "");
    MakeQuote("debug.bin", "runtime.bin", kMrEnclave, "--debug");
    MakeQuote("other.bin", "runtime.bin", kOtherMrEnclave, "");
    // A byte of MRENCLAVE flipped after quoting: the QE's signature no longer covers it.
    std::string tampered = testing::ReadAll(dir_.File("good.bin"));
    ASSERT_GT(tampered.size(), 48u + 64u);
    tampered[48 + 64] ^= 0x01;
    testing::WriteAll(dir_.File("tampered.bin"), tampered);

    pccs_ = StartPccs(false, "pccs.log");
    revoked_pccs_ = StartPccs(true, "pccs-revoked.log");
    ASSERT_FALSE(pccs_url_.empty() || revoked_pccs_url_.empty());
    daemon_ = StartDaemon(false, "attest.log");
    revoked_daemon_ = StartDaemon(true, "attest-revoked.log");
    ASSERT_TRUE(daemon_.process && revoked_daemon_.process);
  }

  testing::CommandResult Sgxctl(const std::string& args) {
    return RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " " + args + " 2>&1");
  }

  void MakeQuote(const std::string& out, const std::string& runtime, const std::string& mrenclave,
                 const std::string& extra) {
    std::string data = testing::ReadAll(dir_.File(runtime));
    std::string report_data = ToHex(crypto::Sha256(AsBytes(data)));
    auto q = Sgxctl("quote --socket " + helper_->socket() + " --report-data " + report_data +
                    " --mrenclave " + mrenclave + " --mrsigner " + kMrSigner + " --isv-prod-id " +
                    std::to_string(kProductId) + " --isv-svn " + std::to_string(kSvn) + " " +
                    extra + " -o " + dir_.File(out));
    ASSERT_EQ(q.status, 0) << q.output;
  }

  std::unique_ptr<testing::Process> StartPccs(bool revoked, const std::string& log) {
    std::vector<std::string> argv = {CONFCOM_SGXCTL_BIN, "pccs",     "--state-dir",
                                     helper_->state(),   "--listen", "127.0.0.1:0"};
    if (revoked) argv.push_back("--revoke-pck");
    auto p = std::make_unique<testing::Process>(argv, dir_.File(log));
    (revoked ? revoked_pccs_url_ : pccs_url_) = PccsUrl(*p);
    return p;
  }

  // sgx-attest with only the flags a first start needs (its signing key made in memory), its
  // collateral from `sgxctl pccs` (the revoking one when `revoked`), plus `extra`; returns once
  // /readyz answers 200, or with no process (the failure reported with its log).
  Daemon StartDaemon(bool revoked, const std::string& log, std::vector<std::string> extra = {}) {
    Daemon d = StartDaemonWith(
        {"--pccs-url", (revoked ? revoked_pccs_url_ : pccs_url_) + "/sgx/certification/v4/"}, log,
        extra);
    if (!d.process) ADD_FAILURE() << "sgx-attest did not become ready:\n" << d.log;
    return d;
  }

  Daemon StartDaemonWith(std::vector<std::string> collateral, const std::string& log,
                         const std::vector<std::string>& extra) {
    Daemon d;
    int port = FreePort();
    d.url = "https://localhost:" + std::to_string(port);
    std::vector<std::string> argv = {bin_,
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port),
                                     "--tls-cert-file",
                                     dir_.File("tls.crt"),
                                     "--tls-private-key-file",
                                     dir_.File("tls.key"),
                                     "--issuer",
                                     d.url,
                                     "--trust-root",
                                     dir_.File("col/root_ca.pem"),
                                     "--metrics-address",
                                     "off"};
    argv.insert(argv.end(), collateral.begin(), collateral.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    d.process = std::make_unique<testing::Process>(argv, dir_.File(log));
    for (int i = 0; i < 200; ++i) {
      auto r = RunCommand("curl -s -o /dev/null -w '%{http_code}' --cacert " + ca_ + " " + d.url +
                          "/readyz");
      if (r.output == "200") return d;
      if (!d.process->running()) break;
      std::this_thread::sleep_for(100ms);
    }
    d.log = d.process->Log();
    d.process.reset();
    return d;
  }

  // sgx-attest with the administration routes and one static bearer token (--admin-token-file,
  // as outside a cluster); in a cluster TokenReview/SubjectAccessReview decide instead
  // (tests/attest/kube).
  Daemon StartAdminDaemon() {
    testing::WriteAll(dir_.File("admin-token"), std::string(kAdminToken) + "\n");
    return StartDaemon(false, "attest-admin.log",
                       {"--enable-admin-api", "--admin-token-file", dir_.File("admin-token")});
  }

  // Runs the Microsoft SDK script with `config`; returns its output (the test asserts on it).
  testing::CommandResult RunMaaClient(const json& config) {
    testing::WriteAll(dir_.File("maa-config.json"), config.dump(2));
    return RunCommand("NODE_EXTRA_CA_CERTS=" + Quoted(ca_) + " node " +
                      Quoted(std::string(MAA_CLIENT_DIR) + "/maa_client.mjs") + " " +
                      Quoted(dir_.File("maa-config.json")) + " 2>&1");
  }

  // The administration half of the SDK script against `admin`; `bad_bearer` must be refused
  // with `bad_status`.
  void RunAdministration(const Daemon& admin, const std::string& bad_bearer, int bad_status) {
    json config = BaseConfig();
    config["url"] = admin.url;
    config["admin"] = {
        {"bearer", kAdminToken},
        {"badBearer", bad_bearer},
        {"badBearerStatus", bad_status},
        {"policy",
         "version=1.0; authorizationrules { [type==\"x-ms-sgx-is-debuggable\", value==true] => "
         "deny(); => permit(); }; issuancerules { => issue(type=\"confcom-policy\", "
         "value=\"v2\"); };"},
        {"policyClaim", {"confcom-policy", "v2"}},
        {"debugQuote", dir_.File("debug.bin")},
        {"debugRuntime", dir_.File("runtime.bin")},
        {"debugStatus", 400},
        {"debugContains", {"x-ms-sgx-is-debuggable"}}};
    auto r = RunMaaClient(config);
    EXPECT_EQ(r.status, 0) << r.output << admin.process->Log();
    std::string missing;
    for (const char* check :
         {"PASS getPolicy", "PASS setPolicy: Updated", "PASS getPolicy after setPolicy",
          "PASS the next token follows the new policy",
          "PASS debug enclave refused under the set policy", "PASS resetPolicy: Removed",
          "PASS getPolicy after resetPolicy", "PASS setPolicy with an unauthorised token"}) {
      if (r.output.find(check) == std::string::npos) missing += std::string(check) + "\n";
    }
    EXPECT_EQ(missing, "") << r.output;
  }

  json BaseConfig() {
    return {{"url", daemon_.url},
            {"quote", dir_.File("good.bin")},
            {"runtime", dir_.File("runtime.bin")},
            {"quoteJson", dir_.File("json.bin")},
            {"runtimeJson", dir_.File("runtime.json")},
            {"tokenOut", dir_.File("sdk-token.jwt")},
            {"expect",
             {{"mrenclave", kMrEnclave},
              {"mrsigner", kMrSigner},
              {"productId", kProductId},
              {"svn", kSvn}}}};
  }

  // A token for `quote` from the daemon, through the example's own request (curl here, so a
  // failure of the app script does not hide the relying party's result).
  std::string Attest(const std::string& quote, const std::string& runtime) {
    json body = {
        {"quote", Base64Url(testing::ReadAll(dir_.File(quote)))},
        {"runtimeData",
         {{"data", Base64Url(testing::ReadAll(dir_.File(runtime)))}, {"dataType", "Binary"}}}};
    testing::WriteAll(dir_.File("body.json"), body.dump());
    auto r = RunCommand("curl -sS --cacert " + Quoted(ca_) +
                        " -H 'Content-Type: application/json' --data-binary @" +
                        Quoted(dir_.File("body.json")) + " '" + daemon_.url +
                        "/attest/SgxEnclave?api-version=2022-08-01'");
    EXPECT_EQ(r.status, 0) << r.output;
    auto answer = json::parse(r.output, nullptr, false);
    EXPECT_TRUE(answer.is_object() && answer.contains("token")) << r.output;
    if (!answer.is_object() || !answer.contains("token")) return "";
    return answer["token"].get<std::string>();
  }

  // The example's relying party on `token`; returns "<exit status> <stdout>".
  std::string RelyingParty(const std::string& token, const std::string& extra) {
    testing::WriteAll(dir_.File("rp-token.jwt"), token);
    testing::WriteAll(dir_.File("secret.txt"), "the-database-password\n");
    auto r = RunCommand("python3 " + Quoted(std::string(EXAMPLES_DIR) + "/relying_party.py") +
                        " --ca-file " + Quoted(ca_) + " --expected-mrenclave " + kMrEnclave +
                        " --secret-file " + Quoted(dir_.File("secret.txt")) + " " + extra + " " +
                        Quoted(dir_.File("rp-token.jwt")) + " 2>&1");
    return std::to_string(r.status) + " " + r.output;
  }

  std::string bin_ = SGX_ATTEST_BIN;
  testing::TempDir dir_;
  std::unique_ptr<testing::HelperProcess> helper_;
  std::string ca_, pccs_url_, revoked_pccs_url_;
  std::unique_ptr<testing::Process> pccs_, revoked_pccs_;
  Daemon daemon_, revoked_daemon_;
};

// The issue's "Done when": Microsoft's client attests simulated quotes (Binary and JSON runtime
// data, and as Open Enclave evidence), reads the OpenID metadata and signers, validates every token with its own code, and
// gets each refusal with a status and a message that says what failed.
TEST_F(AttestClientsTest, MicrosoftSdkAttestsAndValidates) {
  json config = BaseConfig();
  const std::string deny_debug =
      "version=1.0; authorizationrules { [type==\"x-ms-sgx-is-debuggable\", value==true] => "
      "deny(); => permit(); }; issuancerules { };";
  config["refusals"] = json::array({
      {{"name", "tampered quote refused"},
       {"quote", dir_.File("tampered.bin")},
       {"runtime", dir_.File("runtime.bin")},
       {"status", 400},
       {"contains", {"signature"}}},
      {{"name", "wrong runtimeData refused"},
       {"quote", dir_.File("good.bin")},
       {"runtime", dir_.File("runtime-wrong.bin")},
       {"status", 400},
       {"contains", {"runtime"}}},
      {{"name", "debug enclave refused by a policy that forbids it"},
       {"quote", dir_.File("debug.bin")},
       {"runtime", dir_.File("runtime.bin")},
       {"draftPolicy", deny_debug},
       {"status", 400},
       {"contains", {"x-ms-sgx-is-debuggable"}}},
      {{"name", "revoked platform refused"},
       {"url", revoked_daemon_.url},
       {"quote", dir_.File("good.bin")},
       {"runtime", dir_.File("runtime.bin")},
       {"status", 400},
       {"contains", {"revoked"}}},
  });
  auto r = RunMaaClient(config);
  EXPECT_EQ(r.status, 0) << r.output;
  std::string missing;
  for (const char* check :
       {"PASS getOpenIdMetadata", "PASS getAttestationSigners", "PASS attestSgxEnclave Binary",
        "PASS Binary runtime data echoed (x-ms-sgx-ehd)", "PASS token header as MAA's",
        "PASS SDK validation found the signer", "PASS SDK refuses the token 9 h later",
        "PASS SDK refuses the token an hour early", "PASS SDK refuses another issuer",
        "PASS SDK refuses the token without the service's keys", "PASS attestSgxEnclave JSON",
        "PASS JSON runtime data returned (x-ms-runtime)", "PASS attestOpenEnclave",
        "PASS tampered quote refused", "PASS wrong runtimeData refused",
        "PASS debug enclave refused by a policy that forbids it", "PASS revoked platform refused",
        "maa-client: 17 passed, 0 failed"}) {
    if (r.output.find(check) == std::string::npos) missing += std::string(check) + "\n";
  }
  EXPECT_EQ(missing, "") << r.output << daemon_.process->Log();
  // The SDK's token is one any relying party accepts from /certs alone.
  EXPECT_EQ(RelyingParty(testing::ReadAll(dir_.File("sdk-token.jwt")), "--issuer " + daemon_.url),
            "0 released: the-database-password\n");
}

// Administration through Microsoft's AttestationAdministrationClient with a fixed bearer token
// (the daemon's --admin-token-file): get, set (the next token carries the new policy's claim and a
// debug enclave is refused by it), reset; another token is refused.
TEST_F(AttestClientsTest, MicrosoftSdkAdministersPolicy) {
  Daemon admin = StartAdminDaemon();
  ASSERT_TRUE(admin.process);
  RunAdministration(admin, "someone-else", 401);
}

// The same through the API server, as in a cluster: the policy lives in a ConfigMap, the
// bearer token is authenticated by a TokenReview and authorised by a SubjectAccessReview for
// that ConfigMap (the strict double of tests/kube answers both from its tables); a token the
// API server knows but RBAC does not allow gets 403.
TEST_F(AttestClientsTest, MicrosoftSdkAdministersPolicyThroughTheApiServer) {
  std::string err;
  auto tls = testing::MakeTlsFiles(dir_.path(), "apiserver-ca", &err);
  ASSERT_FALSE(tls.ca_crt.empty()) << err;
  testing::KubeApiDouble api(tls, "sgx-attest-sa-token", "unused-node", "{}", dir_.path());
  const std::string configmap = "/api/v1/namespaces/confcom-system/configmaps/sgx-attest-policy";
  api.PutObject(
      configmap,
      json({{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "sgx-attest-policy"}, {"namespace", "confcom-system"}}}})
          .dump());
  testing::KubeApiDouble::ReviewUser alice, mallory;
  alice.username = "alice";
  mallory.username = "mallory";
  // Tokens made for sgx-attest (`kubectl create token --audience sgx-attest`), as it asks.
  alice.audiences = mallory.audiences = {"sgx-attest"};
  api.AddReviewToken(kAdminToken, alice);
  api.AddReviewToken("mallory-token", mallory);
  for (const char* verb : {"get", "update"}) {
    api.AllowAccess("alice", verb, "confcom-system", "configmaps", "sgx-attest-policy");
  }
  std::string kubeconfig = testing::WriteKubeconfig(dir_.File("kubeconfig"), api.url(), tls.ca_crt,
                                                    "sgx-attest-sa-token");
  Daemon admin = StartDaemon(false, "attest-kube.log",
                             {"--enable-admin-api", "--policy-configmap",
                              "confcom-system/sgx-attest-policy", "--kubeconfig", kubeconfig});
  ASSERT_TRUE(admin.process);
  RunAdministration(admin, "mallory-token", 403);
  int reviews = 0, writes = 0;
  for (const auto& r : api.requests()) {
    reviews += r.path.find("subjectaccessreviews") != std::string::npos;
    writes += r.method == "PUT" && r.path == configmap;
  }
  EXPECT_GT(reviews, 0);
  EXPECT_GE(writes, 2);  // the set and the reset
}

// The example (examples/attest): the app gets a quote from the quote helper through sgxctl,
// sgx-attest attests it, and the relying party releases its secret to the expected MRENCLAVE
// only: not to another enclave, a debug one, a token of another issuer, or an expired one.
TEST_F(AttestClientsTest, ExampleReleasesTheSecretToTheRightEnclaveOnly) {
  auto app = [&](const std::string& mrenclave, const std::string& extra, const std::string& out) {
    return RunCommand("python3 " + Quoted(std::string(EXAMPLES_DIR) + "/app.py") +
                      " --attest-url " + daemon_.url + " --ca-file " + Quoted(ca_) + " --sgxctl " +
                      CONFCOM_SGXCTL_BIN + " --socket " + helper_->socket() + " --mrenclave " +
                      mrenclave + " --mrsigner " + kMrSigner + " " + extra + " --token-out " +
                      Quoted(dir_.File(out)) + " 2>&1");
  };
  auto right = app(kMrEnclave, "", "right.jwt");
  ASSERT_EQ(right.status, 0) << right.output << daemon_.process->Log();
  EXPECT_NE(right.output.find("attested:"), std::string::npos) << right.output;
  auto other = app(kOtherMrEnclave, "", "other.jwt");
  ASSERT_EQ(other.status, 0) << other.output;
  auto debug = app(kMrEnclave, "--debug", "debug.jwt");
  ASSERT_EQ(debug.status, 0) << debug.output;
  const std::string issuer = "--issuer " + daemon_.url;

  std::string token = testing::ReadAll(dir_.File("right.jwt"));
  EXPECT_EQ(RelyingParty(token, issuer), "0 released: the-database-password\n");
  std::string refused = RelyingParty(testing::ReadAll(dir_.File("other.jwt")), issuer);
  EXPECT_EQ(refused.rfind("1 refused: MRENCLAVE " + kOtherMrEnclave + " is not the expected", 0),
            0u)
      << refused;
  refused = RelyingParty(testing::ReadAll(dir_.File("debug.jwt")), issuer);
  EXPECT_EQ(refused.rfind("1 refused: the enclave is a DEBUG enclave", 0), 0u) << refused;

  // A relying party that trusts another service (its URL, or its keys) refuses this token.
  auto jwks = RunCommand("curl -sS --cacert " + Quoted(ca_) + " " + revoked_daemon_.url +
                         "/certs > " + Quoted(dir_.File("other-jwks.json")));
  ASSERT_EQ(jwks.status, 0) << jwks.output;
  refused = RelyingParty(token, "--issuer " + revoked_daemon_.url);
  EXPECT_EQ(refused.rfind("1 refused: jku", 0), 0u) << refused;
  refused = RelyingParty(token, issuer + " --jwks-file " + Quoted(dir_.File("other-jwks.json")));
  EXPECT_EQ(refused.rfind("1 refused: kid ", 0), 0u) << refused;
  // Nine hours later (tokens live 8 h) the same token has expired.
  refused = RelyingParty(token, issuer + " --at " + std::to_string(std::time(nullptr) + 9 * 3600));
  EXPECT_EQ(refused.rfind("1 refused: the token expired", 0), 0u) << refused;
  // And a token the relying party got by a direct request verifies the same way.
  EXPECT_EQ(RelyingParty(Attest("good.bin", "runtime.bin"), issuer),
            "0 released: the-database-password\n");
}

}  // namespace
}  // namespace confcom::attest
