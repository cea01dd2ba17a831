// Unit tests of the admission logic: quantities, JSON Patch building, the mutator (every rule,
// idempotency, patches applied with nlohmann's RFC 6902 implementation), the validator, the
// AdmissionReview handler, and the corpus of ordinary pods (allowed, never patched).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/json_pointer.h"
#include "webhook/admission_review.h"
#include "webhook/json_patch.h"
#include "webhook/pod_mutator.h"
#include "webhook/pod_validator.h"
#include "webhook/quantity.h"

namespace confcom::webhook {
namespace {

using nlohmann::json;

json Pod(json containers, json annotations = nullptr, json volumes = nullptr) {
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}, {"namespace", "default"}}},
              {"spec", {{"containers", containers}}}};
  if (!annotations.is_null()) pod["metadata"]["annotations"] = annotations;
  if (!volumes.is_null()) pod["spec"]["volumes"] = volumes;
  return pod;
}

json Container(std::string name, json limits) {
  json c = {{"name", name}, {"image", "app:1"}};
  if (!limits.is_null()) c["resources"] = {{"limits", limits}};
  return c;
}

// Mutates, applies the patch, checks that mutating the result is a no-op, returns the result.
json MutateApply(const json& pod, const WebhookConfig& config = {}, std::string ns = "default") {
  Mutation m = MutatePod(pod, ns, config);
  json out = pod.patch(m.patch);
  Mutation again = MutatePod(out, ns, config);
  EXPECT_TRUE(again.patch.empty()) << "not idempotent: " << again.patch.dump();
  return out;
}

