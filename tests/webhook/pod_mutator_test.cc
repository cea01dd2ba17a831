// The mutator (webhook/pod_mutator.h): every rule, idempotency, and the patches applied with
// nlohmann's RFC 6902 implementation.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "webhook/pod_fixtures.h"
#include "webhook/pod_mutator.h"

namespace confcom::webhook {
namespace {

using fixtures::Container;
using fixtures::Pod;
using nlohmann::json;

// Mutates, applies the patch, checks that mutating the result is a no-op, returns the result.
json MutateApply(const json& pod, const WebhookConfig& config = {}, std::string ns = "default") {
  Mutation m = MutatePod(pod, ns, config);
  json out = pod.patch(m.patch);
  Mutation again = MutatePod(out, ns, config);
  EXPECT_TRUE(again.patch.empty()) << "not idempotent: " << again.patch.dump();
  return out;
}

TEST(WebhookMutator, AksQuickstartPodGetsTheEnclaveAndAnnotations) {
  json pod = Pod(json::array({Container("oe-helloworld", {{"sgx.intel.com/epc", "10Mi"}})}));
  json out = MutateApply(pod);
  const json& c = out["spec"]["containers"][0];
  EXPECT_EQ(c["resources"]["limits"],
            json({{"sgx.intel.com/epc", "10Mi"}, {"sgx.intel.com/enclave", "1"}}));
  EXPECT_EQ(c["resources"]["requests"], json({{"sgx.intel.com/enclave", "1"}}));
  EXPECT_EQ(out["metadata"]["annotations"],
            json({{"sgx.intel.com/epc", "10Mi"},
                  {"epc-limit.nri.io/container.oe-helloworld", "10485760"}}));
  EXPECT_FALSE(c.contains("env"));
  EXPECT_FALSE(out["spec"].contains("volumes"));
}

// The device plugin mounts the socket folder with the enclave device (--aesmd-socket-dir): the
// pod gets the env only, no volume, so Pod Security baseline and restricted admit it.
TEST(WebhookMutator, AesmdAnnotationAddsTheEnvAndNoVolume) {
  json pod = Pod(
      json::array({Container("app", {{"sgx.intel.com/epc", "4Mi"}}), Container("web", nullptr)}),
      {{"sgx.intel.com/quote-provider", "aesmd"}});
  json out = MutateApply(pod);
  const json& c = out["spec"]["containers"][0];
  EXPECT_EQ(c["env"], json::parse(R"([{"name":"SGX_AESM_ADDR","value":"1"}])"));
  EXPECT_EQ(c["resources"]["limits"]["sgx.intel.com/enclave"], "1");  // the plugin's mount
  EXPECT_FALSE(c.contains("volumeMounts"));
  EXPECT_FALSE(out["spec"].contains("volumes"));
  // The non-SGX container is untouched.
  EXPECT_EQ(out["spec"]["containers"][1], pod["spec"]["containers"][1]);
}

TEST(WebhookMutator, RespectsTheUsersOwnEnvMountAndVolume) {
  json c = Container("sgxtest", {{"sgx.intel.com/epc", "10Mi"}});
  c["env"] = json::parse(R"([{"name":"SGX_AESM_ADDR","value":"1"}])");
  c["volumeMounts"] = json::parse(R"([{"name":"var-run-aesmd","mountPath":"/var/run/aesmd/"}])");
  json pod = Pod(json::array({c}), {{"sgx.intel.com/quote-provider", "aesmd"}},
                 json::parse(R"([{"name":"var-run-aesmd","hostPath":{"path":"/var/run/aesmd"}}])"));
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["env"].size(), 1u);
  EXPECT_EQ(out["spec"]["containers"][0]["volumeMounts"].size(), 1u);
  EXPECT_EQ(out["spec"]["volumes"].size(), 1u);
  // A second container without the mount reuses the user's volume by its hostPath.
  json pod2 = pod;
  pod2["spec"]["containers"].push_back(Container("second", {{"sgx.intel.com/epc", "1Mi"}}));
  json out2 = MutateApply(pod2);
  EXPECT_EQ(out2["spec"]["containers"][1]["volumeMounts"][0]["name"], "var-run-aesmd");
  EXPECT_EQ(out2["spec"]["volumes"].size(), 1u);
  EXPECT_EQ(out2["metadata"]["annotations"]["sgx.intel.com/epc"], "11Mi");
}

TEST(WebhookMutator, LegacyJobIsTranslated) {
  json c = Container("sgxtest", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", 10}});
  c["env"] = json::parse(R"([{"name":"SGX_AESM_ADDR","value":"1"}])");
  json pod = Pod(json::array({c}));
  Mutation m = MutatePod(pod, "default", {});
  ASSERT_FALSE(m.warnings.empty());
  EXPECT_NE(m.warnings[0].find("translated to sgx.intel.com/epc: 10Mi"), std::string::npos);
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"],
            json({{"sgx.intel.com/epc", "10Mi"}, {"sgx.intel.com/enclave", "1"}}));
  EXPECT_EQ(out["metadata"]["annotations"]["epc-limit.nri.io/container.sgxtest"], "10485760");
  // Translation off: the legacy request stays, no enclave device, annotations still written.
  WebhookConfig off;
  off.legacy_translation = false;
  json kept = MutateApply(pod, off);
  EXPECT_EQ(kept["spec"]["containers"][0]["resources"]["limits"],
            json({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", 10}}));
  EXPECT_EQ(kept["metadata"]["annotations"]["sgx.intel.com/epc"], "10Mi");
}

TEST(WebhookMutator, LegacyProvisionAloneIsTranslatedAndFractionsAreNot) {
  json pod = Pod(json::array({Container("helper", {{"kubernetes.azure.com/sgx_provision", "1"}})}));
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"],
            json({{"sgx.intel.com/provision", "1"}}));
  // Extended resources are whole numbers: a fractional legacy EPC is left for the API server
  // to refuse, not rounded into a valid request.
  for (const char* fraction : {"0.5", "100m"}) {
    json odd =
        Pod(json::array({Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", fraction}})}));
    Mutation m = MutatePod(odd, "default", {});
    json result = odd.patch(m.patch);
    EXPECT_FALSE(
        result["spec"]["containers"][0]["resources"]["limits"].contains("sgx.intel.com/epc"))
        << fraction;
  }
}

TEST(WebhookMutator, AnAesmdMountUnderAnyVolumeNameIsShared) {
  json aesmd = Container("aesmd", {{"sgx.intel.com/epc", "1Mi"}});
  aesmd["volumeMounts"] = json::parse(R"([{"name":"sock","mountPath":"/var/run/aesmd"}])");
  json pod = Pod(json::array({aesmd, Container("app", {{"sgx.intel.com/epc", "8Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}},
                 json::parse(R"([{"name":"sock","emptyDir":{}}])"));
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"default"};
  json out = MutateApply(pod, allow);
  EXPECT_EQ(out["spec"]["volumes"], json::parse(R"([{"name":"sock","emptyDir":{}}])"));
  EXPECT_EQ(out["spec"]["containers"][1]["volumeMounts"][0]["name"], "sock");
}

TEST(WebhookMutator, LegacyBesideIntelNameKeepsTheUsersIntelValue) {
  json pod = Pod(json::array({Container(
      "a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}, {"sgx.intel.com/epc", "20Mi"}})}));
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"],
            json({{"sgx.intel.com/epc", "20Mi"}, {"sgx.intel.com/enclave", "1"}}));
}

TEST(WebhookMutator, InProcAnnotationGrantsProvisionOnlyWhenAllowed) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "app"}});
  json denied = MutateApply(pod);
  EXPECT_FALSE(
      denied["spec"]["containers"][0]["resources"]["limits"].contains("sgx.intel.com/provision"));
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"trusted"};
  json granted = MutateApply(pod, allow, "trusted");
  EXPECT_EQ(granted["spec"]["containers"][0]["resources"]["limits"]["sgx.intel.com/provision"],
            "1");
  EXPECT_EQ(granted["spec"]["containers"][0]["resources"]["requests"]["sgx.intel.com/provision"],
            "1");
}

TEST(WebhookMutator, IntelSidecarLayoutGetsAnEmptyDir) {
  json pod = Pod(json::array({Container("aesmd", {{"sgx.intel.com/epc", "1Mi"}}),
                              Container("app", {{"sgx.intel.com/epc", "8Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}});
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"default"};
  json out = MutateApply(pod, allow);
  EXPECT_EQ(out["spec"]["volumes"],
            json::parse(R"([{"name":"aesmd-socket","emptyDir":{"medium":"Memory"}}])"));
  EXPECT_FALSE(
      out["spec"]["containers"][0]["volumeMounts"][0].contains("readOnly"));  // aesmd writes it
  EXPECT_EQ(out["spec"]["containers"][1]["volumeMounts"][0]["readOnly"], true);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"]["sgx.intel.com/provision"], "1");
  EXPECT_EQ(out["metadata"]["annotations"]["sgx.intel.com/epc"], "9Mi");
}

TEST(WebhookMutator, InitContainersCountAsKubernetesSumsPodRequests) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}})}));
  pod["spec"]["initContainers"] = json::array({Container("prep", {{"sgx.intel.com/epc", "30Mi"}})});
  json sidecar = Container("side", {{"sgx.intel.com/epc", "5Mi"}});
  sidecar["restartPolicy"] = "Always";
  pod["spec"]["initContainers"].push_back(sidecar);
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["initContainers"][0]["resources"]["limits"]["sgx.intel.com/enclave"], "1");
  // max(app 10 + sidecar 5, prep 30) = 30 MiB.
  EXPECT_EQ(out["metadata"]["annotations"]["sgx.intel.com/epc"], "30Mi");
  EXPECT_EQ(out["metadata"]["annotations"]["epc-limit.nri.io/container.side"], "5242880");
}

TEST(WebhookMutator, UserSettingsAreNeverOverwrittenOrDuplicated) {
  json c = Container("app", {{"sgx.intel.com/epc", "10Mi"}, {"sgx.intel.com/enclave", "2"}});
  json pod = Pod(json::array({c}), {{"epc-limit.nri.io/container.app", "1"}});
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"]["sgx.intel.com/enclave"], "2");
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["requests"]["sgx.intel.com/enclave"], "2");
  EXPECT_EQ(out["metadata"]["annotations"]["epc-limit.nri.io/container.app"], "1");
  // A stale total is corrected (it is derived, like Intel's).
  pod["metadata"]["annotations"]["sgx.intel.com/epc"] = "1Mi";
  EXPECT_EQ(MutateApply(pod)["metadata"]["annotations"]["sgx.intel.com/epc"], "10Mi");
}

TEST(WebhookMutator, NullMapsAndOddShapesDoNotBreakIt) {
  json c = {{"name", "app"},
            {"resources", {{"limits", {{"sgx.intel.com/epc", "1Mi"}}}, {"requests", nullptr}}},
            {"env", nullptr},
            {"volumeMounts", nullptr}};
  json pod = Pod(json::array({c}), nullptr);
  pod["metadata"]["annotations"] = nullptr;
  json withAesmd = pod;
  withAesmd["metadata"]["annotations"] = {{"sgx.intel.com/quote-provider", "aesmd"}};
  withAesmd["spec"]["volumes"] = nullptr;
  MutateApply(pod);
  json out = MutateApply(withAesmd);
  EXPECT_EQ(out["spec"]["containers"][0]["env"].size(), 1u);
  // Wrong types: nothing patched there, no crash.
  json weird = Pod(json::array({{{"name", "x"}, {"resources", "nope"}}, 5, "str"}));
  EXPECT_TRUE(MutatePod(weird, "default", {}).patch.empty());
  EXPECT_TRUE(MutatePod(json::array(), "default", {}).patch.empty());
}

TEST(WebhookMutator, LongContainerNameGetsNoInvalidNriKey) {
  std::string name(60, 'a');
  json pod = Pod(json::array({Container(name, {{"sgx.intel.com/epc", "1Mi"}})}));
  Mutation m = MutatePod(pod, "default", {});
  json out = pod.patch(m.patch);
  EXPECT_FALSE(out["metadata"]["annotations"].contains("epc-limit.nri.io/container." + name));
  EXPECT_EQ(out["metadata"]["annotations"]["sgx.intel.com/epc"], "1Mi");
  EXPECT_FALSE(m.warnings.empty());
}

}  // namespace
}  // namespace confcom::webhook
