// The Kubernetes API client (credentials, HTTPS with a verified CA, retries) and the EPC
// registrar that uses it, against the strict local HTTPS double; patches are applied to a
// real Node object by the API server's own JSON-patch library.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "deviceplugin/sgx/epc_registrar.h"
#include "kube/api_client.h"
#include "kube/credentials.h"
#include "kube/kube_api_double.h"
#include "kube/node_fixture.h"
#include "testing/test_util.h"

namespace confcom::kube {
namespace {

using confcom::testing::KubeApiDouble;
using confcom::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string kNode = confcom::testing::NodeJson("node-1");

class KubeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    tls_ = confcom::testing::MakeTlsFiles(dir_.path(), "test-ca", &err);
    ASSERT_FALSE(tls_.ca_crt.empty()) << err;
    api_ = std::make_unique<KubeApiDouble>(tls_, "s3cret-token", "node-1", kNode, dir_.path());
    kubeconfig_ = confcom::testing::WriteKubeconfig(dir_.File("kubeconfig"), api_->url(),
                                                    tls_.ca_crt, "s3cret-token");
  }
  std::unique_ptr<ApiClient> Client(ClientOptions options = {}) {
    auto c = FromKubeconfig(kubeconfig_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    auto client = ApiClient::Create(*c, options);
    EXPECT_TRUE(client.ok());
    return std::move(client).value();
  }

  TempDir dir_;
  confcom::testing::TlsFiles tls_;
  std::unique_ptr<KubeApiDouble> api_;
  std::string kubeconfig_;
};

TEST_F(KubeApiTest, KubeconfigGivesServerCaAndToken) {
  auto c = FromKubeconfig(kubeconfig_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, api_->url());
  std::ifstream in(tls_.ca_crt);
  std::string ca((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(c->ca_pem, ca);
  EXPECT_EQ(c->token, "s3cret-token");
  EXPECT_EQ(c->Describe().find("s3cret"), std::string::npos);  // never shown
  EXPECT_FALSE(FromKubeconfig(kubeconfig_, "other").ok());
}

TEST_F(KubeApiTest, KubeconfigRefusesWhatCannotBeVerifiedOrUsed) {
  auto write = [&](const std::string& text) {
    std::ofstream(dir_.File("bad")) << text;
    return FromKubeconfig(dir_.File("bad"));
  };
  const std::string head =
      "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context:\n"
      "    cluster: k\n    user: u\n";
  auto insecure = write(head + "clusters:\n- name: k\n  cluster:\n    server: " + api_->url() +
                        "\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n"
                        "    token: t\n");
  EXPECT_NE(insecure.status().message().find("insecure-skip-tls-verify"), std::string::npos);
  auto http = write(head +
                    "clusters:\n- name: k\n  cluster:\n    server: http://127.0.0.1:1\n"
                    "    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n"
                    "    token: t\n");
  EXPECT_NE(http.status().message().find("is not https://"), std::string::npos);
  auto exec = write(head + "clusters:\n- name: k\n  cluster:\n    server: " + api_->url() +
                    "\n    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n"
                    "    exec:\n      command: aws\n");
  EXPECT_EQ(exec.status().code(), Status::Code::kUnsupported) << exec.status().ToString();
  // certificate-authority is relative to the kubeconfig's folder: it works.
  auto rel = write(head + "clusters:\n- name: k\n  cluster:\n    server: " + api_->url() +
                   "\n    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n"
                   "    token: t\n");
  EXPECT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_FALSE(write("{{{not yaml").ok());
  EXPECT_FALSE(write("- a list\n").ok());
  // Fields of the wrong type: a clear error, never an exception (yaml-cpp's as<> throws).
  for (const char* skip : {"maybe", "[true]", "{a: 1}", "yes"}) {
    auto odd = write(head + "clusters:\n- name: k\n  cluster:\n    server: " + api_->url() +
                     "\n    insecure-skip-tls-verify: " + skip +
                     "\n    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n"
                     "    token: t\n");
    EXPECT_NE(odd.status().message().find("insecure-skip-tls-verify"), std::string::npos)
        << skip << ": " << odd.status().ToString();
  }
  auto skip_false = write(head + "clusters:\n- name: k\n  cluster:\n    server: " + api_->url() +
                          "\n    insecure-skip-tls-verify: false\n    certificate-authority: "
                          "ca.crt\nusers:\n- name: u\n  user:\n    token: t\n");
  EXPECT_TRUE(skip_false.ok()) << skip_false.status().ToString();
  auto map_name = write(head +
                        "clusters:\n- name: {k: 1}\n  cluster:\n    server: x\n"
                        "- just-a-string\nusers:\n- name: [u]\n");
  EXPECT_NE(map_name.status().message().find("which is not in clusters"), std::string::npos)
      << map_name.status().ToString();
  auto list_server = write(head +
                           "clusters:\n- name: k\n  cluster:\n    server: [a, b]\n"
                           "users:\n- name: u\n  user:\n    token: t\n");
  EXPECT_NE(list_server.status().message().find("is not https://"), std::string::npos)
      << list_server.status().ToString();
  auto scalar_cluster = write(head + "clusters:\n- name: k\n  cluster: 5\n");
  EXPECT_FALSE(scalar_cluster.ok());
}

TEST_F(KubeApiTest, InClusterUsesEnvironmentCaAndRotatingTokenFile) {
  std::filesystem::create_directories(dir_.File("sa"));
  std::filesystem::copy_file(tls_.ca_crt, dir_.File("sa/ca.crt"));
  std::ofstream(dir_.File("sa/token")) << "s3cret-token\n";
  EXPECT_FALSE(InCluster("", "443", dir_.File("sa")).ok());
  auto c = InCluster("127.0.0.1", std::to_string(api_->port()), dir_.File("sa"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, api_->url());
  EXPECT_EQ(InCluster("fd00::1", "443", dir_.File("sa"))->server, "https://[fd00::1]:443");
  auto client = ApiClient::Create(*c);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Call("GET", "/api/v1/nodes/node-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  // The kubelet rotates the token: the next request reads the new one.
  std::ofstream(dir_.File("sa/token")) << "rotated";
  r = (*client)->Call("GET", "/api/v1/nodes/node-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(api_->requests().back().authorization, "Bearer rotated");
  // A token with a line break inside would add a header line: refused, never sent.
  std::ofstream(dir_.File("sa/token")) << "s3cret-token\r\nX-Injected: 1\n";
  auto injected = BearerToken(*c);
  ASSERT_FALSE(injected.ok());
  EXPECT_EQ(injected.status().message().find("s3cret"), std::string::npos);
  Credentials inline_token;
  inline_token.token = "a b";
  EXPECT_FALSE(BearerToken(inline_token).ok());
}

TEST_F(KubeApiTest, TlsIsVerifiedAgainstTheGivenCaOnly) {
  TempDir other;
  std::string err;
  auto other_tls = confcom::testing::MakeTlsFiles(other.path(), "other-ca", &err);
  ASSERT_FALSE(other_tls.ca_crt.empty()) << err;
  auto c = FromKubeconfig(confcom::testing::WriteKubeconfig(other.File("kc"), api_->url(),
                                                            other_tls.ca_crt, "s3cret-token"));
  ASSERT_TRUE(c.ok());
  auto client = ApiClient::Create(*c);
  ASSERT_TRUE(client.ok());
  RetryOptions retry;
  retry.attempts = 5;
  retry.initial = 10ms;
  auto r = (*client)->CallWithRetry("GET", "/api/v1/nodes/node-1", "", "", retry);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("TLS"), std::string::npos);
  EXPECT_TRUE(api_->requests().empty());  // nothing, not even the token, reached the server
}

TEST_F(KubeApiTest, RetriesWithBackoffWhileTheServerIsAway) {
  auto client = Client();
  api_->FailNext(3, 503);
  RetryOptions retry;
  retry.attempts = 10;  // bounded: a broken double fails the test instead of hanging it
  retry.initial = 20ms;
  int retries = 0;
  retry.on_retry = [&](const std::string& what, std::chrono::milliseconds) {
    ++retries;
    EXPECT_NE(what.find("HTTP 503"), std::string::npos) << what;
  };
  auto r = client->CallWithRetry("GET", "/api/v1/nodes/node-1", "", "", retry);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(retries, 3);
  // Nobody listening: a transport error, retried `attempts` times, then given up.
  auto c = FromKubeconfig(kubeconfig_);
  c->server = "https://127.0.0.1:1";
  auto dead = ApiClient::Create(*c);
  retry.attempts = 2;
  retry.on_retry = nullptr;
  auto d = (*dead)->CallWithRetry("GET", "/api/v1/nodes/node-1", "", "", retry);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kUnavailable);
  // A stop request ends the retries.
  retry.attempts = 0;
  retry.stop = [] { return true; };
  EXPECT_FALSE((*dead)->CallWithRetry("GET", "/", "", "", retry).ok());
}

TEST_F(KubeApiTest, AHangingServerDoesNotHoldAStopBack) {
  // A loopback listener that never answers: the TLS handshake waits forever.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto c = FromKubeconfig(kubeconfig_);
  c->server = "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto client = ApiClient::Create(*c);
  ASSERT_TRUE(client.ok());
  auto t0 = std::chrono::steady_clock::now();
  RetryOptions retry;
  retry.stop = [t0] { return std::chrono::steady_clock::now() - t0 > 300ms; };
  auto r = (*client)->CallWithRetry("GET", "/api/v1/nodes/node-1", "", "", retry);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "stopped");
  // Below the 5 s connect timeout with room: only the stop can have ended the call.
  EXPECT_LT(took, 4s) << "the request timeout is 15 s; stop must not wait for it";
  ::close(fd);
}

using confcom::deviceplugin::EpcRegistrar;
using confcom::deviceplugin::EpcRegistrarOptions;

TEST_F(KubeApiTest, RegistrarPatchesOnlyTheEpcCapacityAndOnlyWhenItDiffers) {
  std::atomic<uint64_t> epc{8ull << 30};
  EpcRegistrarOptions o;
  o.node_name = "node-1";
  o.backoff_initial = 20ms;
  EpcRegistrar reg(
      Client(), [&]() -> Result<uint64_t> { return epc.load(); }, o);
  api_->FailNext(2, 503);  // the API server is away at first
  Status st = reg.ReconcileOnce();
  ASSERT_TRUE(st.ok()) << st.ToString() << api_->last_patch_error();
  auto reqs = api_->requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2].method, "GET");
  EXPECT_EQ(reqs[2].path, "/api/v1/nodes/node-1");
  EXPECT_EQ(reqs[3].method, "PATCH");
  EXPECT_EQ(reqs[3].path, "/api/v1/nodes/node-1/status");
  EXPECT_EQ(reqs[3].content_type, "application/json-patch+json");
  EXPECT_EQ(reqs[3].authorization, "Bearer s3cret-token");
  // The double applied the body to the Node: the capacity is there, in bytes, and nothing else
  // changed.
  json before = json::parse(kNode), after = json::parse(api_->node());
  EXPECT_EQ(after["status"]["capacity"]["sgx.intel.com/epc"], "8589934592");
  after["status"]["capacity"].erase("sgx.intel.com/epc");
  EXPECT_EQ(after, before);
  EXPECT_EQ(reg.stats().registered.load(), 8ull << 30);

  // Already right: a GET, no PATCH. The API server may write the quantity its own way.
  json canonical = json::parse(api_->node());
  canonical["status"]["capacity"]["sgx.intel.com/epc"] = "8Gi";
  api_->SetNode(canonical.dump());
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  reqs = api_->requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[4].method, "GET");

