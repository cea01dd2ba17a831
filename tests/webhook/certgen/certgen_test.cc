// `sgx-webhook certgen` against the strict HTTPS API-server double: the Secret is created,
// reused, replaced; the caBundle patches are applied by the API server's JSON-patch library to the shipped
// webhook configurations (deploy/components/webhook); the chain is checked by `openssl
// verify -verify_hostname`; RBAC denials and usage errors say what is wrong.
#include <gtest/gtest.h>
#include <httplib.h>

#include <sys/stat.h>

#include <thread>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "kube/credentials.h"
#include "kube/kube_api_double.h"
#include "testing/json_patch.h"
#include "testing/test_util.h"
#include "webhook/certgen/certgen_run.h"
#include "webhook/certgen/tls_bundle.h"

namespace confcom::webhook::certgen {
namespace {

using confcom::testing::CommandResult;
using confcom::testing::KubeApiDouble;
using confcom::testing::RunCommand;
using confcom::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kToken[] = "certgen-token";
constexpr char kSecrets[] = "/api/v1/namespaces/kube-system/secrets";
constexpr char kSecret[] = "/api/v1/namespaces/kube-system/secrets/sgx-webhook-tls";
constexpr char kMutating[] =
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sgx-mutate-config";
constexpr char kValidating[] =
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sgx-validate-config";
constexpr char kDeployment[] = "/apis/apps/v1/namespaces/kube-system/deployments/sgx-webhook";
constexpr std::time_t kDay = 86400;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A shipped webhook configuration as the API server would store it (YAML -> JSON by the
// suite's YAML tool, not kubectl: the suite runs without one).
std::string ShippedConfig(const std::string& file, const std::string& kind) {
  auto json = confcom::testing::YamlDocumentToJson(std::string(CONFCOM_SOURCE_DIR) +
                                                   "/deploy/components/webhook/" + file);
  EXPECT_TRUE(json.ok()) << json.status().ToString();
  if (!json.ok()) return "{}";
  EXPECT_EQ(nlohmann::json::parse(*json).value("kind", ""), kind) << file;
  return *json;
}

class WebhookCertgenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    tls_ = confcom::testing::MakeTlsFiles(dir_.path(), "apiserver-ca", &err);
    ASSERT_FALSE(tls_.ca_crt.empty()) << err;
    api_ = std::make_unique<KubeApiDouble>(tls_, kToken, "unused-node", "{}", dir_.path());
    api_->AllowCreate(kSecrets, "Secret");
    mutating_ = ShippedConfig("mutating-webhook.yaml", "MutatingWebhookConfiguration");
    validating_ = ShippedConfig("validating-webhook.yaml", "ValidatingWebhookConfiguration");
    ASSERT_FALSE(mutating_.empty());
    ASSERT_FALSE(validating_.empty());
    api_->PutObject(kMutating, mutating_);
    api_->PutObject(kValidating, validating_);
    kubeconfig_ = confcom::testing::WriteKubeconfig(dir_.File("kubeconfig"), api_->url(),
                                                    tls_.ca_crt, kToken);
    auto creds = kube::FromKubeconfig(kubeconfig_);
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    auto client = kube::ApiClient::Create(*creds);
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
    options_.now = std::time(nullptr);
    options_.retry.attempts = 5;
    options_.retry.initial = 10ms;
  }

  Result<CertgenOutcome> Run() { return EnsureWebhookCertificates(*client_, options_); }

