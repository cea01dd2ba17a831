// KubeAdminAuthorizer against the strict API-server double: TokenReview with the sgx-attest
// audience, SubjectAccessReview for get/update of the policy ConfigMap with the reviewed user's
// groups, uid and extra; malformed headers; the cache (keyed by the token's hash, bounded,
// expiring); an unreachable API server as Unavailable.
#include "attest/kube/kube_admin_authorizer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "attest/kube/api_double_fixture.h"

namespace confcom::attest {
namespace {

using confcom::testing::KubeApiDouble;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kAccessReviews[] = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
constexpr char kAdmin[] = "system:serviceaccount:ops:policy-admin";

class KubeAdminAuthorizerTest : public ApiDoubleTest {
 protected:
  void SetUp() override {
    ApiDoubleTest::SetUp();
    KubeApiDouble::ReviewUser admin;
    admin.username = kAdmin;
    admin.uid = "6f0c-uid";
    admin.groups = {"system:serviceaccounts", "system:serviceaccounts:ops"};
    admin.extra = {{"authentication.kubernetes.io/pod-name", {"ops-0"}}};
    admin.audiences = {"sgx-attest"};
    api_->AddReviewToken("admin-token", admin);
    KubeApiDouble::ReviewUser reader;
    reader.username = "alice";
    reader.groups = {"auditors"};
    reader.audiences = {"sgx-attest"};
    api_->AddReviewToken("reader-token", reader);
    KubeApiDouble::ReviewUser apiserver_only;
    apiserver_only.username = "bob";
    api_->AddReviewToken("apiserver-token", apiserver_only);  // default audience only
    api_->AllowAccess(kAdmin, "get", "confcom", "configmaps", "sgx-attest-policy");
    api_->AllowAccess(kAdmin, "update", "confcom", "configmaps", "sgx-attest-policy");
    api_->AllowAccess("auditors", "get", "confcom", "configmaps", "sgx-attest-policy");
    api_->AllowAccess("bob", "update", "confcom", "configmaps", "sgx-attest-policy");
  }
  std::unique_ptr<KubeAdminAuthorizer> Make(KubeAdminAuthorizerOptions o = {}) {
    o.ns = "confcom";
    o.configmap = "sgx-attest-policy";
    auto a = KubeAdminAuthorizer::Create(Client(), o);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(a).value() : nullptr;
  }
  std::vector<json> Bodies(const std::string& path) {
    std::vector<json> out;
    for (const auto& r : api_->requests())
      if (r.method == "POST" && r.path == path) out.push_back(json::parse(r.body));
    return out;
  }
};

TEST_F(KubeAdminAuthorizerTest, AdminMayReadAndWrite) {
  auto a = Make();
  for (PolicyAccess access : {PolicyAccess::kRead, PolicyAccess::kWrite}) {
    auto d = a->Decide("Bearer admin-token", access);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_TRUE(d->authenticated);
    EXPECT_TRUE(d->allowed) << d->reason;
    EXPECT_EQ(d->user, kAdmin);
  }
  // The exact review bodies, as the API server's decoding wants them.
  auto trs = Bodies(kTokenReviews);
  ASSERT_EQ(trs.size(), 2u);
  EXPECT_EQ(trs[0], json::parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",
      "spec":{"token":"admin-token","audiences":["sgx-attest"]}})"));
  auto sars = Bodies(kAccessReviews);
  ASSERT_EQ(sars.size(), 2u);
  EXPECT_EQ(sars[1], json::parse(R"({"apiVersion":"authorization.k8s.io/v1",
      "kind":"SubjectAccessReview","spec":{
      "user":"system:serviceaccount:ops:policy-admin","uid":"6f0c-uid",
      "groups":["system:serviceaccounts","system:serviceaccounts:ops"],
      "extra":{"authentication.kubernetes.io/pod-name":["ops-0"]},
      "resourceAttributes":{"namespace":"confcom","verb":"update","group":"","version":"v1",
      "resource":"configmaps","name":"sgx-attest-policy"}}})"));
  EXPECT_EQ(sars[0]["spec"]["resourceAttributes"]["verb"], "get");
}

TEST_F(KubeAdminAuthorizerTest, GroupMayReadButNotWrite) {
  auto a = Make();
  auto read = a->Decide("bearer reader-token", PolicyAccess::kRead);  // scheme in any case
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->allowed);
  auto write = a->Decide("Bearer reader-token", PolicyAccess::kWrite);
  ASSERT_TRUE(write.ok());
  EXPECT_TRUE(write->authenticated);
  EXPECT_FALSE(write->allowed);
  EXPECT_EQ(write->user, "alice");
  EXPECT_NE(write->reason.find("alice may not update ConfigMap confcom/sgx-attest-policy"),
            std::string::npos)
      << write->reason;
}