TEST(WebhookQuantity, ParsesTheApiGrammar) {
  EXPECT_EQ(*ParseQuantity("10Mi"), 10 << 20);
  EXPECT_EQ(*ParseQuantity("1Gi"), int64_t(1) << 30);
  EXPECT_EQ(*ParseQuantity("0.5Gi"), int64_t(1) << 29);
  EXPECT_EQ(*ParseQuantity("1.5Ki"), 1536);
  EXPECT_EQ(*ParseQuantity("10485760"), 10485760);
  EXPECT_EQ(*ParseQuantity("10M"), 10000000);
  EXPECT_EQ(*ParseQuantity("1e6"), 1000000);
  EXPECT_EQ(*ParseQuantity("1E3"), 1000);
  EXPECT_EQ(*ParseQuantity("100m"), 1);  // rounded up
  EXPECT_EQ(*ParseQuantity("0"), 0);
  EXPECT_EQ(*ParseQuantity("+5k"), 5000);
  EXPECT_EQ(*ParseQuantity("1.50000000000000000000000000000000000000Ki"), 1536);  // zeros change nothing
  // Without the bounds these wrapped 128-bit arithmetic (to negative or wrong values).
  for (const char* bad : {"", "Mi", "10Xi", "-1", "1.2.3", "10 Mi", "1e", "99999999999999999999", "8Ei", "1e400",
                          "1.000000000000000000000000001Ei", "1.0000000000000000000000001Ei"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
}

TEST(WebhookQuantity, FormatsLikeTheApiServer) {
  EXPECT_EQ(FormatBinaryQuantity(10 << 20), "10Mi");
  EXPECT_EQ(FormatBinaryQuantity(int64_t(3) << 30), "3Gi");
  EXPECT_EQ(FormatBinaryQuantity(1536), "1536");
  EXPECT_EQ(FormatBinaryQuantity(2048), "2Ki");
  EXPECT_EQ(FormatBinaryQuantity(1000), "1000");
}

TEST(WebhookJsonPatch, EscapesAndCreatesParents) {
  EXPECT_EQ(confcom::EscapeJsonPointerToken("sgx.intel.com/epc"), "sgx.intel.com~1epc");
  EXPECT_EQ(confcom::EscapeJsonPointerToken("a~b/c"), "a~0b~1c");
  json doc = {{"metadata", {{"name", "x"}}}, {"spec", {{"containers", json::array({{{"name", "c"}}})}}}};
  PatchBuilder b(doc);
  ASSERT_TRUE(b.Add({std::string("metadata"), std::string("annotations"), std::string("a/b")}, "1"));
  ASSERT_TRUE(b.Add({std::string("metadata"), std::string("annotations"), std::string("c~d")}, "2"));
  ASSERT_TRUE(b.Append({std::string("spec"), std::string("containers"), size_t(0), std::string("env")}, json{{"name", "E"}}));
  ASSERT_TRUE(b.Append({std::string("spec"), std::string("containers"), size_t(0), std::string("env")}, json{{"name", "F"}}));
  EXPECT_EQ(b.patch()[0]["path"], "/metadata/annotations");
  EXPECT_EQ(b.patch()[1]["path"], "/metadata/annotations/c~0d");
  EXPECT_EQ(b.patch()[3]["path"], "/spec/containers/0/env/-");
  EXPECT_EQ(doc.patch(b.patch()), b.document());
  // Through a string where an object should be: refused, nothing emitted.
  PatchBuilder c(json{{"metadata", "oops"}});
  EXPECT_FALSE(c.Add({std::string("metadata"), std::string("annotations"), std::string("k")}, "v"));
  EXPECT_TRUE(c.patch().empty());
}

TEST(WebhookMutator, AksQuickstartPodGetsTheEnclaveAndAnnotations) {
  json pod = Pod(json::array({Container("oe-helloworld", {{"sgx.intel.com/epc", "10Mi"}})}));
  json out = MutateApply(pod);
  const json& c = out["spec"]["containers"][0];
  EXPECT_EQ(c["resources"]["limits"], json({{"sgx.intel.com/epc", "10Mi"}, {"sgx.intel.com/enclave", "1"}}));
  EXPECT_EQ(c["resources"]["requests"], json({{"sgx.intel.com/enclave", "1"}}));
  EXPECT_EQ(out["metadata"]["annotations"],
            json({{"sgx.intel.com/epc", "10Mi"}, {"epc-limit.nri.io/container.oe-helloworld", "10485760"}}));
  EXPECT_FALSE(c.contains("env"));
  EXPECT_FALSE(out["spec"].contains("volumes"));
}

TEST(WebhookMutator, AesmdAnnotationAddsEnvMountAndHostPathVolume) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "4Mi"}}), Container("web", nullptr)}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}});
  json out = MutateApply(pod);
  const json& c = out["spec"]["containers"][0];
  EXPECT_EQ(c["env"], json::parse(R"([{"name":"SGX_AESM_ADDR","value":"1"}])"));
  EXPECT_EQ(c["volumeMounts"], json::parse(R"([{"name":"aesmd-socket","mountPath":"/var/run/aesmd","readOnly":true}])"));
  EXPECT_EQ(out["spec"]["volumes"],
            json::parse(R"([{"name":"aesmd-socket","hostPath":{"path":"/var/run/aesmd","type":"DirectoryOrCreate"}}])"));
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
  EXPECT_EQ(kept["spec"]["containers"][0]["resources"]["limits"], json({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", 10}}));
  EXPECT_EQ(kept["metadata"]["annotations"]["sgx.intel.com/epc"], "10Mi");
}

TEST(WebhookMutator, LegacyProvisionAloneIsTranslatedAndFractionsAreNot) {
  json pod = Pod(json::array({Container("helper", {{"kubernetes.azure.com/sgx_provision", "1"}})}));
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"], json({{"sgx.intel.com/provision", "1"}}));
  // Extended resources are whole numbers: a fractional legacy EPC is left for the API server
  // to refuse, not rounded into a valid request.
  for (const char* fraction : {"0.5", "100m"}) {
    json odd = Pod(json::array({Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", fraction}})}));
    Mutation m = MutatePod(odd, "default", {});
    json result = odd.patch(m.patch);
    EXPECT_FALSE(result["spec"]["containers"][0]["resources"]["limits"].contains("sgx.intel.com/epc")) << fraction;
  }
}

TEST(WebhookMutator, AnAesmdMountUnderAnyVolumeNameIsShared) {
  json aesmd = Container("aesmd", {{"sgx.intel.com/epc", "1Mi"}});
  aesmd["volumeMounts"] = json::parse(R"([{"name":"sock","mountPath":"/var/run/aesmd"}])");
  json pod = Pod(json::array({aesmd, Container("app", {{"sgx.intel.com/epc", "8Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}}, json::parse(R"([{"name":"sock","emptyDir":{}}])"));
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"default"};
  json out = MutateApply(pod, allow);
  EXPECT_EQ(out["spec"]["volumes"], json::parse(R"([{"name":"sock","emptyDir":{}}])"));
  EXPECT_EQ(out["spec"]["containers"][1]["volumeMounts"][0]["name"], "sock");
}

TEST(WebhookMutator, LegacyBesideIntelNameKeepsTheUsersIntelValue) {
  json pod = Pod(json::array(
      {Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}, {"sgx.intel.com/epc", "20Mi"}})}));
  json out = MutateApply(pod);
  EXPECT_EQ(out["spec"]["containers"][0]["resources"]["limits"],
            json({{"sgx.intel.com/epc", "20Mi"}, {"sgx.intel.com/enclave", "1"}}));
}

TEST(WebhookMutator, InProcAnnotationGrantsProvisionOnlyWhenAllowed) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "app"}});
  json denied = MutateApply(pod);
  EXPECT_FALSE(denied["spec"]["containers"][0]["resources"]["limits"].contains("sgx.intel.com/provision"));
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"trusted"};
  json granted = MutateApply(pod, allow, "trusted");
  EXPECT_EQ(granted["spec"]["containers"][0]["resources"]["limits"]["sgx.intel.com/provision"], "1");
  EXPECT_EQ(granted["spec"]["containers"][0]["resources"]["requests"]["sgx.intel.com/provision"], "1");
}

TEST(WebhookMutator, IntelSidecarLayoutGetsAnEmptyDir) {
  json pod = Pod(json::array({Container("aesmd", {{"sgx.intel.com/epc", "1Mi"}}), Container("app", {{"sgx.intel.com/epc", "8Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}});
  WebhookConfig allow;
  allow.allow_provision_namespaces = {"default"};
  json out = MutateApply(pod, allow);
  EXPECT_EQ(out["spec"]["volumes"], json::parse(R"([{"name":"aesmd-socket","emptyDir":{"medium":"Memory"}}])"));
  EXPECT_FALSE(out["spec"]["containers"][0]["volumeMounts"][0].contains("readOnly"));  // aesmd writes it
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
  json c = {{"name", "app"}, {"resources", {{"limits", {{"sgx.intel.com/epc", "1Mi"}}}, {"requests", nullptr}}},
            {"env", nullptr}, {"volumeMounts", nullptr}};
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

TEST(WebhookValidator, DeniesProvisioningInBothSchemesWithTheReason) {
  for (const char* res : {"sgx.intel.com/provision", "kubernetes.azure.com/sgx_provision"}) {
    json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}, {res, "1"}})}));
    Verdict v = ValidatePod(pod, "default", "p", {});
    EXPECT_FALSE(v.allowed) << res;
    EXPECT_NE(v.message.find(std::string("requests ") + res), std::string::npos) << v.message;
    EXPECT_NE(v.message.find("SGX_AESM_ADDR=1"), std::string::npos);
    EXPECT_NE(v.message.find("sgx.intel.com/quote-provider: aesmd"), std::string::npos);
  }
  // In an init container too.
  json pod = Pod(json::array({Container("app", nullptr)}));
  pod["spec"]["initContainers"] = json::array({Container("i", {{"kubernetes.azure.com/sgx_provision", "1"}})});
  EXPECT_FALSE(ValidatePod(pod, "default", "p", {}).allowed);
}

TEST(WebhookValidator, AllowsTheQuoteHelperAndConfiguredWorkloads) {
  json pod = Pod(json::array({Container("h", {{"sgx.intel.com/epc", "64Mi"}, {"sgx.intel.com/provision", "1"}})}));
  pod["spec"]["serviceAccountName"] = "sgx-quote-helper";
  EXPECT_TRUE(ValidatePod(pod, "kube-system", "h", {}).allowed);
  EXPECT_FALSE(ValidatePod(pod, "default", "h", {}).allowed);  // same SA name, other namespace
  WebhookConfig c;
  c.allow_provision_service_accounts = {{"team", "attester"}};
  pod["spec"]["serviceAccountName"] = "attester";
  EXPECT_TRUE(ValidatePod(pod, "team", "h", c).allowed);
  pod["spec"]["serviceAccountName"] = "other";
  EXPECT_FALSE(ValidatePod(pod, "team", "h", c).allowed);
  c.allow_provision_namespaces = {"team"};
  EXPECT_TRUE(ValidatePod(pod, "team", "h", c).allowed);
}

TEST(WebhookValidator, DeniesTheInProcAnnotationOnAnSgxContainer) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "app"}});
  Verdict v = ValidatePod(pod, "default", "p", {});
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.message.find("in-proc quoting in container \"app\""), std::string::npos) << v.message;
  // aesmd (out-of-proc) is fine; the annotation naming a non-SGX container grants nothing.
  pod["metadata"]["annotations"]["sgx.intel.com/quote-provider"] = "aesmd";
  EXPECT_TRUE(ValidatePod(pod, "default", "p", {}).allowed);
  pod["metadata"]["annotations"]["sgx.intel.com/quote-provider"] = "web";
  pod["spec"]["containers"].push_back(Container("web", nullptr));
  EXPECT_TRUE(ValidatePod(pod, "default", "p", {}).allowed);
}