  json Stored(const std::string& path) {
    std::string s = api_->Object(path);
    return s.empty() ? json() : json::parse(s);
  }
  TlsBundle StoredBundle() {
    json s = Stored(kSecret);
    TlsBundle b;
    b.tls_crt = *Base64Decode(s["data"]["tls.crt"]);
    b.tls_key = *Base64Decode(s["data"]["tls.key"]);
    b.ca_crt = *Base64Decode(s["data"]["ca.crt"]);
    return b;
  }
  // The caBundles of every webhook of both configurations, decoded.
  std::vector<std::string> CaBundles() {
    std::vector<std::string> out;
    for (const char* path : {kMutating, kValidating}) {
      const json config = Stored(path);
      for (const auto& h : config["webhooks"]) {
        out.push_back(h["clientConfig"].contains("caBundle")
                          ? *Base64Decode(h["clientConfig"]["caBundle"].get<std::string>())
                          : "");
      }
    }
    return out;
  }
  // `openssl verify` of tls.crt for `host` against `ca_pem`, at options_.now.
  CommandResult OpensslVerify(const TlsBundle& b, const std::string& ca_pem,
                              const std::string& host) {
    std::ofstream(dir_.File("v-ca.pem")) << ca_pem;
    std::ofstream(dir_.File("v-crt.pem")) << b.tls_crt;
    // At the time the test's run pretends it is.
    return RunCommand("openssl verify -attime " + std::to_string(options_.now) +
                      " -purpose sslserver -verify_hostname " + Quote(host) + " -CAfile " +
                      Quote(dir_.File("v-ca.pem")) + " " + Quote(dir_.File("v-crt.pem")) + " 2>&1");
  }
  std::vector<std::string> MethodsAndPaths() {
    std::vector<std::string> out;
    for (const auto& r : api_->requests()) out.push_back(r.method + " " + r.path);
    return out;
  }

  TempDir dir_;
  confcom::testing::TlsFiles tls_;
  std::unique_ptr<KubeApiDouble> api_;
  std::string kubeconfig_, mutating_, validating_;
  std::unique_ptr<kube::ApiClient> client_;
  CertgenOptions options_;
};

TEST_F(WebhookCertgenTest, FirstRunCreatesTheSecretAndPatchesBothConfigurations) {
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kCreated);
  EXPECT_EQ(out->patched.size(), 2u);
  EXPECT_EQ(api_->last_patch_error(), "");
  // Configurations first (trusted before served), then the Secret.
  EXPECT_EQ(MethodsAndPaths(),
            (std::vector<std::string>{
                "GET " + std::string(kSecret), "GET " + std::string(kMutating),
                "PATCH " + std::string(kMutating), "GET " + std::string(kValidating),
                "PATCH " + std::string(kValidating), "POST " + std::string(kSecrets)}));
  for (const auto& r : api_->requests()) {
    EXPECT_EQ(r.authorization, std::string("Bearer ") + kToken);
    if (r.method == "PATCH") {
      EXPECT_EQ(r.content_type, "application/json-patch+json");
      auto patch = json::parse(r.body);
      ASSERT_EQ(patch.size(), 2u) << r.body;  // one webhook each: test its name, add caBundle
      EXPECT_EQ(patch[0]["op"], "test");
      EXPECT_EQ(patch[0]["path"], "/webhooks/0/name");
      EXPECT_EQ(patch[1]["op"], "add");
      EXPECT_EQ(patch[1]["path"], "/webhooks/0/clientConfig/caBundle");
    }
    if (r.method == "POST") {
      EXPECT_EQ(r.content_type, "application/json");
    }
  }
  json secret = Stored(kSecret);
  EXPECT_EQ(secret["type"], "kubernetes.io/tls");
  EXPECT_EQ(secret["metadata"]["namespace"], "kube-system");
  TlsBundle b = StoredBundle();
  EXPECT_NE(b.tls_key.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(CheckBundle(b, ServiceDnsNames("sgx-webhook", "kube-system"), options_.now, 0s).ok());
  // The JSON-patch library applied the patches to the shipped configurations: every webhook now trusts the CA,
  // and nothing else changed.
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{b.ca_crt, b.ca_crt}));
  json m = Stored(kMutating), shipped = json::parse(mutating_);
  EXPECT_EQ(m["webhooks"][0]["clientConfig"]["service"],
            shipped["webhooks"][0]["clientConfig"]["service"]);
  EXPECT_EQ(m["webhooks"][0]["failurePolicy"], "Ignore");
  EXPECT_EQ(m["webhooks"][0]["namespaceSelector"], shipped["webhooks"][0]["namespaceSelector"]);
  // An independent verifier accepts the chain for the Service's names, and no other name.
  for (const char* host :
       {"sgx-webhook.kube-system.svc", "sgx-webhook.kube-system.svc.cluster.local"}) {
    CommandResult v = OpensslVerify(b, b.ca_crt, host);
    EXPECT_EQ(v.status, 0) << host << ": " << v.output;
  }
  CommandResult wrong = OpensslVerify(b, b.ca_crt, "sgx-webhook.default.svc");
  EXPECT_NE(wrong.status, 0) << wrong.output;
  CommandResult other_ca = OpensslVerify(b, Slurp(tls_.ca_crt), "sgx-webhook.kube-system.svc");
  EXPECT_NE(other_ca.status, 0) << other_ca.output;
}

