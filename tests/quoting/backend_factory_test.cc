#include "quoting/backend_factory.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace confcom::quoting {
namespace {

TEST(BackendFactoryTest, TheTableListsEveryChoiceAutoFirst) {
  EXPECT_EQ(BackendNames(), (std::vector<std::string>{"auto", "dcap", "sim"}));
  std::string help = DescribeBackendChoices();
  for (const auto& name : BackendNames())
    EXPECT_NE(help.find("'" + name + "'"), std::string::npos) << help;
  EXPECT_NE(help.find("SIMULATED"), std::string::npos);
}

TEST(BackendFactoryTest, UnknownNamesAndMissingHardwareAreClearErrors) {
  testing::TempDir dir;
  BackendConfig config;
  config.state_dir = dir.File("state");
  config.host_root = dir.File("empty-host");
  auto magic = MakeBackend("magic", config);
  ASSERT_FALSE(magic.ok());
  EXPECT_NE(magic.status().message().find("'sim'"), std::string::npos) << magic.status().message();
  auto automatic = MakeBackend("auto", config);
  ASSERT_FALSE(automatic.ok());
  EXPECT_NE(automatic.status().message().find("--backend sim"), std::string::npos)
      << automatic.status().message();
  EXPECT_FALSE(MakeBackend("dcap", config).ok());
  auto sim = MakeBackend("sim", config);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  EXPECT_EQ((*sim)->name(), "sim");
  EXPECT_TRUE((*sim)->simulated());
}

}  // namespace
}  // namespace confcom::quoting
