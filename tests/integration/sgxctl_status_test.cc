// `sgxctl status` against a device plugin of the default install (Intel's names) under the
// kubelet emulator, run as in the plugin's pod: the helper's socket is not there.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/helper_process.h"

namespace confcom {
namespace {

#ifdef DP_PLUGIN_BIN
int MetricsPort(testing::Process& p) {
  const char* kPrefix = "metrics on http://127.0.0.1:";
  for (int i = 0; i < 200; ++i) {
    std::string log = p.Log();
    auto pos = log.find(kPrefix);
    if (pos != std::string::npos) return std::stoi(log.substr(pos + std::strlen(kPrefix)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

TEST(SgxctlStatusIntelTest, ReportsTheDefaultInstallsResources) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.File("dp"));
  std::filesystem::create_directories(dir.File("host"));  // a host root of its own: no devices
  testing::Process kubelet({DP_EMULATOR_BIN, "--device-plugin-dir", dir.File("dp")},
                           dir.File("kubelet.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  testing::Process plugin(
      {DP_PLUGIN_BIN, "--device-plugin-dir", dir.File("dp"), "--host-root", dir.File("host"),
       "--epc-mib", "128", "--resource-scheme", "intel", "--metrics-address", "127.0.0.1:0"},
      dir.File("plugin.log"));
  int port = MetricsPort(plugin);
  ASSERT_GT(port, 0) << plugin.Log();
  // As in the plugin's pod: no helper socket there, the helper's metrics do not answer.
  std::string args = " --socket " + dir.File("no-helper/aesm.socket") +
                     " --helper-metrics http://127.0.0.1:1/metrics --device-plugin-dir " +
                     dir.File("dp") + " --plugin-metrics http://127.0.0.1:" + std::to_string(port) +
                     "/metrics";
  nlohmann::json j;
  for (int i = 0; i < 100; ++i) {
    auto r = testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " status --json" + args);
    EXPECT_EQ(r.status, 1) << r.output;  // the helper is missing
    j = nlohmann::json::parse(r.output, nullptr, false);
    if (!j.is_discarded() && j["device_plugin"]["registered"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(j.is_discarded());
  const auto& p = j["device_plugin"];
  EXPECT_EQ(p["registered"], true) << j.dump(2);
  EXPECT_EQ(p["scheme"], "intel") << j.dump(2);
  ASSERT_EQ(p["resources"].size(), 2u) << j.dump(2);
  EXPECT_EQ(p["resources"][0]["name"], "sgx.intel.com/enclave");
  EXPECT_EQ(p["resources"][0]["devices"], 110);
  EXPECT_EQ(p["resources"][1]["name"], "sgx.intel.com/provision");
  EXPECT_FALSE(p.contains("epc_mib_advertised"));
  EXPECT_NE(p["sockets"].dump().find("confcom-sgx-intel-enclave.sock"), std::string::npos)
      << j.dump(2);
  ASSERT_EQ(j["problems"].size(), 1u) << j.dump(2);
  EXPECT_NE(j["problems"][0].get<std::string>().find("its socket is not mounted here"),
            std::string::npos)
      << j.dump(2);

  auto text = testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " status" + args);
  EXPECT_NE(text.output.find("  scheme:           intel\n"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("  resource:         sgx.intel.com/enclave: 110 devices"),
            std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("in the Node's capacity as sgx.intel.com/epc"), std::string::npos)
      << text.output;
  EXPECT_EQ(text.output.find("sgx_epc_mem_in_MiB"), std::string::npos) << text.output;
}
#endif

}  // namespace
}  // namespace confcom