// sgx-attest's serving certificate: a Service that is no admission webhook (only the Secret).
TEST_F(WebhookCertgenTest, WithoutWebhookConfigsOnlyTheSecretIsWritten) {
  options_.patch_webhooks = false;
  options_.service = "sgx-attest";
  options_.secret_name = "sgx-webhook-tls";
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kCreated);
  EXPECT_TRUE(out->patched.empty());
  EXPECT_EQ(MethodsAndPaths(), (std::vector<std::string>{"GET " + std::string(kSecret),
                                                         "POST " + std::string(kSecrets)}));
  EXPECT_EQ(Stored(kMutating)["metadata"]["resourceVersion"], "1001");  // as PutObject left it
}

TEST_F(WebhookCertgenTest, SecondRunReusesTheSecretAndWritesNothing) {
  ASSERT_TRUE(Run().ok());
  const std::string secret = api_->Object(kSecret);
  const std::string m = api_->Object(kMutating), v = api_->Object(kValidating);
  const size_t before = api_->requests().size();
  options_.now += 10 * kDay;
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReused);
  EXPECT_TRUE(out->patched.empty());
  EXPECT_EQ(out->unchanged.size(), 2u);
  auto reqs = api_->requests();
  ASSERT_EQ(reqs.size(), before + 3);
  for (size_t i = before; i < reqs.size(); ++i) EXPECT_EQ(reqs[i].method, "GET") << reqs[i].path;
  EXPECT_EQ(api_->Object(kSecret), secret);
  EXPECT_EQ(api_->Object(kMutating), m);
  EXPECT_EQ(api_->Object(kValidating), v);
}

TEST_F(WebhookCertgenTest, ReusedSecretRestoresAConfigurationThatLostItsCaBundle) {
  ASSERT_TRUE(Run().ok());
  const std::string ca = StoredBundle().ca_crt;
  api_->PutObject(kValidating, validating_);  // re-created without a caBundle
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReused);
  EXPECT_EQ(out->patched,
            std::vector<std::string>{"ValidatingWebhookConfiguration sgx-validate-config"});
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{ca, ca}));
}

TEST_F(WebhookCertgenTest, ExpiredCertificateIsReplacedUnderItsResourceVersion) {
  ASSERT_TRUE(Run().ok());
  const TlsBundle first = StoredBundle();
  const std::string version = Stored(kSecret)["metadata"]["resourceVersion"];
  options_.now += 400 * kDay;  // past the 365-day certificate
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReplaced);
  EXPECT_NE(out->why_new.find("verify"), std::string::npos) << out->why_new;  // expired
  const auto put = api_->requests().back();
  EXPECT_EQ(put.method + " " + put.path, "PUT " + std::string(kSecret));
  EXPECT_EQ(put.content_type, "application/json");
  EXPECT_EQ(json::parse(put.body)["metadata"]["resourceVersion"], version);
  const TlsBundle second = StoredBundle();
  EXPECT_NE(second.tls_crt, first.tls_crt);
  EXPECT_NE(second.ca_crt, first.ca_crt);
  EXPECT_TRUE(
      CheckBundle(second, ServiceDnsNames("sgx-webhook", "kube-system"), options_.now, 0s).ok());
  // The expired CA is not trusted any more.
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{second.ca_crt, second.ca_crt}));
}

