// sgxctl as a user runs it, against the real daemon.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

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

  auto quote = Sgxctl("quote" + sock +
                      " --report-data 00112233 --isv-prod-id 9 --cpusvn downgraded"
                      " --nonce 000102030405060708090a0b0c0d0e0f -o " +
                      dir.File("q.bin"));
  ASSERT_EQ(quote.status, 0) << quote.output << helper.Log();
  EXPECT_NE(quote.output.find("QE report:   verified"), std::string::npos) << quote.output;
  EXPECT_NE(quote.output.find("SIMULATED"), std::string::npos) << quote.output;

  auto inspect = Sgxctl("inspect --json " + dir.File("q.bin"));
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  auto j = nlohmann::json::parse(inspect.output);
  EXPECT_EQ(j["app_report"]["isv_prod_id"], 9);
  EXPECT_TRUE(j["app_report"]["report_data"].get<std::string>().starts_with("00112233000000"));
  EXPECT_EQ(j["signature_data"]["certification_data"]["certificates"][0]["sgx_extension"]["cpusvn"],
            "0c0c0303010100030000000000000000");  // the downgraded level's certified TCB
  EXPECT_EQ(j["simulated_platform"], true);

  auto text = Sgxctl("inspect " + dir.File("q.bin"));
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.output.find("subject: CN=Intel SGX PCK Certificate"), std::string::npos);
  // The legacy (pre-2.19) report key derivation works too.
  auto legacy =
      Sgxctl("quote" + sock + " --report-data ff --legacy-report-key -o " + dir.File("l.bin"));
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

// 0 success, 1 failure, 2 usage; --version names the component.
TEST(SgxctlTest, ExitCodesAndVersionOfEveryQuoteSideBinary) {
  auto bare = Sgxctl("");
  EXPECT_EQ(bare.status, 2) << bare.output;
  EXPECT_NE(bare.output.find("Subcommands:"), std::string::npos) << bare.output;
  EXPECT_NE(bare.output.find("doctor"), std::string::npos) << bare.output;
  EXPECT_EQ(Sgxctl("quote").status, 2);  // a required flag is missing
  EXPECT_EQ(Sgxctl("--no-such-flag").status, 2);
  EXPECT_EQ(Sgxctl("no-such-command").status, 2);
  EXPECT_EQ(Sgxctl("status -o yaml").status, 2);
  auto version = Sgxctl("--version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.output, "sgxctl " CONFCOM_VERSION "\n");

  auto helper_version = testing::RunCommand(std::string(CONFCOM_HELPER_BIN) + " --version");
  EXPECT_EQ(helper_version.status, 0);
  EXPECT_EQ(helper_version.output, "sgx-quote-helper " CONFCOM_VERSION "\n");
  auto helper_usage = testing::RunCommand(std::string(CONFCOM_HELPER_BIN) + " --threads nine");
  EXPECT_EQ(helper_usage.status, 2) << helper_usage.output;
  auto helper_backend = testing::RunCommand(std::string(CONFCOM_HELPER_BIN) + " --backend nope");
  EXPECT_EQ(helper_backend.status, 2) << helper_backend.output;

  auto explain = Sgxctl("explain 0xe019 4004");
  EXPECT_EQ(explain.status, 0) << explain.output;
  EXPECT_NE(explain.output.find("0xE019 SGX_QL_NETWORK_ERROR"), std::string::npos)
      << explain.output;
  EXPECT_NE(explain.output.find("0x4004 SGX_ERROR_SERVICE_INVALID_PRIVILEGE"), std::string::npos);
  EXPECT_EQ(Sgxctl("explain 0x1234").status, 1);
  // A failed call names the status and its fix.
  testing::TempDir none;
  auto no_service =
      Sgxctl("quote --socket " + none.File("none.sock") + " --report-data 00 -o " + none.File("q"));
  EXPECT_EQ(no_service.status, 1);
  EXPECT_NE(no_service.output.find("SGX_ERROR_SERVICE_UNAVAILABLE"), std::string::npos)
      << no_service.output;
  EXPECT_NE(no_service.output.find("sgxctl: fix: check the sgx-quote-helper pod"),
            std::string::npos)
      << no_service.output;
  EXPECT_EQ(Sgxctl("explain nonsense").status, 2);

  testing::TempDir dir;
  auto doctor = Sgxctl("doctor --skip-helper --host-root " + dir.File("host"));
  EXPECT_EQ(doctor.status, 1);
  EXPECT_NE(doctor.output.find("no such path: " + dir.File("host")), std::string::npos)
      << doctor.output;
  auto empty_node = Sgxctl("doctor --skip-helper --host-root " + dir.path());
  EXPECT_EQ(empty_node.status, 1);
  EXPECT_NE(empty_node.output.find("FAIL  device"), std::string::npos) << empty_node.output;
  EXPECT_NE(empty_node.output.find("FAIL  qcnl"), std::string::npos) << empty_node.output;
}

}  // namespace
}  // namespace confcom

