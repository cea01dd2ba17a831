// The validator (webhook/pod_validator.h): who may have the provisioning device, and warnings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "webhook/pod_fixtures.h"
#include "webhook/pod_validator.h"

namespace confcom::webhook {
namespace {

using fixtures::Container;
using fixtures::Pod;
using nlohmann::json;

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
  pod["spec"]["initContainers"] =
      json::array({Container("i", {{"kubernetes.azure.com/sgx_provision", "1"}})});
  EXPECT_FALSE(ValidatePod(pod, "default", "p", {}).allowed);
}

// Intel's aesmd sidecar layout (the annotation aesmd and a container "aesmd" that runs Intel's
// aesmd, which needs the provisioning device) already has the annotation: the advice is to drop
// the sidecar, not to set the annotation again.
TEST(WebhookValidator, TheAesmdSidecarLayoutIsToldToDropTheSidecar) {
  json pod = Pod(json::array({Container("aesmd", {{"sgx.intel.com/epc", "1Mi"}}),
                              Container("app", {{"sgx.intel.com/epc", "8Mi"}})}),
                 {{"sgx.intel.com/quote-provider", "aesmd"}});
  for (bool asks_for_provision : {false, true}) {
    if (asks_for_provision) {
      pod["spec"]["containers"][0]["resources"]["limits"]["sgx.intel.com/provision"] = "1";
    }
    Verdict v = ValidatePod(pod, "default", "p", {});
    EXPECT_FALSE(v.allowed);
    EXPECT_NE(v.message.find(asks_for_provision ? "container \"aesmd\" requests "
                                                  "sgx.intel.com/provision"
                                                : "in-proc quoting in container \"aesmd\""),
              std::string::npos)
        << v.message;
    EXPECT_NE(v.message.find("Remove that container and keep the annotation "
                             "sgx.intel.com/quote-provider: aesmd"),
              std::string::npos)
        << v.message;
    EXPECT_EQ(v.message.find("set the pod annotation"), std::string::npos) << v.message;
  }
}

TEST(WebhookValidator, AllowsTheQuoteHelperAndConfiguredWorkloads) {
  json pod = Pod(json::array(
      {Container("h", {{"sgx.intel.com/epc", "64Mi"}, {"sgx.intel.com/provision", "1"}})}));
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

}  // namespace
}  // namespace confcom::webhook