TEST_F(WebhookCertgenTest, RenewalTrustsOldAndNewCaUntilTheNextRun) {
  ASSERT_TRUE(Run().ok());
  const TlsBundle first = StoredBundle();
  options_.now += 350 * kDay;  // inside the 30-day renewal window, still valid
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReplaced);
  EXPECT_NE(out->why_new.find("renewal window"), std::string::npos) << out->why_new;
  const TlsBundle second = StoredBundle();
  // Pods still serving the old certificate and pods serving the new one both verify.
  EXPECT_EQ(CaBundles(),
            (std::vector<std::string>{second.ca_crt + first.ca_crt, second.ca_crt + first.ca_crt}));
  CommandResult v =
      OpensslVerify(second, second.ca_crt + first.ca_crt, "sgx-webhook.kube-system.svc");
  EXPECT_EQ(v.status, 0) << v.output;
  // The next run (another webhook pod starting) reuses the new Secret and leaves both CAs:
  // pods started before the renewal still serve the old certificate from their emptyDir.
  options_.now += kDay;
  out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReused);
  EXPECT_TRUE(out->patched.empty());
  EXPECT_EQ(CaBundles(),
            (std::vector<std::string>{second.ca_crt + first.ca_crt, second.ca_crt + first.ca_crt}));
  // A configuration re-created without the new CA gets exactly the Secret's CA again.
  api_->PutObject(kValidating, validating_);
  out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{second.ca_crt + first.ca_crt, second.ca_crt}));
}

// The renewal CronJob (--restart-deployment=sgx-webhook): a reuse leaves the Deployment alone;
// a renewal annotates its pod template (a merge patch, other annotations kept) so it rolls.
TEST_F(WebhookCertgenTest, RenewalRestartsTheDeploymentAndAReuseDoesNot) {
  const json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "sgx-webhook"}, {"namespace", "kube-system"}}},
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", "x"}}}}},
          {"spec", {{"containers", json::array()}}}}}}}};
  api_->PutObject(kDeployment, deployment.dump());
  const std::string stored = api_->Object(kDeployment);
  ASSERT_TRUE(Run().ok());  // install (the init container): no restart asked for
  options_.restart_deployment = "sgx-webhook";
  options_.now += 100 * kDay;  // the daily CronJob, certificate still good
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReused);
  EXPECT_EQ(out->restarted, "");
  EXPECT_EQ(api_->Object(kDeployment), stored);
  for (const auto& r : api_->requests()) EXPECT_NE(r.path, kDeployment);

  options_.now += 250 * kDay;  // 350 days: inside the 30-day renewal window
  out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReplaced);
  EXPECT_EQ(out->restarted, "Deployment kube-system/sgx-webhook");
  const auto patch = api_->requests().back();
  EXPECT_EQ(patch.method + " " + patch.path, "PATCH " + std::string(kDeployment));
  EXPECT_EQ(patch.content_type, "application/merge-patch+json");
  const json annotations = Stored(kDeployment)["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(annotations[kRenewedAtAnnotation], FormatRfc3339(options_.now));
  EXPECT_EQ(annotations["kubectl.kubernetes.io/restartedAt"], "x");
  EXPECT_EQ(Stored(kDeployment)["spec"]["template"]["spec"],
            deployment["spec"]["template"]["spec"]);

  // The next day's run reuses the renewed Secret: no second roll.
  const std::string rolled = api_->Object(kDeployment);
  options_.now += kDay;
  out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReused);
  EXPECT_EQ(api_->Object(kDeployment), rolled);
}

