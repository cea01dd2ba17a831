// ConfigMapPolicyStore against the strict API-server double: the default when the ConfigMap or
// its key is absent, a change picked up by the background reader, a bad policy keeping the
// last good one, writes under resourceVersion with a lost race retried, create when absent,
// RBAC and transport errors as Unavailable.
#include "attest/kube/configmap_policy_store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "attest/kube/api_double_fixture.h"
#include "attest/policy/policy_jws.h"

namespace confcom::attest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kConfigMaps[] = "/api/v1/namespaces/confcom/configmaps";
constexpr char kConfigMap[] = "/api/v1/namespaces/confcom/configmaps/sgx-attest-policy";
constexpr char kPermitAll[] = "version=1.0; authorizationrules{=> permit();}; issuancerules{};";
constexpr char kDenyAll[] = "version=1.0; authorizationrules{=> deny();}; issuancerules{};";

std::string ConfigMapJson(const std::string* policy) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata",
              {{"name", "sgx-attest-policy"},
               {"namespace", "confcom"},
               {"annotations", {{"kept", "yes"}}}}}};
  if (policy) cm["data"] = {{"SgxEnclave", *policy}, {"other", "kept"}};
  return cm.dump();
}

class ConfigMapPolicyStoreTest : public ApiDoubleTest {
 protected:
  void SetUp() override {
    ApiDoubleTest::SetUp();
    api_->AllowCreate(kConfigMaps, "ConfigMap");
  }
  Result<std::unique_ptr<ConfigMapPolicyStore>> Open() {
    ConfigMapPolicyStoreOptions o;
    o.ns = "confcom";
    o.name = "sgx-attest-policy";
    o.poll_interval = 50ms;
    return ConfigMapPolicyStore::Create(Client(), o);
  }
  std::string StoredText() {
    auto cm = json::parse(api_->Object(kConfigMap));
    return cm["data"].value("SgxEnclave", "");
  }
  // Waits up to 5 s for `pred`.
  template <class P>
  bool Eventually(P pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(ConfigMapPolicyStoreTest, AbsentConfigMapIsTheDefaultPolicy) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto p = (*store)->Current();
  EXPECT_TRUE(p->is_default);
  EXPECT_EQ(p->policy.text(), kDefaultSgxPolicy);
  EXPECT_EQ(p->hash, PolicyHash(kDefaultSgxPolicy));
}

TEST_F(ConfigMapPolicyStoreTest, ConfigMapWithoutTheKeyIsTheDefaultPolicy) {
  api_->PutObject(kConfigMap, ConfigMapJson(nullptr));
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Current()->is_default);
}

TEST_F(ConfigMapPolicyStoreTest, ReadsThePolicyAndFollowsChanges) {
  const std::string permit = kPermitAll, deny = kDenyAll;
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE((*store)->Current()->is_default);
  EXPECT_EQ((*store)->Current()->policy.text(), permit);
  // Another replica (or kubectl edit) changes it: this one follows within a poll.
  api_->PutObject(kConfigMap, ConfigMapJson(&deny));
  EXPECT_TRUE(Eventually([&] { return (*store)->Current()->policy.text() == deny; }));
  EXPECT_EQ((*store)->Current()->hash, PolicyHash(deny));
  // Deleted: the default.
  api_->RemoveObject(kConfigMap);
  EXPECT_TRUE(Eventually([&] { return (*store)->Current()->is_default; }));
}

TEST_F(ConfigMapPolicyStoreTest, BadPolicyKeepsTheLastGoodOne) {
  const std::string permit = kPermitAll, bad = "version=1.0; authorizationrules{=> permit()";
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  api_->PutObject(kConfigMap, ConfigMapJson(&bad));
  EXPECT_TRUE(Eventually([&] { return !(*store)->last_read_status().ok(); }));
  const Status st = (*store)->last_read_status();
  EXPECT_NE(st.message().find("data[SgxEnclave]"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("line 1, column"), std::string::npos) << st.ToString();
  // Never silently the default: the last good policy stays.
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ((*store)->Current()->policy.text(), permit);
  EXPECT_FALSE((*store)->Current()->is_default);
}

TEST_F(ConfigMapPolicyStoreTest, BadPolicyAtStartIsAnErrorWithLineAndColumn) {
  const std::string bad = "version=9.9;";
  api_->PutObject(kConfigMap, ConfigMapJson(&bad));
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(store.status().message().find("ConfigMap confcom/sgx-attest-policy data[SgxEnclave]"),
            std::string::npos)
      << store.status().ToString();
}

TEST_F(ConfigMapPolicyStoreTest, SetCreatesTheConfigMapWhenAbsent) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  auto policy = Policy::Parse(kPermitAll);
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE((*store)->Set(*policy).ok());
  EXPECT_EQ(StoredText(), kPermitAll);
  EXPECT_EQ(Count("POST", kConfigMaps), 1);
  // In force here at once.
  EXPECT_EQ((*store)->Current()->policy.text(), kPermitAll);
  EXPECT_FALSE((*store)->Current()->is_default);
}

