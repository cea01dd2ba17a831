// The real sgx-webhook binary as a process, over HTTPS with a test CA: reviews in exactly the
// API server's shape, posted with curl (--cacert), every returned patch applied to the original
// pod by the API server's own JSON-patch library (testing/json_patch.h), the result compared field by field
// with the expected pod and validated with the offline schemas of scripts/check-manifests.sh
// (deploy/validate). TLS checked with `openssl s_client -verify_return_error`; certificate
// rotation; HTTP errors on the wire; metrics.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "testing/json_patch.h"
#include "testing/test_util.h"

namespace {

using confcom::Result;
using confcom::testing::ApplyJsonPatch;
using confcom::testing::CommandResult;
using confcom::testing::Process;
using confcom::testing::ReadAll;
using confcom::testing::RunCommand;
using confcom::testing::TempDir;
using confcom::testing::WriteAll;
using nlohmann::json;

const std::string kSource = WEBHOOK_SOURCE_DIR;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A CA and a serving certificate for localhost / 127.0.0.1 signed by it (openssl CLI).
void MakeCerts(const std::string& dir, const std::string& tag) {
  std::string cmd =
      "cd " + Quote(dir) +
      " && set -e; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca-" +
      tag + " -keyout ca-" + tag + ".key -out ca-" + tag +
      ".crt 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=sgx-webhook-" +
      tag + " -keyout srv-" + tag + ".key -out srv-" + tag +
      ".csr 2>/dev/null; "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf; "
      "openssl x509 -req -in srv-" +
      tag + ".csr -CA ca-" + tag + ".crt -CAkey ca-" + tag +
      ".key -CAcreateserial -days 1 -extfile ext.cnf -out srv-" + tag + ".crt 2>/dev/null";
  CommandResult r = RunCommand(cmd);
  ASSERT_EQ(r.status, 0) << r.output;
}

class WebhookHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCerts(dir_.path(), "a");
    // The served files are copies, so rotation can replace them.
    RunCommand("cp " + Quote(dir_.File("srv-a.crt")) + " " + Quote(dir_.File("tls.crt")) +
               " && cp " + Quote(dir_.File("srv-a.key")) + " " + Quote(dir_.File("tls.key")));
    Start({});
  }

  void Start(std::vector<std::string> extra) {
    std::vector<std::string> argv = {WEBHOOK_BIN,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--tls-cert-file",
                                     dir_.File("tls.crt"),
                                     "--tls-private-key-file",
                                     dir_.File("tls.key"),
                                     "--metrics-address",
                                     "127.0.0.1:0",
                                     "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(argv, dir_.File("webhook.log"));
    std::regex serving("serving HTTPS on 127\\.0\\.0\\.1:([0-9]+)"),
        metrics("metrics on http://127\\.0\\.0\\.1:([0-9]+)");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::smatch m;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = proc_->Log();
      if (std::regex_search(log, m, serving)) {
        port_ = std::stoi(m[1]);
        if (std::regex_search(log, m, metrics)) metrics_port_ = std::stoi(m[1]);
        return;
      }
      ASSERT_TRUE(proc_->running()) << log;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "sgx-webhook did not start: " << proc_->Log();
  }

  void TearDown() override {
    if (proc_ && proc_->running()) {
      proc_->Signal(SIGTERM);
      EXPECT_EQ(proc_->Wait(), 0) << proc_->Log();
    }
  }

  std::string Url(const std::string& path) const {
    return "https://localhost:" + std::to_string(port_) + path;
  }

  // POSTs `body` with curl (server certificate verified against the test CA); returns
  // {http status, response body}.
  std::pair<int, std::string> Post(const std::string& path, const std::string& body,
                                   const std::string& content_type = "application/json") {
    WriteAll(dir_.File("body.json"), body);
    CommandResult r = RunCommand("curl -sS --cacert " + Quote(dir_.File("ca-a.crt")) + " -H " +
                                 Quote("Content-Type: " + content_type) + " --data-binary @" +
                                 Quote(dir_.File("body.json")) + " -o " + Quote(dir_.File("resp")) +
                                 " -w '%{http_code}' " + Quote(Url(path)));
    EXPECT_EQ(r.status, 0) << r.output;
    return {std::atoi(r.output.c_str()), ReadAll(dir_.File("resp"))};
  }

  static json Review(const json& pod, const std::string& ns) {
    return {{"apiVersion", "admission.k8s.io/v1"},
            {"kind", "AdmissionReview"},
            {"request",
             {{"uid", "2b3f8e6c-5c2e-4d0a-9a57-7d1c5e0f9b1a"},
              {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
              {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
              {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
              {"requestResource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
              {"name", pod["metadata"].value("name", "")},
              {"namespace", ns},
              {"operation", "CREATE"},
              {"userInfo",
               {{"username", "system:serviceaccount:kube-system:job-controller"},
                {"uid", "7e1a1c8a-1d49-4b3c-8f5e-2f0f8e0d6c21"},
                {"groups",
                 {"system:serviceaccounts", "system:serviceaccounts:kube-system",
                  "system:authenticated"}}}},
              {"object", pod},
              {"oldObject", nullptr},
              {"dryRun", false},
              {"options", {{"kind", "CreateOptions"}, {"apiVersion", "meta.k8s.io/v1"}}}}}};
  }

  // Mutates `pod` over HTTPS; returns the pod with the patch applied as the API server does (or the pod
  // itself when there is no patch), after checking the response's shape.
  json MutateOverHttps(const json& pod, bool expect_patch) {
    auto [status, body] = Post("/mutate-pods", Review(pod, pod["metadata"]["namespace"]).dump());
    EXPECT_EQ(status, 200) << body;
    json resp = json::parse(body, nullptr, false);
    EXPECT_EQ(resp["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(resp["kind"], "AdmissionReview");
    EXPECT_EQ(resp["response"]["uid"], "2b3f8e6c-5c2e-4d0a-9a57-7d1c5e0f9b1a");
    EXPECT_EQ(resp["response"]["allowed"], true);
    if (!expect_patch) {
      EXPECT_FALSE(resp["response"].contains("patch")) << body;
      EXPECT_FALSE(resp["response"].contains("patchType")) << body;
      return pod;
    }
    EXPECT_EQ(resp["response"]["patchType"], "JSONPatch");
    std::string b64 = resp["response"].value("patch", "");
    std::string patch(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(patch.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()), int(b64.size()));
    EXPECT_GT(n, 0);
    patch.resize(size_t(n));
    while (!patch.empty() && patch.back() == '\0') patch.pop_back();  // base64 padding
    Result<std::string> applied = ApplyJsonPatch(pod.dump(), patch);
    EXPECT_TRUE(applied.ok()) << "the API server's JSON-patch library refused the patch " << patch
                              << ": " << applied.status().ToString();
    json patched = json::parse(applied.ok() ? *applied : std::string(), nullptr, false);
    EXPECT_TRUE(patched.is_object());
    WriteAll(dir_.File("patched.json"), applied.ok() ? *applied : std::string());
    // The offline schemas of scripts/check-manifests.sh.
    CommandResult v = RunCommand("node " + Quote(kSource + "/deploy/validate/validate.mjs") +
                                 " --label webhook " + Quote(dir_.File("patched.json")) + " 2>&1");
    EXPECT_EQ(v.status, 0) << v.output;
    EXPECT_TRUE(std::regex_search(v.output, std::regex("^OK +Pod ", std::regex::multiline)))
        << v.output;
    return patched;
  }

  TempDir dir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0;
  int metrics_port_ = 0;
};

json BasePod(const std::string& name, json containers) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"containers", containers},
            {"restartPolicy", "Never"},
            {"serviceAccountName", "default"},
            {"dnsPolicy", "ClusterFirst"},
            {"terminationGracePeriodSeconds", 30}}}};
}

// The AKS quickstart: sgx.intel.com/epc: "10Mi" (requests defaulted from limits by the API server).
TEST_F(WebhookHttps, AksQuickstartPodGetsExactlyTheEnclaveAndAnnotations) {
  json pod = BasePod(
      "oe-helloworld",
      json::parse(
          R"([{"name":"oe-helloworld","image":"mcr.microsoft.com/acc/samples/oe-helloworld:latest",
    "resources":{"limits":{"sgx.intel.com/epc":"10Mi"},"requests":{"sgx.intel.com/epc":"10Mi"}}}])"));
  json got = MutateOverHttps(pod, true);
  json want = pod;
  want["spec"]["containers"][0]["resources"] = json::parse(
      R"({"limits":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1"},"requests":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1"}})");
  want["metadata"]["annotations"] = {{"sgx.intel.com/epc", "10Mi"},
                                     {"epc-limit.nri.io/container.oe-helloworld", "10485760"}};
  EXPECT_EQ(got, want) << got.dump(2);
  // Reinvocation: the mutated pod gets no patch.
  MutateOverHttps(got, false);
}