  // The EPC changed (a BIOS setting, then a reboot): patched to the new value.
  epc = 4ull << 30;
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  EXPECT_EQ(json::parse(api_->node())["status"]["capacity"]["sgx.intel.com/epc"], "4294967296");
}

TEST_F(KubeApiTest, RegistrarSaysWhatToFix) {
  EpcRegistrarOptions o;
  o.node_name = "no-such-node";
  EpcRegistrar reg(
      Client(), []() -> Result<uint64_t> { return uint64_t(1) << 30; }, o);
  Status st = reg.ReconcileOnce();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("HTTP 404"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("NODE_NAME"), std::string::npos) << st.message();
  // A node name is a Node name, never a path.
  size_t before = api_->requests().size();
  o.node_name = "node-1/status";
  EpcRegistrar reg2(
      Client(), []() -> Result<uint64_t> { return uint64_t(1) << 30; }, o);
  Status bad = reg2.ReconcileOnce();
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument) << bad.ToString();
  EXPECT_EQ(api_->requests().size(), before);
}

// Issue 20: a Node whose `kind` is not a string ended the plugin (std::terminate, exit 134).
// Every bad answer is now a failed reconciliation naming the field, and a good answer after
// them registers the EPC.
TEST_F(KubeApiTest, RegistrarSurvivesBadAnswersNamingTheFieldAndRecovers) {
  EpcRegistrarOptions o;
  o.node_name = "node-1";
  o.backoff_initial = 10ms;
  o.backoff_max = 50ms;
  o.resync = 50ms;
  ClientOptions small;
  small.max_response_bytes = confcom::deviceplugin::kMaxNodeAnswerBytes;
  std::atomic<uint64_t> epc{uint64_t(1) << 30};
  EpcRegistrar reg(
      Client(small), [&]() -> Result<uint64_t> { return epc.load(); }, o);
  json good = json::parse(kNode);
  auto with = [&](const char* pointer, json value) {
    json n = good;
    n[json::json_pointer(pointer)] = std::move(value);
    return n.dump();
  };
  const std::string padded = with("/metadata/annotations", {{"pad", std::string(3 << 20, 'x')}});
  struct Case {
    std::string node, says;
  } cases[] = {
      {with("/kind", 5), "Node.kind is a number (5), not a string"},
      {with("/status/capacity", json::array({"sgx.intel.com/epc"})),
       "Node.status.capacity is an array of 1, not an object"},
      {with("/status/capacity/sgx.intel.com~1epc", 1073741824),
       "Node.status.capacity[\"sgx.intel.com/epc\"] is a number (1073741824), not a string"},
      {"<html><body>502 Bad Gateway</body></html>", "the Node: not JSON"},
      {std::string(2 << 20, '['), "nested deeper than 64"},
      {padded, "response larger than 2097152 bytes"},
  };
  for (const Case& c : cases) {
    api_->SetNode(c.node);
    Status st = reg.ReconcileOnce();
    ASSERT_FALSE(st.ok()) << c.says;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(std::string(100, 'x')), std::string::npos) << "log flooded";
  }
  EXPECT_EQ(reg.stats().patches.load(), 0u);

  // An EPC no quantity can hold is refused before any request.
  api_->SetNode(kNode);
  size_t before = api_->requests().size();
  epc = UINT64_MAX;
  EXPECT_EQ(reg.ReconcileOnce().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(api_->requests().size(), before);
  epc = uint64_t(1) << 30;

  // The thread: bad answers are failures it logs and retries, then the good one registers.
  api_->SetNode(with("/kind", 5));
  reg.Start();
  for (int i = 0; i < 400 && reg.stats().failures.load() < 3; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(reg.stats().failures.load(), 3u);
  api_->SetNode(kNode);
  for (int i = 0; i < 1000 && reg.stats().registered.load() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(reg.stats().registered.load(), uint64_t(1) << 30) << api_->last_patch_error();
  reg.Stop();
  EXPECT_EQ(json::parse(api_->node())["status"]["capacity"]["sgx.intel.com/epc"], "1073741824");
}

// Issue 21: a Node without status.capacity (or status) got an "add" below a missing parent,
// which the API server refuses with 422. The patch now adds the object, and an API error says
// which call and which patch failed.
TEST_F(KubeApiTest, RegistrarAddsTheCapacityObjectToANodeWithoutOne) {
  EpcRegistrarOptions o;
  o.node_name = "node-1";
  EpcRegistrar reg(
      Client(), []() -> Result<uint64_t> { return uint64_t(1) << 30; }, o);
  json bare = json::parse(kNode);
  bare["status"].erase("capacity");
  api_->SetNode(bare.dump());
  Status st = reg.ReconcileOnce();
  ASSERT_TRUE(st.ok()) << st.ToString() << api_->last_patch_error();
  json after = json::parse(api_->node());
  EXPECT_EQ(after["status"]["capacity"], json({{"sgx.intel.com/epc", "1073741824"}}));
  EXPECT_EQ(after["status"]["allocatable"], bare["status"]["allocatable"]);
  EXPECT_EQ(json::parse(api_->requests().back().body)[0]["path"], "/status/capacity");

  bare.erase("status");
  api_->SetNode(bare.dump());
  st = reg.ReconcileOnce();
  ASSERT_TRUE(st.ok()) << st.ToString() << api_->last_patch_error();
  EXPECT_EQ(json::parse(api_->node())["status"],
            json({{"capacity", {{"sgx.intel.com/epc", "1073741824"}}}}));

  api_->SetNode(kNode);
  api_->Forbid("PATCH", "/api/v1/nodes/node-1/status", "nodes \"node-1\" is forbidden");
  st = reg.ReconcileOnce();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("PATCH /api/v1/nodes/node-1/status (JSON patch: add "
                              "status.capacity[sgx.intel.com/epc] = 1073741824): forbidden"),
            std::string::npos)
      << st.message();
}

// Issue 21: nothing was logged when the API server came back after an outage. The registrar
// now counts the outage as recovered once (and logs how long and how many tries).
TEST_F(KubeApiTest, RegistrarLogsOnceWhenTheApiServerIsBack) {
  EpcRegistrarOptions o;
  o.node_name = "node-1";
  o.backoff_initial = 10ms;
  EpcRegistrar reg(
      Client(), []() -> Result<uint64_t> { return uint64_t(1) << 30; }, o);
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  EXPECT_EQ(reg.stats().recoveries.load(), 0u);
  api_->FailNext(3, 503);
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  EXPECT_EQ(reg.stats().recoveries.load(), 1u);
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  EXPECT_EQ(reg.stats().recoveries.load(), 1u);
}

// Uninstall (issue 21): at SIGTERM the plugin removes sgx.intel.com/epc only when its DaemonSet
// is gone or being deleted, and only its own value.
TEST_F(KubeApiTest, RegistrarReleasesTheCapacityOnlyWhenItsDaemonSetIsGone) {
  EpcRegistrarOptions o;
  o.node_name = "node-1";
  EpcRegistrar reg(
      Client(), []() -> Result<uint64_t> { return uint64_t(1) << 30; }, o);
  ASSERT_TRUE(reg.ReconcileOnce().ok()) << api_->last_patch_error();
  const std::string ds = "/apis/apps/v1/namespaces/kube-system/daemonsets/sgx-plugin";
  json daemonset = {{"apiVersion", "apps/v1"},
                    {"kind", "DaemonSet"},
                    {"metadata", {{"name", "sgx-plugin"}, {"namespace", "kube-system"}}}};
  api_->PutObject(ds, daemonset.dump());
  const confcom::deviceplugin::OwnerDaemonSet owner{"kube-system", "sgx-plugin"};
  // A restart or rolling update: the DaemonSet exists, the capacity stays.
  auto kept = reg.ReleaseIfOwnerGone(owner, 5s);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_FALSE(*kept);
  EXPECT_EQ(json::parse(api_->node())["status"]["capacity"]["sgx.intel.com/epc"], "1073741824");
  EXPECT_EQ(api_->requests().back().path, ds);
  // Another writer's value is left alone even when the DaemonSet is gone.
  json other = json::parse(api_->node());
  other["status"]["capacity"]["sgx.intel.com/epc"] = "2Gi";
  api_->SetNode(other.dump());
  auto not_ours = reg.ReleaseIfOwnerGone({"kube-system", "deleted"}, 5s);
  ASSERT_TRUE(not_ours.ok()) << not_ours.status().ToString();
  EXPECT_FALSE(*not_ours);
  EXPECT_EQ(json::parse(api_->node())["status"]["capacity"]["sgx.intel.com/epc"], "2Gi");
  // Being deleted (kubectl delete --cascade=foreground): removed with a guarded patch.
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  daemonset["metadata"]["deletionTimestamp"] = "2026-12-07T04:00:00Z";
  api_->PutObject(ds, daemonset.dump());
  auto removed = reg.ReleaseIfOwnerGone(owner, 5s);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString() << api_->last_patch_error();
  EXPECT_TRUE(*removed);
  json after = json::parse(api_->node());
  EXPECT_FALSE(after["status"]["capacity"].contains("sgx.intel.com/epc"));
  EXPECT_EQ(after["status"]["capacity"]["cpu"], "2");
  auto patch = json::parse(api_->requests().back().body);
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[0], json({{"op", "test"},
                            {"path", "/status/capacity/sgx.intel.com~1epc"},
                            {"value", "1073741824"}}));
  EXPECT_EQ(patch[1]["op"], "remove");
  // Gone (404) and nothing left: nothing to do.
  auto again = reg.ReleaseIfOwnerGone({"kube-system", "deleted"}, 5s);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  // RBAC missing: the rule is named, the capacity untouched.
  ASSERT_TRUE(reg.ReconcileOnce().ok());
  api_->Forbid("GET", ds, "forbidden");
  auto denied = reg.ReleaseIfOwnerGone(owner, 5s);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find(
                "get daemonsets (resourceNames: [sgx-plugin]) in namespace kube-system"),
            std::string::npos)
      << denied.status().message();
  EXPECT_TRUE(json::parse(api_->node())["status"]["capacity"].contains("sgx.intel.com/epc"));
  // The flag's value.
  EXPECT_TRUE(confcom::deviceplugin::OwnerDaemonSet::Parse("kube-system/sgx-plugin").ok());
  for (const char* bad : {"sgx-plugin", "/x", "a/", "A/b", "a/b/c", "a/B"}) {
    EXPECT_FALSE(confcom::deviceplugin::OwnerDaemonSet::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace confcom::kube
