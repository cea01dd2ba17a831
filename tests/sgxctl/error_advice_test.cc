#include "sgxctl/error_advice.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <set>

#include "testing/test_util.h"

namespace confcom::sgxctl {
namespace {

TEST(ErrorAdviceTest, TheCommonCodesHaveIntelsNames) {
  // Names and values as in Intel's headers (sgx_error.h, sgx_ql_lib_common.h,
  // sgx_default_qcnl_wrapper.h).
  const std::pair<uint32_t, std::string> expected[] = {
      {0xE019, "SGX_QL_NETWORK_ERROR"},
      {0xE044, "SGX_QL_UNKNOWN_MESSAGE_RESPONSE"},
      {0xB006, "SGX_QCNL_NETWORK_COULDNT_CONNECT"},
      {0xE00B, "SGX_QL_UNSUPPORTED_ATT_KEY_ID"},
      {0x4004, "SGX_ERROR_SERVICE_INVALID_PRIVILEGE"},
      {0x4001, "SGX_ERROR_SERVICE_UNAVAILABLE"},
      {0xE047, "SGX_QL_PLATFORM_UNKNOWN"},
      {0xB030, "SGX_QCNL_INVALID_CONFIG"}};
  for (const auto& [code, name] : expected) {
    const ErrorAdvice* a = FindErrorAdvice(code);
    ASSERT_NE(a, nullptr) << std::hex << code;
    EXPECT_EQ(a->name, name);
    EXPECT_GT(std::string(a->cause).size(), 10u);
    EXPECT_GT(std::string(a->fix).size(), 10u);
  }
  EXPECT_EQ(FindErrorAdvice(0x1234), nullptr);
}

TEST(ErrorAdviceTest, EveryEntryIsOneLineAndUnique) {
  std::set<uint32_t> codes;
  std::set<std::string> names;
  for (const auto& a : AllErrorAdvice()) {
    EXPECT_TRUE(codes.insert(a.code).second) << a.name;
    EXPECT_TRUE(names.insert(a.name).second) << a.name;
    EXPECT_EQ(std::string(a.cause).find('\n'), std::string::npos) << a.name;
    EXPECT_EQ(std::string(a.fix).find('\n'), std::string::npos) << a.name;
  }
}

TEST(ErrorAdviceTest, ParsesHexWithOrWithoutPrefixAndNames) {
  EXPECT_EQ(*ParseErrorCode("0xe019"), 0xE019u);
  EXPECT_EQ(*ParseErrorCode("0XE019"), 0xE019u);
  EXPECT_EQ(*ParseErrorCode("e019"), 0xE019u);
  EXPECT_EQ(*ParseErrorCode("4004"), 0x4004u);  // SGX codes are written in hex
  EXPECT_EQ(*ParseErrorCode("sgx_ql_network_error"), 0xE019u);
  EXPECT_FALSE(ParseErrorCode("").ok());
  EXPECT_FALSE(ParseErrorCode("0x").ok());
  EXPECT_FALSE(ParseErrorCode("zz").ok());
  EXPECT_FALSE(ParseErrorCode("0x123456789").ok());
}

TEST(ErrorAdviceTest, RendersCodeNameCauseFix) {
  std::string text = RenderErrorAdvice(*FindErrorAdvice(0xE019));
  EXPECT_EQ(text.rfind("0xE019 SGX_QL_NETWORK_ERROR\n  cause: ", 0), 0u) << text;
  EXPECT_NE(text.find("\n  fix:   "), std::string::npos) << text;
}

// The advice speaks the default install's names (Intel's); the legacy ones only as such.
TEST(ErrorAdviceTest, FixesNameTheDefaultInstallsResourcesFirst) {
  for (uint32_t code : {0x2006u, 0x4004u, 0xE03Fu}) {
    std::string fix = FindErrorAdvice(code)->fix;
    EXPECT_NE(fix.find("sgx.intel.com/"), std::string::npos) << fix;
  }
  for (const auto& a : AllErrorAdvice()) {
    std::string fix = a.fix;
    for (const char* legacy : {"kubernetes.azure.com/sgx_epc_mem_in_MiB",
                               "kubernetes.azure.com/sgx_provision", "hostPath"}) {
      size_t at = fix.find(legacy);
      if (at == std::string::npos) continue;
      EXPECT_NE(fix.rfind("legacy layout", at), std::string::npos)
          << a.name << ": " << legacy << " outside a legacy-layout note: " << fix;
    }
  }
  EXPECT_NE(std::string(FindErrorAdvice(0x4001)->fix).find("sgx.intel.com/quote-provider: aesmd"),
            std::string::npos);
}

// docs/troubleshooting.md carries the same table.
TEST(ErrorAdviceTest, TroubleshootingDocHasEveryEntry) {
  std::string doc = testing::ReadAll(std::string(CONFCOM_SOURCE_DIR) + "/docs/troubleshooting.md");
  for (const auto& a : AllErrorAdvice()) {
    std::string row =
        fmt::format("| `0x{:04X}` | `{}` | {} | {} |", a.code, a.name, a.cause, a.fix);
    EXPECT_NE(doc.find(row), std::string::npos) << row;
  }
}

}  // namespace
}  // namespace confcom::sgxctl