// A renewal whose Deployment cannot be patched fails (the Job shows it) and says how to roll
// it by hand; the Secret holds the new certificate.
TEST_F(WebhookCertgenTest, RestartDeploymentErrorsNameThePermissionAndTheWayOut) {
  options_.restart_deployment = "sgx-webhook";
  auto out = Run();  // first run: created, and no Deployment stored
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kNotFound) << out.status().ToString();
  EXPECT_NE(out.status().message().find("rollout restart deployment/sgx-webhook"),
            std::string::npos)
      << out.status().ToString();
  EXPECT_FALSE(api_->Object(kSecret).empty());
  api_->PutObject(kDeployment, R"({"apiVersion":"apps/v1","kind":"Deployment"})");
  api_->Forbid("PATCH", kDeployment, "cannot patch resource \"deployments\"");
  options_.now += 400 * kDay;
  out = Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kPermissionDenied) << out.status().ToString();
  EXPECT_NE(out.status().message().find("patch deployments in namespace kube-system "
                                        "(resourceNames: [sgx-webhook])"),
            std::string::npos)
      << out.status().ToString();
}

// Two webhook pods' init containers at once: both saw no Secret, both made a CA and set the
// caBundle, one POST wins and the other gets 409 AlreadyExists. The loser reads the winner's
// Secret, trusts its CA and hands out its files; the Secret is never overwritten.
TEST_F(WebhookCertgenTest, LostCreateRaceUsesTheWinnersSecret) {
  auto won = Run();
  ASSERT_TRUE(won.ok()) << won.status().ToString();
  const std::string winner = api_->Object(kSecret);
  const TlsBundle w = StoredBundle();
  // The loser's first read happened before the winner's create: it sees no Secret.
  api_->FailNext(1, 404);
  const size_t before = api_->requests().size();
  options_.write_dir = dir_.File("loser");
  ASSERT_EQ(::mkdir(options_.write_dir.c_str(), 0700), 0);
  auto lost = Run();
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(lost->secret, CertgenOutcome::Secret::kReused);
  EXPECT_EQ(lost->lost_races, 1);
  std::vector<std::string> calls;
  auto reqs = api_->requests();
  for (size_t i = before; i < reqs.size(); ++i)
    calls.push_back(reqs[i].method + " " + reqs[i].path);
  EXPECT_EQ(calls, (std::vector<std::string>{
                       "GET " + std::string(kSecret), "GET " + std::string(kMutating),
                       "PATCH " + std::string(kMutating), "GET " + std::string(kValidating),
                       "PATCH " + std::string(kValidating), "POST " + std::string(kSecrets),
                       "GET " + std::string(kSecret), "GET " + std::string(kMutating),
                       "PATCH " + std::string(kMutating), "GET " + std::string(kValidating),
                       "PATCH " + std::string(kValidating)}));
  EXPECT_EQ(api_->Object(kSecret), winner);
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{w.ca_crt, w.ca_crt}));
  // The files the webhook container reads are the winner's, readable by the owner only.
  EXPECT_EQ(Slurp(options_.write_dir + "/tls.crt"), w.tls_crt);
  EXPECT_EQ(Slurp(options_.write_dir + "/tls.key"), w.tls_key);
  EXPECT_EQ(Slurp(options_.write_dir + "/ca.crt"), w.ca_crt);
  for (const char* f : {"tls.crt", "tls.key", "ca.crt"}) {
    struct stat st {};
    ASSERT_EQ(::stat((options_.write_dir + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
}

// The same race for real: two clients at once on one API server end with one Secret, both
// configurations trusting its CA, and both runs holding its files.
TEST_F(WebhookCertgenTest, TwoRunsAtOnceAgreeOnOneSecret) {
  auto creds = kube::FromKubeconfig(kubeconfig_);
  ASSERT_TRUE(creds.ok());
  auto other = kube::ApiClient::Create(*creds);
  ASSERT_TRUE(other.ok());
  CertgenOptions a = options_, b = options_;
  a.write_dir = dir_.File("a");
  b.write_dir = dir_.File("b");
  ASSERT_EQ(::mkdir(a.write_dir.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(b.write_dir.c_str(), 0700), 0);
  Result<CertgenOutcome> out_b = Status::Internal("not run");
  std::thread t([&] { out_b = EnsureWebhookCertificates(**other, b); });
  auto out_a = EnsureWebhookCertificates(*client_, a);
  t.join();
  ASSERT_TRUE(out_a.ok()) << out_a.status().ToString();
  ASSERT_TRUE(out_b.ok()) << out_b.status().ToString();
  const TlsBundle s = StoredBundle();
  EXPECT_EQ(CaBundles(), (std::vector<std::string>{s.ca_crt, s.ca_crt}));
  EXPECT_EQ(Slurp(a.write_dir + "/tls.crt"), s.tls_crt);
  EXPECT_EQ(Slurp(b.write_dir + "/tls.crt"), s.tls_crt);
  EXPECT_EQ(Slurp(b.write_dir + "/tls.key"), s.tls_key);
  int posts = 0;
  for (const auto& r : api_->requests()) posts += r.method == "POST";
  EXPECT_LE(posts, 2);
}

TEST_F(WebhookCertgenTest, SecretForOtherNamesOrBrokenIsReplaced) {
  auto other =
      GenerateBundle(ServiceDnsNames("other", "kube-system"), options_.now, 3650 * 24h, 365 * 24h);
  ASSERT_TRUE(other.ok());
  json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "sgx-webhook-tls"}, {"namespace", "kube-system"}}},
            {"type", "kubernetes.io/tls"},
            {"data",
             {{"tls.crt", Base64Encode(other->tls_crt)},
              {"tls.key", Base64Encode(other->tls_key)},
              {"ca.crt", Base64Encode(other->ca_crt)}}}};
  api_->PutObject(kSecret, s.dump());
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kReplaced);
  EXPECT_NE(out->why_new.find("does not name sgx-webhook.kube-system.svc"), std::string::npos)
      << out->why_new;
  // A key that is not the certificate's.
  auto third = GenerateBundle(ServiceDnsNames("sgx-webhook", "kube-system"), options_.now,
                              3650 * 24h, 365 * 24h);
  TlsBundle mixed = StoredBundle();
  mixed.tls_key = third->tls_key;
  Status st = CheckBundle(mixed, ServiceDnsNames("sgx-webhook", "kube-system"), options_.now, 0s);
  EXPECT_EQ(st.message(), "tls.key is not the key of tls.crt");
  EXPECT_EQ(st.message().find("PRIVATE"), std::string::npos);
}