TEST(WebhookValidator, WarnsAboutEpcWithoutTheEnclaveDevice) {
  json pod = Pod(json::array({Container("app", {{"sgx.intel.com/epc", "10Mi"}})}));
  Verdict v = ValidatePod(pod, "default", "p", {});
  EXPECT_TRUE(v.allowed);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("without sgx.intel.com/enclave"), std::string::npos);
}

TEST(WebhookConfig, ServiceAccountRefsAndThePodsServiceAccount) {
  auto ok = ParseServiceAccountRef("kube-system:sgx-quote-helper");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->ns, "kube-system");
  EXPECT_EQ(ok->name, "sgx-quote-helper");
  for (const char* bad : {"", "nocolon", ":x", "x:", "a:b:c", "Kube:x", "a b:c", "-a:b"}) {
    EXPECT_FALSE(ParseServiceAccountRef(bad).ok()) << bad;
  }
  EXPECT_EQ(PodServiceAccount(json::object()), "default");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccountName", ""}}}}), "default");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccount", "legacy"}}}}), "legacy");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccountName", "a"}, {"serviceAccount", "b"}}}}), "a");
}

json Review(json object, std::string op = "CREATE") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"requestResource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"name", ""},
            {"namespace", "default"},
            {"operation", op},
            {"userInfo", {{"username", "system:serviceaccount:kube-system:replicaset-controller"}}},
            {"object", object},
            {"oldObject", nullptr},
            {"dryRun", false},
            {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
}