namespace confcom {
namespace {

int PortFromLog(testing::Process& p) {
  for (int i = 0; i < 200; ++i) {
    std::string log = p.Log();
    auto pos = log.find("metrics on http://127.0.0.1:");
    if (pos != std::string::npos)
      return std::stoi(log.substr(pos + std::strlen("metrics on http://127.0.0.1:")));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

TEST(SgxctlStatusTest, SummarisesTheNode) {
  testing::TempDir dir;
  testing::HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  int helper_port = PortFromLog(helper.process());
  ASSERT_GT(helper_port, 0);
  std::string common = " --json --socket " + helper.socket() +
                       " --helper-metrics http://127.0.0.1:" + std::to_string(helper_port) +
                       "/metrics --device-plugin-dir " + dir.File("dp");
#ifdef DP_PLUGIN_BIN
  std::filesystem::create_directories(dir.File("dp"));
  // The plugin's own host root, empty: on an SGX host the machine's /dev/sgx_enclave would
  // otherwise make the EPC real rather than simulated (issue 21).
  std::filesystem::create_directories(dir.File("host"));
  testing::Process kubelet({DP_EMULATOR_BIN, "--device-plugin-dir", dir.File("dp")},
                           dir.File("kubelet.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  testing::Process plugin(
      {DP_PLUGIN_BIN, "--device-plugin-dir", dir.File("dp"), "--host-root", dir.File("host"),
       "--epc-mib", "128", "--metrics-address", "127.0.0.1:0"},
      dir.File("plugin.log"));
  int plugin_port = PortFromLog(plugin);
  ASSERT_GT(plugin_port, 0) << plugin.Log();
  nlohmann::json j;
  for (int i = 0; i < 100; ++i) {
    auto r = Sgxctl("status" + common + " --plugin-metrics http://127.0.0.1:" +
                    std::to_string(plugin_port) + "/metrics");
    j = nlohmann::json::parse(r.output, nullptr, false);
    if (r.status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["ok"], true) << j.dump(2);
  EXPECT_EQ(j["quote_helper"]["reachable"], true);
  EXPECT_EQ(j["quote_helper"]["backend"], "sim");
  EXPECT_EQ(j["quote_helper"]["simulated"], true);
  EXPECT_EQ(j["device_plugin"]["registered"], true);
  EXPECT_EQ(j["device_plugin"]["epc_mib_advertised"], 128);
  EXPECT_EQ(j["device_plugin"]["simulated"], true);
#endif
  // The text form: aligned lines, whole numbers, no JSON.
  std::string text_args = common.substr(std::string(" --json").size());
  auto text = Sgxctl("status" + text_args + " --plugin-metrics http://127.0.0.1:1/metrics");
  EXPECT_EQ(text.status, 1) << text.output;
  EXPECT_NE(text.output.find("quote helper:       reachable\n"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("  backend:          sim (SIMULATED"), std::string::npos)
      << text.output;
  EXPECT_EQ(text.output.find('['), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("status:             NOT OK"), std::string::npos) << text.output;
  auto kubectl_style =
      Sgxctl("status -o json" + text_args + " --plugin-metrics http://127.0.0.1:1/metrics");
  EXPECT_FALSE(nlohmann::json::parse(kubectl_style.output, nullptr, false).is_discarded())
      << kubectl_style.output;

  // Without a device plugin, the node is not OK, and the summary says why.
  auto r = Sgxctl("status" + common + " --plugin-metrics http://127.0.0.1:1/metrics");
  EXPECT_EQ(r.status, 1) << r.output;
  auto k = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(k.is_discarded()) << r.output;
  EXPECT_EQ(k["quote_helper"]["reachable"], true);
  EXPECT_EQ(k["device_plugin"]["registered"], false);
  EXPECT_FALSE(k["problems"].empty());
}

}  // namespace
}  // namespace confcom