// The socket folder comes from the device plugin with the enclave device: no volume in the pod.
TEST_F(WebhookHttps, IntelAnnotatedAesmdPodGetsTheEnvAndNoVolume) {
  json pod = BasePod("attester", json::parse(R"([{"name":"app","image":"app:1",
    "resources":{"limits":{"sgx.intel.com/epc":"512Ki"},"requests":{"sgx.intel.com/epc":"512Ki"}}},
    {"name":"proxy","image":"envoy:1"}])"));
  pod["metadata"]["annotations"] = {{"sgx.intel.com/quote-provider", "aesmd"}};
  json got = MutateOverHttps(pod, true);
  json want = pod;
  json& c = want["spec"]["containers"][0];
  c["resources"]["limits"]["sgx.intel.com/enclave"] = "1";
  c["resources"]["requests"]["sgx.intel.com/enclave"] = "1";
  c["env"] = json::parse(R"([{"name":"SGX_AESM_ADDR","value":"1"}])");
  want["metadata"]["annotations"]["sgx.intel.com/epc"] = "512Ki";
  want["metadata"]["annotations"]["epc-limit.nri.io/container.app"] = "524288";
  EXPECT_EQ(got, want) << got.dump(2);
  MutateOverHttps(got, false);
}

// The user's Job (examples/sgx-test-job.yaml) as the API server hands its pod to the webhook:
// the template's spec, requests defaulted from limits, quantities as strings.
TEST_F(WebhookHttps, UsersLegacyJobPodIsTranslated) {
  CommandResult y = RunCommand(
      "cd " + Quote(kSource + "/deploy/validate") +
      " && node -e 'const y=require(\"yaml\");const fs=require(\"fs\");"
      "process.stdout.write(JSON.stringify(y.parse(fs.readFileSync(process.argv[1],\"utf8\"))))' " +
      Quote(kSource + "/examples/sgx-test-job.yaml"));
  ASSERT_EQ(y.status, 0) << y.output;
  json job = json::parse(y.output);
  json spec = job["spec"]["template"]["spec"];
  for (auto& c : spec["containers"]) {
    for (auto& [k, v] : c["resources"]["limits"].items()) {
      if (v.is_number()) v = std::to_string(v.get<int64_t>());
    }
    c["resources"]["requests"] = c["resources"]["limits"];
    c["image"] = "registry.example/sgx-test:1";
  }
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "sgx-test-x2k9p"},
                {"namespace", "default"},
                {"labels", {{"job-name", "sgx-test"}}}}},
              {"spec", spec}};
  ASSERT_EQ(pod["spec"]["containers"][0]["resources"]["limits"]
               ["kubernetes.azure.com/sgx_epc_mem_in_MiB"],
            "10");
  json got = MutateOverHttps(pod, true);
  json want = pod;
  want["spec"]["containers"][0]["resources"] = json::parse(
      R"({"limits":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1"},"requests":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1"}})");
  want["metadata"]["annotations"] = {{"sgx.intel.com/epc", "10Mi"},
                                     {"epc-limit.nri.io/container.sgxtest", "10485760"}};
  EXPECT_EQ(got, want) << got.dump(2);
  MutateOverHttps(got, false);
}