TEST(WebhookReview, MutationResponseEchoesUidAndCarriesABase64Patch) {
  json pod = Pod(json::array({Container("a", {{"sgx.intel.com/epc", "10Mi"}})}));
  HttpReply r = HandleReview(ReviewOperation::kMutate, "application/json", Review(pod).dump(), {});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.result, ReviewResult::kPatched);
  json resp = json::parse(r.body);
  EXPECT_EQ(resp["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(resp["kind"], "AdmissionReview");
  EXPECT_EQ(resp["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(resp["response"]["allowed"], true);
  EXPECT_EQ(resp["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(resp["response"]["patch"], Base64(MutatePod(pod, "default", {}).patch.dump()));
}

TEST(WebhookReview, DenialHasStatus403AndTheMessage) {
  json pod = Pod(json::array({Container("a", {{"sgx.intel.com/provision", "1"}})}));
  HttpReply r = HandleReview(ReviewOperation::kValidate, "application/json; charset=utf-8", Review(pod).dump(), {});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.result, ReviewResult::kDenied);
  json resp = json::parse(r.body)["response"];
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["code"], 403);
  EXPECT_EQ(resp["status"]["reason"], "Forbidden");
  EXPECT_NE(resp["status"]["message"].get<std::string>().find("provisioning device"), std::string::npos);
}

TEST(WebhookReview, OtherOperationsAndKindsAreAllowedUnchanged) {
  json pod = Pod(json::array({Container("a", {{"sgx.intel.com/provision", "1"}})}));
  json upd = Review(pod, "UPDATE");
  upd["request"]["oldObject"] = pod;
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", upd.dump(), {}).result, ReviewResult::kAllowed);
  EXPECT_EQ(HandleReview(ReviewOperation::kMutate, "application/json", upd.dump(), {}).result, ReviewResult::kUnchanged);
  json sub = Review(pod);
  sub["request"]["subResource"] = "ephemeralcontainers";
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", sub.dump(), {}).result, ReviewResult::kAllowed);
  json del = Review(nullptr, "DELETE");
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", del.dump(), {}).result, ReviewResult::kAllowed);
}

TEST(WebhookReview, MalformedReviewsAre400WithAMessage) {
  const std::vector<std::string> bad = {
      "", "{", "[]", "null", R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","kind":{},"operation":"CREATE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7,"kind":{},"operation":"CREATE"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":"x"}})",
      std::string(100000, '[') + std::string(100000, ']'),
      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"" +
          std::string(300, 'u') + "\",\"kind\":{},\"operation\":\"CREATE\"}}",
  };
  for (const auto& body : bad) {
    HttpReply r = HandleReview(ReviewOperation::kMutate, "application/json", body, {});
    EXPECT_EQ(r.status, 400) << body.substr(0, 100);
    EXPECT_NE(r.body.find("malformed AdmissionReview"), std::string::npos);
  }
  EXPECT_EQ(HandleReview(ReviewOperation::kMutate, "text/plain", "{}", {}).status, 415);
  EXPECT_EQ(HandleReview(ReviewOperation::kMutate, "", "{}", {}).status, 415);
}

// Every ordinary pod is allowed and never patched (tests/webhook/corpus).
TEST(WebhookCorpus, OrdinaryPodsAreAllowedUntouched) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(WEBHOOK_CORPUS_DIR)) {
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    json pod = json::parse(ss.str());
    for (auto op : {ReviewOperation::kMutate, ReviewOperation::kValidate}) {
      HttpReply r = HandleReview(op, "application/json", Review(pod).dump(), {});
      ASSERT_EQ(r.status, 200) << entry.path() << r.body;
      json resp = json::parse(r.body)["response"];
      EXPECT_EQ(resp["allowed"], true) << entry.path();
      EXPECT_FALSE(resp.contains("patch")) << entry.path() << " " << r.body;
      EXPECT_FALSE(resp.contains("warnings")) << entry.path();
    }
    ++n;
  }
  EXPECT_GE(n, 10u);
}

}  // namespace
}  // namespace confcom::webhook
