// The AdmissionReview handler (webhook/admission_review.h): responses, denials, malformed
// reviews, and the corpus of ordinary pods (allowed, never patched).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kube/base64.h"
#include "webhook/admission_review.h"
#include "webhook/pod_fixtures.h"
#include "webhook/pod_mutator.h"

namespace confcom::webhook {
namespace {

using fixtures::Container;
using fixtures::Pod;
using nlohmann::json;

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
  EXPECT_EQ(resp["response"]["patch"],
            kube::Base64Encode(MutatePod(pod, "default", {}).patch.dump()));
}

TEST(WebhookReview, DenialHasStatus403AndTheMessage) {
  json pod = Pod(json::array({Container("a", {{"sgx.intel.com/provision", "1"}})}));
  HttpReply r = HandleReview(ReviewOperation::kValidate, "application/json; charset=utf-8",
                             Review(pod).dump(), {});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.result, ReviewResult::kDenied);
  json resp = json::parse(r.body)["response"];
  EXPECT_EQ(resp["allowed"], false);
  EXPECT_EQ(resp["status"]["code"], 403);
  EXPECT_EQ(resp["status"]["reason"], "Forbidden");
  EXPECT_NE(resp["status"]["message"].get<std::string>().find("provisioning device"),
            std::string::npos);
}

TEST(WebhookReview, OtherOperationsAndKindsAreAllowedUnchanged) {
  json pod = Pod(json::array({Container("a", {{"sgx.intel.com/provision", "1"}})}));
  json upd = Review(pod, "UPDATE");
  upd["request"]["oldObject"] = pod;
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", upd.dump(), {}).result,
            ReviewResult::kAllowed);
  EXPECT_EQ(HandleReview(ReviewOperation::kMutate, "application/json", upd.dump(), {}).result,
            ReviewResult::kUnchanged);
  json sub = Review(pod);
  sub["request"]["subResource"] = "ephemeralcontainers";
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", sub.dump(), {}).result,
            ReviewResult::kAllowed);
  json del = Review(nullptr, "DELETE");
  EXPECT_EQ(HandleReview(ReviewOperation::kValidate, "application/json", del.dump(), {}).result,
            ReviewResult::kAllowed);
}

TEST(WebhookReview, MalformedReviewsAre400WithAMessage) {
  const std::vector<std::string> bad = {
      "",
      "{",
      "[]",
      "null",
      R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}})",
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