TEST_F(KubeAdminAuthorizerTest, UnknownTokenIsNotAuthenticated) {
  auto a = Make();
  auto d = a->Decide("Bearer forged", PolicyAccess::kRead);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->authenticated);
  EXPECT_NE(d->reason.find("invalid bearer token"), std::string::npos) << d->reason;
  EXPECT_TRUE(Bodies(kAccessReviews).empty());
}

TEST_F(KubeAdminAuthorizerTest, TokenForTheApiServerIsRefusedByDefault) {
  auto a = Make();
  auto d = a->Decide("Bearer apiserver-token", PolicyAccess::kWrite);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->authenticated);
  EXPECT_NE(d->reason.find("audiences"), std::string::npos) << d->reason;
  // Configured without audiences, the API server's own tokens are taken.
  KubeAdminAuthorizerOptions o;
  o.audiences.clear();
  auto any = Make(o);
  auto d2 = any->Decide("Bearer apiserver-token", PolicyAccess::kWrite);
  ASSERT_TRUE(d2.ok());
  EXPECT_TRUE(d2->allowed) << d2->reason;
  EXPECT_FALSE(Bodies(kTokenReviews).back()["spec"].contains("audiences"));
}

TEST_F(KubeAdminAuthorizerTest, MalformedHeadersAreNotAuthenticatedWithoutAReview) {
  auto a = Make();
  for (std::string h : {std::string(""), std::string("Basic YWxpY2U6cHc="), std::string("Bearer"),
                        std::string("Bearer   "),
                        std::string("Bearer a\x01"
                                    "b"),
                        std::string("Bearer ") + std::string(20000, 'a')}) {
    auto d = a->Decide(h, PolicyAccess::kRead);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->authenticated) << h.substr(0, 20);
    EXPECT_FALSE(d->reason.empty());
  }
  EXPECT_NE(a->Decide("", PolicyAccess::kRead)->reason.find("no Authorization header"),
            std::string::npos);
  EXPECT_TRUE(api_->requests().empty());
}

TEST_F(KubeAdminAuthorizerTest, DecisionsAreCachedBrieflyAndNeverHoldTheToken) {
  KubeAdminAuthorizerOptions o;
  o.cache_ttl = 300ms;
  auto a = Make(o);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kWrite)->allowed);
  EXPECT_EQ(Bodies(kTokenReviews).size(), 1u);
  // Read and write are separate decisions.
  ASSERT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kRead)->allowed);
  EXPECT_EQ(Bodies(kTokenReviews).size(), 2u);
  std::this_thread::sleep_for(350ms);
  ASSERT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kWrite)->allowed);
  EXPECT_EQ(Bodies(kTokenReviews).size(), 3u);
}

TEST_F(KubeAdminAuthorizerTest, CacheIsBounded) {
  KubeAdminAuthorizerOptions o;
  o.max_cache_entries = 2;
  auto a = Make(o);
  ASSERT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kRead).ok());
  ASSERT_TRUE(a->Decide("Bearer reader-token", PolicyAccess::kRead).ok());
  ASSERT_TRUE(a->Decide("Bearer forged", PolicyAccess::kRead).ok());  // evicts the oldest
  ASSERT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kRead).ok());
  EXPECT_EQ(Bodies(kTokenReviews).size(), 4u);
  ASSERT_TRUE(a->Decide("Bearer forged", PolicyAccess::kRead).ok());  // still cached
  EXPECT_EQ(Bodies(kTokenReviews).size(), 4u);
}

TEST_F(KubeAdminAuthorizerTest, UnreachableApiServerIsUnavailable) {
  auto a = Make();
  api_->FailNext(1, 503);
  auto d = a->Decide("Bearer admin-token", PolicyAccess::kWrite);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(d.status().message().find("admin-token"), std::string::npos);
  // Not cached: the next call asks again.
  EXPECT_TRUE(a->Decide("Bearer admin-token", PolicyAccess::kWrite)->allowed);
}

TEST_F(KubeAdminAuthorizerTest, MissingRbacForReviewsIsUnavailableNamingTheRule) {
  auto a = Make();
  api_->Forbid("POST", kAccessReviews, "subjectaccessreviews is forbidden");
  auto d = a->Decide("Bearer admin-token", PolicyAccess::kRead);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(d.status().message().find("create subjectaccessreviews"), std::string::npos)
      << d.status().message();
}

TEST_F(KubeAdminAuthorizerTest, CreateNeedsTheConfigMap) {
  KubeAdminAuthorizerOptions o;
  EXPECT_EQ(KubeAdminAuthorizer::Create(Client(), o).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace confcom::attest