TEST_F(WebhookCertgenTest, SecretOfAnotherTypeIsAnErrorNotOverwritten) {
  json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "sgx-webhook-tls"}, {"namespace", "kube-system"}}},
            {"type", "Opaque"},
            {"data", {{"password", "aHVudGVyMg=="}}}};
  api_->PutObject(kSecret, s.dump());
  const std::string before = api_->Object(kSecret);
  auto out = Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("type Opaque, not kubernetes.io/tls"), std::string::npos)
      << out.status().message();
  EXPECT_EQ(api_->Object(kSecret), before);
}

// Answers nested past kube::kMaxJsonDepth are refused before they are built (issue 20), for
// the Secret and for a webhook configuration; nothing is written.
TEST_F(WebhookCertgenTest, DeeplyNestedAnswersAreAnErrorNotParsed) {
  json deep = json::array();
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  json config = json::parse(mutating_);
  config["metadata"]["annotations"] = {{"x", deep.dump()}};  // inside a string: fine
  config["x"] = deep;
  api_->PutObject(kMutating, config.dump());
  const std::string before = api_->Object(kMutating);
  auto out = Run();  // creates the Secret, then reads the configuration
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("MutatingWebhookConfiguration sgx-mutate-config: JSON "
                                        "nested deeper than 64"),
            std::string::npos)
      << out.status().message();
  EXPECT_EQ(api_->Object(kMutating), before);

  json s = {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "sgx-webhook-tls"}, {"namespace", "kube-system"}}},
            {"type", "kubernetes.io/tls"},
            {"data", {{"x", deep}}}};
  api_->PutObject(kSecret, s.dump());
  out = Run();
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("Secret kube-system/sgx-webhook-tls: JSON nested deeper "
                                        "than 64"),
            std::string::npos)
      << out.status().message();
}