TEST_F(WebhookHttps, PlainNginxPodGetsNoPatchAndIsAllowed) {
  json pod = BasePod(
      "nginx",
      json::parse(R"([{"name":"nginx","image":"nginx:1.25","ports":[{"containerPort":80}]}])"));
  MutateOverHttps(pod, false);
  auto [status, body] = Post("/validate-pods", Review(pod, "default").dump());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(json::parse(body)["response"]["allowed"], true) << body;
}

TEST_F(WebhookHttps, ProvisioningDeviceRequestIsDeniedWithTheReason) {
  json pod = BasePod("greedy", json::parse(R"([{"name":"app","image":"app:1",
    "resources":{"limits":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1","sgx.intel.com/provision":"1"},
                 "requests":{"sgx.intel.com/epc":"10Mi","sgx.intel.com/enclave":"1","sgx.intel.com/provision":"1"}}}])"));
  auto [status, body] = Post("/validate-pods", Review(pod, "default").dump());
  ASSERT_EQ(status, 200) << body;
  json resp = json::parse(body)["response"];
  EXPECT_EQ(resp["uid"], "2b3f8e6c-5c2e-4d0a-9a57-7d1c5e0f9b1a");
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["code"], 403);
  std::string msg = resp["status"]["message"];
  EXPECT_NE(msg.find("container \"app\" requests sgx.intel.com/provision"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("SGX_AESM_ADDR=1"), std::string::npos) << msg;
  // The quote helper's own pod is allowed.
  pod["metadata"]["namespace"] = "kube-system";
  pod["spec"]["serviceAccountName"] = "sgx-quote-helper";
  auto [s2, b2] = Post("/validate-pods", Review(pod, "kube-system").dump());
  EXPECT_EQ(json::parse(b2)["response"]["allowed"], true) << b2;
}

