// Every pod-bearing example under examples/, as the API server hands its pod to sgx-webhook,
// mutated by the real mutator (the patch applied with nlohmann's RFC 6902 implementation):
//   * the mutated pod passes Pod Security "restricted" (deploy/validate/pod-security.mjs), and
//     the pod shape the webhook made before (a hostPath for /var/run/aesmd) fails "baseline";
//   * on the simulated overlay (deploy/overlays/simulated, its plugin's arguments read from the
//     rendered overlay; skipped with a message without kubectl >= 1.27), each SGX container's
//     device plugin resources are allocated through the kubelet emulator and it gets what it
//     needs: the socket folder mount for out-of-proc quoting, no device node (simulation).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "deviceplugin/json_events.h"
#include "deviceplugin/plugin_node.h"
#include "webhook/pod_mutator.h"
#include "webhook/pod_validator.h"
#include "testing/test_util.h"

namespace confcom::webhook {
namespace {

using confcom::testing::RunCommand;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string kSource = WEBHOOK_SOURCE_DIR;
const std::string kValidate = kSource + "/deploy/validate";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// The objects of a YAML file (or of kubectl's output), through deploy/validate's yaml package.
json YamlObjects(const std::string& path) {
  auto r = RunCommand("cd " + Quote(kValidate) +
                      " && node -e 'const y=require(\"yaml\");const fs=require(\"fs\");"
                      "process.stdout.write(JSON.stringify(y.parseAllDocuments(fs.readFileSync("
                      "process.argv[1],\"utf8\")).map(d=>d.toJS()).filter(Boolean)))' " +
                      Quote(path));
  EXPECT_EQ(r.status, 0) << r.output;
  return r.status == 0 ? json::parse(r.output) : json::array();
}

// A workload's pod as the API server hands it to admission: the template's metadata and spec,
// quantities as strings, requests defaulted from limits (as for extended resources).
json PodOf(const json& o) {
  json tmpl = o["kind"] == "Pod"       ? o
              : o["kind"] == "CronJob" ? o["spec"]["jobTemplate"]["spec"]["template"]
                                       : o["spec"]["template"];
  json pod = {
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", tmpl.value("metadata", json::object())}};
  pod["metadata"]["name"] = o["metadata"].value("name", "example") + std::string("-x2k9p");
  pod["metadata"]["namespace"] = "apps";
  pod["spec"] = tmpl["spec"];
  for (const char* list : {"initContainers", "containers"}) {
    if (!pod["spec"].contains(list)) continue;
    for (auto& c : pod["spec"][list]) {
      if (!c.contains("resources") || !c["resources"].contains("limits")) continue;
      for (auto& [k, v] : c["resources"]["limits"].items()) {
        if (v.is_number()) v = std::to_string(v.get<int64_t>());
      }
      for (auto& [k, v] : c["resources"]["limits"].items()) {
        if (!c["resources"]["requests"].contains(k)) c["resources"]["requests"][k] = v;
      }
    }
  }
  return pod;
}

struct Example {
  std::string file;
  json pod;      // as submitted
  json mutated;  // after sgx-webhook's patch
};

// Every pod-bearing object of examples/*.yaml and examples/*/*.yaml, mutated as in the default
// and the simulated overlay (sgx-webhook's default flags).
std::vector<Example> Examples() {
  std::vector<Example> out;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(kSource + "/examples")) {
    const std::string p = e.path().string();
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    for (const auto& o : YamlObjects(f)) {
      if (!o.contains("kind") || !o.contains("spec")) continue;
      json pod = PodOf(o);
      if (!pod["spec"].is_object() || !pod["spec"].contains("containers")) continue;
      WebhookConfig config;
      Verdict v = ValidatePod(pod, "apps", pod["metadata"]["name"].get<std::string>(), config);
      EXPECT_TRUE(v.allowed) << f << ": " << v.message;
      Mutation m = MutatePod(pod, "apps", config);
      out.push_back({std::filesystem::relative(f, kSource).string(), pod, pod.patch(m.patch)});
    }
  }
  return out;
}

// node pod-security.mjs LEVEL on `pod` written to a file: its exit status and output.
confcom::testing::CommandResult PodSecurity(const std::string& level, const json& pod,
                                            const std::string& dir) {
  std::string path = dir + "/pod.json";
  std::ofstream(path) << pod.dump(2);
  return RunCommand("cd " + Quote(kValidate) + " && node pod-security.mjs " + level + " " +
                    Quote(path));
}

TEST(WebhookExamples, EveryMutatedExamplePodPassesPodSecurityRestricted) {
  confcom::testing::TempDir dir;
  auto examples = Examples();
  ASSERT_GE(examples.size(), 3u);
  for (const auto& e : examples) {
    EXPECT_NE(e.pod, e.mutated) << e.file << ": the webhook changed nothing (not an SGX example?)";
    auto r = PodSecurity("restricted", e.mutated, dir.path());
    EXPECT_EQ(r.status, 0) << e.file << ":\n" << r.output << e.mutated.dump(2);
    // Every SGX container has the enclave device (the plugin's mount comes with it).
    for (const auto& c : e.mutated["spec"]["containers"]) {
      const json& lim = c["resources"]["limits"];
      if (lim.contains("sgx.intel.com/epc")) {
        EXPECT_EQ(lim["sgx.intel.com/enclave"], "1") << e.file;
      }
    }
  }
}

// What the webhook added before the plugin mounted the socket folder, and a pod that brings
// its own hostPath: the API server's PodSecurity refuses both, with this message.
TEST(WebhookExamples, AHostPathForTheSocketFailsBaselineAsTheApiServerSays) {
  confcom::testing::TempDir dir;
  auto examples = Examples();
  ASSERT_FALSE(examples.empty());
  json pod = examples[0].mutated;
  pod["spec"]["volumes"] = json::parse(
      R"([{"name":"aesmd-socket","hostPath":{"path":"/var/run/aesmd","type":"DirectoryOrCreate"}}])");
  pod["spec"]["containers"][0]["volumeMounts"] =
      json::parse(R"([{"name":"aesmd-socket","mountPath":"/var/run/aesmd","readOnly":true}])");
  auto r = PodSecurity("baseline", pod, dir.path());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("violates PodSecurity \"baseline:latest\": hostPath volumes (volume "
                          "\"aesmd-socket\")"),
            std::string::npos)
      << r.output;
  // And restricted names the other rules too, as the API server does.
  pod["spec"]["hostPID"] = true;
  pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = {"SYS_ADMIN"};
  r = PodSecurity("restricted", pod, dir.path());
  EXPECT_EQ(r.status, 1);
  for (
      const char* want :
      {"host namespaces (hostPID=true)", "non-default capabilities (container",
       "must not include \"SYS_ADMIN\" in securityContext.capabilities.add",
       "restricted volume types (volume \"aesmd-socket\" uses restricted volume type \"hostPath\")"}) {
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
  }
}

// deploy/validate/pod-security.mjs itself: a restricted-compliant pod, then one change at a time,
// each refused with the reason the API server's PodSecurity admission gives (and the level).
TEST(WebhookPodSecurity, EachRuleRefusesWithTheApiServersReason) {
  confcom::testing::TempDir dir;
  const json good = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
      "containers":[{"name":"app","image":"app:1","securityContext":{
        "allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE"]}}}],
      "volumes":[{"name":"cfg","configMap":{"name":"c"}},{"name":"tmp","emptyDir":{}}]}})");
  auto r = PodSecurity("restricted", good, dir.path());
  ASSERT_EQ(r.status, 0) << r.output;
  struct Case {
    const char* patch;  // RFC 6902, applied to `good`
    const char* level;  // the lowest level that refuses it
    const char* reason;
  };
  const Case cases[] = {
      {R"([{"op":"add","path":"/spec/hostNetwork","value":true}])", "baseline",
       "host namespaces (hostNetwork=true)"},
      {R"([{"op":"add","path":"/spec/containers/0/securityContext/privileged","value":true}])",
       "baseline", "privileged (container \"app\" must not set securityContext.privileged=true)"},
      {R"([{"op":"add","path":"/spec/containers/0/securityContext/capabilities/add/-","value":"NET_ADMIN"}])",
       "baseline", "non-default capabilities (container \"app\" must not include \"NET_ADMIN\""},
      {R"([{"op":"add","path":"/spec/containers/0/ports","value":[{"containerPort":80,"hostPort":8080}]}])",
       "baseline", "hostPort (container \"app\" uses hostPort 8080)"},
      {R"([{"op":"add","path":"/spec/containers/0/securityContext/procMount","value":"Unmasked"}])",
       "baseline",
       "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\")"},
      {R"([{"op":"add","path":"/spec/securityContext/seccompProfile/type","value":"Unconfined"}])",
       "baseline",
       "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"},
      {R"([{"op":"add","path":"/spec/securityContext/sysctls","value":[{"name":"kernel.msgmax","value":"1"}]}])",
       "baseline", "forbidden sysctls (kernel.msgmax)"},
      {R"([{"op":"add","path":"/spec/securityContext/seLinuxOptions","value":{"type":"spc_t"}}])",
       "baseline",
       "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\")"},
      {R"([{"op":"add","path":"/metadata/annotations","value":{"container.apparmor.security.beta.kubernetes.io/app":"unconfined"}}])",
       "baseline",
       "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app=\"unconfined\")"},
      {R"([{"op":"add","path":"/spec/securityContext/windowsOptions","value":{"hostProcess":true}}])",
       "baseline", "hostProcess"},
      {R"([{"op":"add","path":"/spec/volumes/-","value":{"name":"nfs","nfs":{"server":"s","path":"/"}}}])",
       "restricted",
       "restricted volume types (volume \"nfs\" uses restricted volume type \"nfs\")"},
      {R"([{"op":"remove","path":"/spec/containers/0/securityContext/allowPrivilegeEscalation"}])",
       "restricted", "allowPrivilegeEscalation != false (container \"app\" must set"},
      {R"([{"op":"remove","path":"/spec/securityContext/runAsNonRoot"}])", "restricted",
       "runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true)"},
      {R"([{"op":"add","path":"/spec/containers/0/securityContext/runAsUser","value":0}])",
       "restricted", "runAsUser=0 (container \"app\" must not set runAsUser=0)"},
      {R"([{"op":"remove","path":"/spec/securityContext/seccompProfile"}])", "restricted",
       "seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to "
       "\"RuntimeDefault\" or \"Localhost\")"},
      {R"([{"op":"replace","path":"/spec/containers/0/securityContext/capabilities/drop","value":["NET_RAW"]}])",
       "restricted",
       "unrestricted capabilities (container \"app\" must set "
       "securityContext.capabilities.drop=[\"ALL\"])"},
  };
  for (const auto& c : cases) {
    json pod = good.patch(json::parse(c.patch));
    auto restricted = PodSecurity("restricted", pod, dir.path());
    EXPECT_EQ(restricted.status, 1) << c.patch << "\n" << restricted.output;
    EXPECT_NE(restricted.output.find(c.reason), std::string::npos) << c.patch << "\n"
                                                                   << restricted.output;
    auto baseline = PodSecurity("baseline", pod, dir.path());
    EXPECT_EQ(baseline.status, std::string(c.level) == "baseline" ? 1 : 0) << c.patch << "\n"
                                                                           << baseline.output;
  }
}