TEST_F(WebhookCertgenTest, RbacForbiddenSaysWhichPermissionIsMissing) {
  api_->Forbid("GET", kSecret,
               "secrets \"sgx-webhook-tls\" is forbidden: User \"system:serviceaccount:kube-system:"
               "sgx-webhook-certgen\" cannot get resource \"secrets\" in API group \"\" in the "
               "namespace \"kube-system\"");
  auto out = Run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(out.status().message().find("lacks the RBAC permission to get, create and update "
                                        "secrets in namespace kube-system"),
            std::string::npos)
      << out.status().message();
  EXPECT_NE(out.status().message().find("cannot get resource \"secrets\""), std::string::npos)
      << out.status().message();
  EXPECT_EQ(api_->requests().size(), 1u);  // a 403 is not retried

  TempDir d2;
  KubeApiDouble api2(tls_, kToken, "unused-node", "{}", d2.path());
  api2.AllowCreate(kSecrets, "Secret");
  api2.PutObject(kMutating, mutating_);
  api2.PutObject(kValidating, validating_);
  api2.Forbid("PATCH", kValidating, "forbidden");
  auto creds = kube::FromKubeconfig(
      confcom::testing::WriteKubeconfig(d2.File("kc"), api2.url(), tls_.ca_crt, kToken));
  auto client = kube::ApiClient::Create(*creds);
  auto out2 = EnsureWebhookCertificates(**client, options_);
  ASSERT_FALSE(out2.ok());
  EXPECT_NE(out2.status().message().find(
                "patch validatingwebhookconfigurations (resourceNames: [sgx-validate-config])"),
            std::string::npos)
      << out2.status().message();
  EXPECT_TRUE(api2.Object(kSecret).empty());  // no Secret the API server would not trust
}

TEST_F(WebhookCertgenTest, MissingConfigurationAndAwayServer) {
  api_->FailNext(2, 503);  // retried
  TempDir d2;
  KubeApiDouble api2(tls_, kToken, "unused-node", "{}", d2.path());
  api2.AllowCreate(kSecrets, "Secret");
  api2.PutObject(kMutating, mutating_);  // no validating configuration
  auto creds = kube::FromKubeconfig(
      confcom::testing::WriteKubeconfig(d2.File("kc"), api2.url(), tls_.ca_crt, kToken));
  auto client = kube::ApiClient::Create(*creds);
  auto missing = EnsureWebhookCertificates(**client, options_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find(
                "ValidatingWebhookConfiguration sgx-validate-config does not exist"),
            std::string::npos)
      << missing.status().message();
  auto out = Run();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->secret, CertgenOutcome::Secret::kCreated);
}