TEST_F(WebhookHttps, ServerCertificateVerifiesWithOpensslAndAWrongCaFails) {
  auto sclient = [&](const std::string& ca) {
    return RunCommand(
        "echo | timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
        " -servername localhost -verify_hostname localhost -verify_return_error -CAfile " +
        Quote(ca) + " 2>&1");
  };
  CommandResult ok = sclient(dir_.File("ca-a.crt"));
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("Verify return code: 0 (ok)"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("CN = sgx-webhook-a"), std::string::npos) << ok.output;
  MakeCerts(dir_.path(), "b");
  CommandResult bad = sclient(dir_.File("ca-b.crt"));
  EXPECT_NE(bad.status, 0) << bad.output;
  EXPECT_EQ(bad.output.find("Verify return code: 0 (ok)"), std::string::npos) << bad.output;
}

TEST_F(WebhookHttps, RotatedCertificateIsServedOnTheNextHandshake) {
  MakeCerts(dir_.path(), "b");
  // As the kubelet updates a Secret volume: new files renamed into place.
  RunCommand("cd " + Quote(dir_.path()) +
             " && cp srv-b.crt tls.crt.new && cp srv-b.key tls.key.new && "
             "mv tls.key.new tls.key && mv tls.crt.new tls.crt");
  CommandResult r =
      RunCommand("echo | timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                 " -servername localhost -verify_return_error -CAfile " +
                 Quote(dir_.File("ca-b.crt")) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("CN = sgx-webhook-b"), std::string::npos) << r.output;
  // A broken rotation (key and certificate do not match) keeps the previous pair serving; the
  // replica stays ready (no outage) and /readyz's body says so.
  RunCommand("cd " + Quote(dir_.path()) + " && cp srv-a.key tls.key.new && mv tls.key.new tls.key");
  CommandResult still = RunCommand("curl -sS --cacert " + Quote(dir_.File("ca-b.crt")) +
                                   " -w ' %{http_code}' " + Quote(Url("/readyz")));
  EXPECT_NE(still.output.find("serving the previous certificate"), std::string::npos)
      << still.output;
  EXPECT_NE(still.output.find(" 200"), std::string::npos) << still.output;
  EXPECT_NE(proc_->Log().find("not reloaded"), std::string::npos);
}