// Why this machine's kubectl cannot render deploy/ (scripts/kubectl-version.sh, the check every
// rendering test and scripts/check-manifests.sh share), or "" when it can.
std::string KubectlRenderProblem() {
  auto r =
      RunCommand("bash -c " + Quote("source \"" + kSource +
                                    "/scripts/kubectl-version.sh\" && kubectl_render_problem"));
  std::string msg = r.output;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

TEST(WebhookExamples, EveryExampleGetsItsDevicesOnTheSimulatedOverlay) {
  if (std::string problem = KubectlRenderProblem(); !problem.empty()) {
    GTEST_SKIP() << "skip: " << problem;
  }
  confcom::testing::TempDir dir;
  const std::string rendered = dir.path() + "/simulated.yaml";
  auto r = RunCommand("KUBECONFIG=/dev/null kubectl kustomize " +
                      Quote(kSource + "/deploy/overlays/simulated") + " > " + Quote(rendered));
  ASSERT_EQ(r.status, 0) << r.output;
  json plugin_args;
  for (const auto& o : YamlObjects(rendered)) {
    if (o["kind"] == "DaemonSet" && o["metadata"]["name"] == "sgx-plugin") {
      plugin_args = o["spec"]["template"]["spec"]["containers"][0]["args"];
    }
  }
  ASSERT_TRUE(plugin_args.is_array()) << "no DaemonSet sgx-plugin in the simulated overlay";
  // The overlay's arguments on a node of our own: its host root and device-plugins folder
  // instead of the pod's, no metrics port, and no --register-epc (the Node's capacity needs an
  // API server; tests/deviceplugin proves it with the API double).
  std::vector<std::string> args;
  int64_t epc_mib = 0;
  for (const auto& a : plugin_args) {
    std::string s = a.get<std::string>();
    if (s.starts_with("--host-root") || s.starts_with("--device-plugin-dir") ||
        s.starts_with("--metrics-address") || s == "--register-epc") {
      continue;
    }
    if (s.starts_with("--epc-mib=")) epc_mib = std::stoll(s.substr(10));
    args.push_back(s);
  }
  EXPECT_EQ(epc_mib, 1024) << plugin_args.dump();
  args.push_back("--metrics-address=127.0.0.1:0");
  deviceplugin::testing::PluginNode node;
  std::filesystem::create_directories(node.host().Path("/dev"));
  std::filesystem::create_directories(node.host().Path("/var/run/aesmd"));  // the helper's folder
  auto plugin = node.StartPlugin(args);

  int run = 0;
  for (const auto& e : Examples()) {
    int64_t epc = 0;
    for (const auto& c : e.mutated["spec"]["containers"]) {
      const json& lim = c["resources"]["limits"];
      for (const auto& [resource, value] : lim.items()) {
        if (resource == "sgx.intel.com/epc") {
          // A node resource (the plugin's --register-epc): it fits the simulated EPC.
          const std::string q = value.get<std::string>();
          EXPECT_TRUE(q.ends_with("Mi")) << e.file << ": " << q;
          epc += std::stoll(q);
          continue;
        }
        if (!resource.starts_with("sgx.intel.com/") &&
            !resource.starts_with("kubernetes.azure.com/")) {
          continue;
        }
        const std::string name = resource;  // clang 14: a lambda cannot capture a binding
        const std::string log = "emulator-" + std::to_string(run++) + ".log";
        auto kubelet = node.Emulator({"--resource", resource, "--allocate",
                                      value.get<std::string>(), "--exit-after-allocate"},
                                     log);
        ASSERT_EQ(kubelet->Wait(20s), 0)
            << e.file << " " << resource << ": " << kubelet->Log() << plugin->Log();
        auto alloc = confcom::testing::JsonEvents(node.Log(log))
                         .Wait(
                             [&](const json& ev) {
                               return ev["event"] == "allocate" && ev["resource"] == name;
                             },
                             1s);
        ASSERT_TRUE(alloc) << kubelet->Log();
        EXPECT_EQ((*alloc)["devices"], json::array()) << "simulation gives no device node";
        if (resource == "sgx.intel.com/enclave") {
          EXPECT_EQ((*alloc)["mounts"], json::parse(R"([{"container_path":"/var/run/aesmd",
              "host_path":"/var/run/aesmd","read_only":true}])"))
              << e.file << ": " << alloc->dump();
        }
      }
      // Out-of-proc quoting: the env points libsgx_quote_ex at the mounted socket.
      const bool quotes = e.file != "examples/aks-quickstart-pod.yaml";
      bool env = false;
      for (const auto& v : c.value("env", json::array())) {
        env = env || (v["name"] == "SGX_AESM_ADDR" && v["value"] == "1");
      }
      EXPECT_EQ(env, quotes) << e.file;
    }
    EXPECT_GT(epc, 0) << e.file;
    EXPECT_LE(epc, epc_mib) << e.file;
  }
  EXPECT_GE(run, 3);
}

}  // namespace
}  // namespace confcom::webhook
