// The operator's decisions (webhook/config.h): the pod's service account and who may have the
// provisioning device. NAMESPACE:NAME parsing is kube's (tests/kube/names_test.cc).
#include "webhook/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace confcom::webhook {
namespace {

using nlohmann::json;

TEST(WebhookConfig, ThePodsServiceAccount) {
  EXPECT_EQ(PodServiceAccount(json::object()), "default");
  EXPECT_EQ(PodServiceAccount(json::array()), "default");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccountName", ""}}}}), "default");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccountName", 5}}}}), "default");
  EXPECT_EQ(PodServiceAccount(json{{"spec", {{"serviceAccount", "legacy"}}}}), "legacy");
  EXPECT_EQ(
      PodServiceAccount(json{{"spec", {{"serviceAccountName", "a"}, {"serviceAccount", "b"}}}}),
      "a");
}

TEST(WebhookConfig, QuoteHelperAndListedNamespacesOrAccountsMayProvision) {
  WebhookConfig c;
  EXPECT_TRUE(MayProvision(c, "kube-system", "sgx-quote-helper"));
  EXPECT_FALSE(MayProvision(c, "default", "sgx-quote-helper"));
  EXPECT_FALSE(MayProvision(c, "kube-system", "default"));
  c.allow_provision_namespaces = {"team"};
  c.allow_provision_service_accounts = {*ParseServiceAccountRef("other:attester")};
  EXPECT_TRUE(MayProvision(c, "team", "anyone"));
  EXPECT_TRUE(MayProvision(c, "other", "attester"));
  EXPECT_FALSE(MayProvision(c, "other", "default"));
}

}  // namespace
}  // namespace confcom::webhook