TEST_F(WebhookHttps, HttpErrorsAreAnsweredAndTheDaemonKeepsServing) {
  auto [s415, b415] = Post("/mutate-pods", "{}", "text/plain");
  EXPECT_EQ(s415, 415) << b415;
  auto [s400, b400] = Post("/validate-pods", "{\"apiVersion\":\"admission.k8s.io/v1\"");
  EXPECT_EQ(s400, 400);
  EXPECT_NE(b400.find("malformed AdmissionReview"), std::string::npos) << b400;
  auto [s413, b413] = Post("/mutate-pods", std::string(5 << 20, ' '));
  EXPECT_EQ(s413, 413) << b413;
  auto [s404, b404] = Post("/nope", "{}");
  EXPECT_EQ(s404, 404);
  CommandResult h = RunCommand("curl -sS --cacert " + Quote(dir_.File("ca-a.crt")) + " " +
                               Quote(Url("/healthz")) + " " + Quote(Url("/readyz")));
  EXPECT_EQ(h.output, "ok\nok\n");
  // A client that sends garbage instead of TLS, then one that hangs up mid-handshake.
  RunCommand("timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port_) +
             "; printf \"GET / HTTP/1.1\\r\\n\\r\\n\" >&3; cat <&3' >/dev/null 2>&1");
  RunCommand("timeout 1 openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
             " </dev/null >/dev/null 2>&1");
  EXPECT_TRUE(proc_->running());
  json pod = BasePod("x", json::parse(R"([{"name":"a","image":"a"}])"));
  auto [status, body] = Post("/mutate-pods", Review(pod, "default").dump());
  EXPECT_EQ(status, 200) << body;
  // Metrics count what happened.
  CommandResult m =
      RunCommand("curl -sS http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics");
  EXPECT_NE(
      m.output.find("confcom_sgx_webhook_reviews_total{operation=\"mutate\",result=\"error\"} 1"),
      std::string::npos)
      << m.output;
  EXPECT_NE(m.output.find(
                "confcom_sgx_webhook_reviews_total{operation=\"mutate\",result=\"unchanged\"} 1"),
            std::string::npos)
      << m.output;
  EXPECT_NE(
      m.output.find("confcom_sgx_webhook_review_duration_seconds_count{operation=\"mutate\"} 2"),
      std::string::npos)
      << m.output;
}

TEST(WebhookCli, VersionHelpAndUsageErrors) {
  CommandResult v = RunCommand(std::string(WEBHOOK_BIN) + " --version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.output, "sgx-webhook " CONFCOM_VERSION "\n");
  CommandResult h = RunCommand(std::string(WEBHOOK_BIN) + " --help");
  EXPECT_EQ(h.status, 0);
  for (const char* flag :
       {"--listen", "--tls-cert-file", "--tls-private-key-file", "--legacy-translation",
        "--allow-provision-namespaces", "--allow-provision-service-accounts",
        "--quote-helper-service-account", "--metrics-address"}) {
    EXPECT_NE(h.output.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(RunCommand(std::string(WEBHOOK_BIN) + " --legacy-translation maybe").status, 2);
  EXPECT_EQ(RunCommand(std::string(WEBHOOK_BIN) + " --listen nonsense").status, 2);
  EXPECT_EQ(
      RunCommand(std::string(WEBHOOK_BIN) + " --allow-provision-service-accounts nocolon").status,
      2);
  // The certgen subcommand is dispatched (built from webhook/certgen when that is present).
  CommandResult certgen = RunCommand(std::string(WEBHOOK_BIN) + " certgen --help");
  if (certgen.status != 0) {
    EXPECT_EQ(certgen.status, 1);
    EXPECT_NE(certgen.output.find("certgen is not built"), std::string::npos) << certgen.output;
  }
  CommandResult nocert = RunCommand(std::string(WEBHOOK_BIN) +
                                    " --listen 127.0.0.1:0 --tls-cert-file /nonexistent "
                                    "--metrics-address off");
  EXPECT_EQ(nocert.status, 1);
  EXPECT_NE(nocert.output.find("/nonexistent"), std::string::npos) << nocert.output;
}

}  // namespace