TEST_F(ConfigMapPolicyStoreTest, SetUpdatesUnderResourceVersionKeepingOtherFields) {
  const std::string permit = kPermitAll;
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Set(*Policy::Parse(kDenyAll)).ok());
  auto cm = json::parse(api_->Object(kConfigMap));
  EXPECT_EQ(cm["data"]["SgxEnclave"], kDenyAll);
  EXPECT_EQ(cm["data"]["other"], "kept");
  EXPECT_EQ(cm["metadata"]["annotations"]["kept"], "yes");
  EXPECT_EQ(Count("PUT", kConfigMap), 1);
  EXPECT_EQ((*store)->Current()->policy.text(), kDenyAll);
}

TEST_F(ConfigMapPolicyStoreTest, SetRetriesAfterAConflict) {
  const std::string permit = kPermitAll, other = "version=1.1; authorizationrules{=> permit();};";
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  // Another replica writes between our read and our write: 409, re-read, write again.
  api_->ReplaceBeforeNextWrite(kConfigMap, ConfigMapJson(&other));
  ASSERT_TRUE((*store)->Set(*Policy::Parse(kDenyAll)).ok());
  EXPECT_EQ(StoredText(), kDenyAll);
  EXPECT_EQ(Count("PUT", kConfigMap), 2);
}

TEST_F(ConfigMapPolicyStoreTest, SetRetriesALostCreate) {
  const std::string other = "version=1.1; authorizationrules{=> permit();};";
  auto store = Open();
  ASSERT_TRUE(store.ok());
  api_->ReplaceBeforeNextWrite(kConfigMap, ConfigMapJson(&other));
  ASSERT_TRUE((*store)->Set(*Policy::Parse(kDenyAll)).ok());
  EXPECT_EQ(StoredText(), kDenyAll);
  EXPECT_EQ(Count("POST", kConfigMaps), 1);
  EXPECT_EQ(Count("PUT", kConfigMap), 1);
}

TEST_F(ConfigMapPolicyStoreTest, ResetRemovesTheKey) {
  const std::string permit = kPermitAll;
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Reset().ok());
  auto cm = json::parse(api_->Object(kConfigMap));
  EXPECT_FALSE(cm["data"].contains("SgxEnclave"));
  EXPECT_EQ(cm["data"]["other"], "kept");
  EXPECT_TRUE((*store)->Current()->is_default);
  // Nothing to write the second time.
  ASSERT_TRUE((*store)->Reset().ok());
  EXPECT_EQ(Count("PUT", kConfigMap), 1);
}

TEST_F(ConfigMapPolicyStoreTest, ResetOfAnAbsentConfigMapWritesNothing) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Reset().ok());
  EXPECT_EQ(Count("POST", kConfigMaps), 0);
  EXPECT_TRUE((*store)->Current()->is_default);
}

TEST_F(ConfigMapPolicyStoreTest, ForbiddenWriteIsUnavailableNamingTheRule) {
  const std::string permit = kPermitAll;
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  api_->Forbid("PUT", kConfigMap, "configmaps \"sgx-attest-policy\" is forbidden");
  Status st = (*store)->Set(*Policy::Parse(kDenyAll));
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  EXPECT_NE(st.message().find("writing the policy to ConfigMap confcom/sgx-attest-policy"),
            std::string::npos);
  EXPECT_NE(st.message().find("update"), std::string::npos) << st.message();
  // The policy in force is unchanged.
  EXPECT_EQ((*store)->Current()->policy.text(), permit);
}

TEST_F(ConfigMapPolicyStoreTest, UnreachableApiServerKeepsThePolicy) {
  const std::string permit = kPermitAll;
  api_->PutObject(kConfigMap, ConfigMapJson(&permit));
  auto store = Open();
  ASSERT_TRUE(store.ok());
  api_->FailNext(1000, 503);
  EXPECT_TRUE(Eventually([&] { return !(*store)->last_read_status().ok(); }));
  EXPECT_EQ((*store)->Current()->policy.text(), permit);
  EXPECT_EQ((*store)->Set(*Policy::Parse(kDenyAll)).code(), Status::Code::kUnavailable);
  api_->FailNext(0, 503);
  EXPECT_TRUE(Eventually([&] { return (*store)->last_read_status().ok(); }));
}

TEST_F(ConfigMapPolicyStoreTest, CreateNeedsANameAndAClient) {
  ConfigMapPolicyStoreOptions o;
  o.ns = "confcom";
  EXPECT_EQ(ConfigMapPolicyStore::Create(Client(), o).status().code(),
            Status::Code::kInvalidArgument);
  o.name = "x";
  EXPECT_EQ(ConfigMapPolicyStore::Create(nullptr, o).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace confcom::attest
