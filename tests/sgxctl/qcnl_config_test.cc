#include "sgxctl/qcnl_config.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace confcom::sgxctl {
namespace {

// Intel's shipped layout: JSON with // comments.
constexpr char kIntelStyle[] = R"({
  // *** ATTENTION : This file is in JSON format so the keys are case sensitive. Don't change them.
  "pccs_url": "https://pccs.example:8081/sgx/certification/v4/",
  "use_secure_cert": true,
  "collateral_service": "https://api.trustedservices.intel.com/sgx/certification/v4/",
  "retry_times": 6,
  "retry_delay": 10,
  "pck_cache_expire_hours": 168,
  "verify_collateral_cache_expire_hours": 168
})";

TEST(QcnlConfigTest, ParsesIntelsJsonWithComments) {
  auto c = ParseQcnlConfig(kIntelStyle);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->pccs_url, "https://pccs.example:8081/sgx/certification/v4/");
  EXPECT_EQ(c->collateral_service, "https://api.trustedservices.intel.com/sgx/certification/v4/");
  EXPECT_TRUE(c->use_secure_cert);
  EXPECT_EQ(c->retry_times, 6);
  EXPECT_EQ(c->retry_delay, 10);
  EXPECT_EQ(c->pck_cache_expire_hours, 168.0);
  EXPECT_TRUE(c->unknown_keys.empty());
}

TEST(QcnlConfigTest, ParsesAzuresCacheVariant) {
  auto c =
      ParseQcnlConfig(R"({"pccs_url": "https://global.acccache.azure.net/sgx/certification/v3/",
    "use_secure_cert": true, "local_pck_url": "http://169.254.169.254/metadata/THIM/sgx/certification/v3/",
    "pccs_api_version": "3.1",
    "custom_request_options": {"get_cert": {"headers": {"metadata": "true"}, "params": {"api-version": "2021-07-22-preview"}}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->local_pck_url, "http://169.254.169.254/metadata/THIM/sgx/certification/v3/");
  EXPECT_TRUE(c->unknown_keys.empty());
}

TEST(QcnlConfigTest, NamesEachProblem) {
  auto not_json = ParseQcnlConfig("{\"pccs_url\": \"https://x/\",}");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("not valid JSON"), std::string::npos)
      << not_json.status().message();
  auto legacy = ParseQcnlConfig(
      "PCCS_URL=https://localhost:8081/sgx/certification/v3/\nUSE_SECURE_CERT=FALSE\n");
  ASSERT_FALSE(legacy.ok());
  EXPECT_NE(legacy.status().message().find("old KEY=VALUE format"), std::string::npos);
  auto no_url = ParseQcnlConfig(R"({"use_secure_cert": true})");
  ASSERT_FALSE(no_url.ok());
  EXPECT_NE(no_url.status().message().find("no \"pccs_url\""), std::string::npos);
  auto bad_scheme = ParseQcnlConfig(R"({"pccs_url": "localhost:8081"})");
  ASSERT_FALSE(bad_scheme.ok());
  EXPECT_NE(bad_scheme.status().message().find("https:// or http://"), std::string::npos);
  auto string_bool = ParseQcnlConfig(R"({"pccs_url": "https://x/", "use_secure_cert": "false"})");
  ASSERT_FALSE(string_bool.ok());
  EXPECT_NE(string_bool.status().message().find("use_secure_cert"), std::string::npos);
  EXPECT_FALSE(ParseQcnlConfig(R"({"pccs_url": "https://x/", "retry_times": -1})").ok());
  EXPECT_FALSE(ParseQcnlConfig(R"(["pccs_url"])").ok());
}

TEST(QcnlConfigTest, ReportsUnknownKeys) {
  auto c = ParseQcnlConfig(
      R"({"pccs_url": "https://x/", "PCCS_URL": "https://y/", "use_secure_certs": false})");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->unknown_keys.size(), 2u);
  EXPECT_TRUE(c->use_secure_cert);  // the misspelt key changes nothing
}

}  // namespace
}  // namespace confcom::sgxctl

namespace confcom::sgxctl {
namespace {

// The variants deploy/components ships parse, with no unknown keys.
TEST(QcnlConfigTest, ShippedVariantsParse) {
  std::string repo = CONFCOM_SOURCE_DIR;
  for (const char* file : {"/deploy/components/quote-helper/qcnl-azure.conf",
                           "/deploy/components/qcnl-config-pccs/pccs.conf"}) {
    auto text = testing::ReadAll(repo + file);
    auto c = ParseQcnlConfig(text);
    ASSERT_TRUE(c.ok()) << file << ": " << c.status().ToString();
    EXPECT_TRUE(c->use_secure_cert) << file;
    EXPECT_TRUE(c->unknown_keys.empty()) << file;
  }
}

}  // namespace
}  // namespace confcom::sgxctl