// The Secret's files as a TLS server's certificate and key (cpp-httplib on OpenSSL, as the
// webhook serves), and curl as the API server: it trusts only the caBundle, checks the name.
TEST_F(WebhookCertgenTest, ServedCertificateVerifiesForTheServiceName) {
  ASSERT_TRUE(Run().ok());
  const TlsBundle b = StoredBundle();
  std::ofstream(dir_.File("tls.crt")) << b.tls_crt;
  std::ofstream(dir_.File("tls.key")) << b.tls_key;
  std::ofstream(dir_.File("bundle.pem"))
      << *Base64Decode(Stored(kMutating)["webhooks"][0]["clientConfig"]["caBundle"]);
  httplib::SSLServer server(dir_.File("tls.crt").c_str(), dir_.File("tls.key").c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(5ms);
  auto curl = [&](const std::string& host) {
    return RunCommand("curl -sS --max-time 10 --cacert " + Quote(dir_.File("bundle.pem")) +
                      " --resolve " + host + ":" + std::to_string(port) + ":127.0.0.1 https://" +
                      host + ":" + std::to_string(port) + "/healthz 2>&1");
  };
  CommandResult ok = curl("sgx-webhook.kube-system.svc");
  CommandResult wrong = curl("sgx-webhook.default.svc");
  server.stop();
  t.join();
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(ok.output, "ok");
  EXPECT_NE(wrong.status, 0) << wrong.output;  // the name is checked
}

TEST(WebhookCertgenBundle, Base64AndNames) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_FALSE(Base64Decode("YWI").ok());
  EXPECT_EQ(ServiceDnsNames("w", "ns"),
            (std::vector<std::string>{"w.ns.svc", "w.ns.svc.cluster.local"}));
  EXPECT_FALSE(GenerateBundle({"bad name"}, std::time(nullptr), 48h, 24h).ok());
  EXPECT_FALSE(GenerateBundle({"a.b"}, std::time(nullptr), 24h, 48h).ok());  // outlives its CA
}

// The process: `sgx-webhook certgen` as the init container runs it.
TEST_F(WebhookCertgenTest, DriverRunsWithKubeconfigAndNeverLogsTheKey) {
  CommandResult r = RunCommand(std::string(CERTGEN_DRIVER_BIN) + " --kubeconfig " +
                               Quote(kubeconfig_) + " --log-level debug 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Secret kube-system/sgx-webhook-tls created"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("MutatingWebhookConfiguration sgx-mutate-config: caBundle set"),
            std::string::npos);
  const TlsBundle b = StoredBundle();
  EXPECT_EQ(r.output.find("PRIVATE KEY"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(Base64Encode(b.tls_key).substr(0, 40)), std::string::npos);
  EXPECT_EQ(r.output.find(kToken), std::string::npos);
  r = RunCommand(std::string(CERTGEN_DRIVER_BIN) + " --kubeconfig " + Quote(kubeconfig_) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("reused"), std::string::npos) << r.output;
  // RBAC denial: exit 1 with the missing permission named.
  api_->Forbid("GET", kMutating, "forbidden");
  api_->PutObject(kSecret,
                  "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"},"
                  "\"type\":\"kubernetes.io/tls\",\"data\":{}}");
  r = RunCommand(std::string(CERTGEN_DRIVER_BIN) + " --kubeconfig " + Quote(kubeconfig_) + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("get mutatingwebhookconfigurations (resourceNames: [sgx-mutate-config])"),
            std::string::npos)
      << r.output;
}

TEST(WebhookCertgenCli, HelpVersionAndUsageErrors) {
  const std::string bin = CERTGEN_DRIVER_BIN;
  CommandResult r = RunCommand(bin + " --help 2>&1");
  EXPECT_EQ(r.status, 0);
  for (const char* flag : {"--service", "--namespace", "--secret-name", "--mutating-config",
                           "--validating-config", "--cert-validity-days", "--kubeconfig"}) {
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
  }
  r = RunCommand(bin + " --version 2>&1");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, std::string("sgx-webhook ") + CONFCOM_VERSION + "\n");
  EXPECT_EQ(RunCommand(bin + " --no-such-flag 2>&1").status, 2);
  EXPECT_EQ(RunCommand(bin + " --service '' 2>&1").status, 2);
  r = RunCommand(bin + " --ca-validity-days 10 --cert-validity-days 20 2>&1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("exceeds --ca-validity-days"), std::string::npos) << r.output;
  EXPECT_EQ(RunCommand(bin + " --cert-validity-days 30 --renew-before-days 30 2>&1").status, 2);
  // No credentials at all: a failure (1), not a usage error.
  r = RunCommand("env -u KUBERNETES_SERVICE_HOST " + bin +
                 " --serviceaccount-dir /nonexistent 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
}

}  // namespace
}  // namespace confcom::webhook::certgen
