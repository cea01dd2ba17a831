// sgxctl as a user runs it, against the real daemon.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/helper_process.h"

namespace confcom {
namespace {

testing::CommandResult Sgxctl(const std::string& args) {
  return testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " " + args);
}

TEST(SgxctlTest, QuoteInspectAndPingAgainstTheHelper) {
  testing::TempDir dir;
  testing::HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  std::string sock = " --socket " + helper.socket();

  auto ping = Sgxctl("ping" + sock);
  EXPECT_EQ(ping.status, 0) << ping.output;
  EXPECT_NE(ping.output.find("ECDSA P-256"), std::string::npos);

  auto quote = Sgxctl("quote" + sock + " --report-data 00112233 --isv-prod-id 9 --cpusvn downgraded"
                      " --nonce 000102030405060708090a0b0c0d0e0f -o " + dir.File("q.bin"));
  ASSERT_EQ(quote.status, 0) << quote.output << helper.Log();
  EXPECT_NE(quote.output.find("QE report:   verified"), std::string::npos) << quote.output;
  EXPECT_NE(quote.output.find("SIMULATED"), std::string::npos) << quote.output;

  auto inspect = Sgxctl("inspect --json " + dir.File("q.bin"));
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  auto j = nlohmann::json::parse(inspect.output);
  EXPECT_EQ(j["app_report"]["isv_prod_id"], 9);
  EXPECT_TRUE(j["app_report"]["report_data"].get<std::string>().starts_with("00112233000000"));
  EXPECT_EQ(j["signature_data"]["certification_data"]["certificates"][0]["sgx_extension"]["cpusvn"],
            "64ea4f3fa0030c36383c322d4f3a8d4f");
  EXPECT_EQ(j["simulated_platform"], true);

  auto text = Sgxctl("inspect " + dir.File("q.bin"));
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.output.find("subject: CN=Intel SGX PCK Certificate"), std::string::npos);
  // The legacy (pre-2.19) report key derivation works too.
  auto legacy = Sgxctl("quote" + sock + " --report-data ff --legacy-report-key -o " + dir.File("l.bin"));
  EXPECT_EQ(legacy.status, 0) << legacy.output;
}

TEST(SgxctlTest, ClearErrors) {
  testing::TempDir dir;
  auto ping = Sgxctl("ping --socket " + dir.File("none.sock"));
  EXPECT_EQ(ping.status, 1);
  EXPECT_NE(ping.output.find("SGX_ERROR_SERVICE_UNAVAILABLE"), std::string::npos) << ping.output;

  testing::WriteAll(dir.File("short.bin"), std::string(100, '\x03'));
  auto trunc = Sgxctl("inspect " + dir.File("short.bin"));
  EXPECT_EQ(trunc.status, 1);
  EXPECT_NE(trunc.output.find("offset"), std::string::npos) << trunc.output;

  auto missing = Sgxctl("inspect " + dir.File("nope.bin"));
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("no such file"), std::string::npos) << missing.output;

  auto bad_hex = Sgxctl("quote --report-data xyz -o " + dir.File("x"));
  EXPECT_NE(bad_hex.status, 0);
  EXPECT_NE(bad_hex.output.find("--report-data"), std::string::npos) << bad_hex.output;

  auto too_long = Sgxctl("quote --report-data " + std::string(130, 'a') + " -o " + dir.File("x"));
  EXPECT_NE(too_long.status, 0);
  EXPECT_NE(too_long.output.find("at most 64 bytes"), std::string::npos) << too_long.output;

  auto help = Sgxctl("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("inspect"), std::string::npos);
}

}  // namespace
}  // namespace confcom
