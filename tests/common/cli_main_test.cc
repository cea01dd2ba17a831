#include "common/cli_main.h"

#include <gtest/gtest.h>

namespace confcom {
namespace {

int Parse(CLI::App& app, std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return ParseCommandLine(app, int(args.size()), args.data());
}

TEST(CliMainTest, UsageErrorsAreTwoHelpAndVersionZeroElseRun) {
  CLI::App app{"test", "prog"};
  AddVersionFlag(app, "prog");
  int n = 0;
  app.add_option("--n", n)->required()->check(CLI::Range(1, 9));
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Parse(app, {"--version"}), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "prog " CONFCOM_VERSION "\n");
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Parse(app, {"--help"}), 0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("--n"), std::string::npos);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Parse(app, {}), kExitUsage);                      // RequiredError, 106 in CLI11
  EXPECT_EQ(Parse(app, {"--n", "x"}), kExitUsage);            // ConversionError
  EXPECT_EQ(Parse(app, {"--n", "42"}), kExitUsage);           // ValidationError
  EXPECT_EQ(Parse(app, {"--n", "3", "--nope"}), kExitUsage);  // ExtrasError
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("--nope"), std::string::npos);
  EXPECT_EQ(Parse(app, {"--n", "3"}), -1);
  EXPECT_EQ(n, 3);
  EXPECT_EQ(VersionLine("sgxctl"), "sgxctl " CONFCOM_VERSION);
}

}  // namespace
}  // namespace confcom
