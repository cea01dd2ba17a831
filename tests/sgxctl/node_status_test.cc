#include "sgxctl/node_status.h"

#include <gtest/gtest.h>

namespace confcom::sgxctl {
namespace {

TEST(NodeStatusTest, ParsesPrometheusText) {
  auto s = ParsePrometheusText(
      "# HELP x y\n# TYPE x counter\n"
      "confcom_quote_helper_requests_total{type=\"GetQuoteEx\",result=\"SUCCESS\"} 3\n"
      "up 1\n"
      "confcom_quote_helper_info{version=\"0.1.0\",backend=\"dcap\",simulated=\"false\"} 1\n");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].labels.at("result"), "SUCCESS");
  EXPECT_EQ((*s)[0].value, 3);
  EXPECT_EQ((*s)[1].name, "up");
  EXPECT_FALSE(ParsePrometheusText("novalue").ok());
  EXPECT_FALSE(ParsePrometheusText("x{a=\"b\" 1").ok());
}

TEST(NodeStatusTest, NamesEveryProblem) {
  StatusInputs in;
  in.helper_ping = Status::Unavailable("cannot connect");
  in.plugin_metrics =
      std::vector<Sample>{{"confcom_device_plugin_registrations_total",
                           {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}},
                           0}};
  auto j = SummarizeNode(in);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["problems"].size(), 3u) << j.dump(2);  // helper, not registered, no EPC
  in.helper_ping = Status::Ok();
  in.plugin_metrics =
      std::vector<Sample>{{"confcom_device_plugin_registrations_total",
                           {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}},
                           2},
                          {"confcom_device_plugin_advertised_devices",
                           {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}},
                           64}};
  EXPECT_EQ(SummarizeNode(in)["ok"], true);
}

// What an operator reads: whole numbers, aligned lines, no JSON inside the text.
TEST(NodeStatusTest, TextIsAlignedLinesWithWholeNumbers) {
  const std::string epc = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
  StatusInputs in;
  in.helper_ping = Status::Ok();
  in.helper_metrics = std::vector<Sample>{
      {"confcom_quote_helper_info",
       {{"backend", "sim"}, {"simulated", "true"}, {"version", "0.1.0"}},
       1},
      {"confcom_quote_helper_requests_total", {{"type", "GetQuoteEx"}, {"result", "SUCCESS"}}, 3},
      {"confcom_quote_helper_requests_total", {{"type", "GetQuoteEx"}, {"result", "BUSY"}}, 2},
      {"confcom_quote_helper_open_connections", {}, 1}};
  in.plugin_metrics = std::vector<Sample>{
      {"confcom_device_plugin_registrations_total", {{"resource", epc}}, 1},
      {"confcom_device_plugin_advertised_devices", {{"resource", epc}}, 128},
      {"confcom_device_plugin_devices", {{"resource", epc}, {"health", "Healthy"}}, 128},
      {"confcom_device_plugin_allocated_devices_total", {{"resource", epc}}, 10}};
  in.plugin_sockets = {"kubelet.sock", "confcom-sgx-epc.sock"};
  auto j = SummarizeNode(in);
  j["quote_helper"]["socket"] = "/var/run/aesmd/aesm.socket";
  EXPECT_TRUE(j["device_plugin"]["epc_mib_advertised"].is_number_integer()) << j.dump();
  EXPECT_TRUE(j["quote_helper"]["quotes_served"].is_number_integer()) << j.dump();
  EXPECT_EQ(j["quote_helper"]["requests_failed"], 2);
  std::string text = RenderNodeStatus(j);
  EXPECT_EQ(text.find('['), std::string::npos) << text;
  EXPECT_EQ(text.find('{'), std::string::npos) << text;
  EXPECT_EQ(text.find("128.0"), std::string::npos) << text;
  EXPECT_EQ(text.find("3.0"), std::string::npos) << text;
  EXPECT_NE(text.find("quote helper:       reachable\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  backend:          sim (SIMULATED"), std::string::npos) << text;
  EXPECT_NE(text.find("  quotes served:    3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  EPC advertised:   128 MiB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  scheme:           legacy\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("  resource:         kubernetes.azure.com/sgx_epc_mem_in_MiB: 128 devices, 128 "
                "healthy, 10 handed out since start, 1 registration\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("  sockets:          kubelet.sock, confcom-sgx-epc.sock\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("status:             OK\n"), std::string::npos) << text;

  in.helper_ping = Status::Unavailable("no service");
  std::string bad = RenderNodeStatus(SummarizeNode(in));
  EXPECT_NE(bad.find("status:             NOT OK (1 problem)\n  - quote helper: no service\n"),
            std::string::npos)
      << bad;
}

// The default install: Intel's names, EPC in the Node's capacity (no metric carries it).
std::vector<Sample> IntelPluginMetrics(double enclave_registrations) {
  std::vector<Sample> m;
  for (const std::string r : {"sgx.intel.com/enclave", "sgx.intel.com/provision"}) {
    m.push_back({"confcom_device_plugin_registrations_total",
                 {{"resource", r}},
                 r.ends_with("enclave") ? enclave_registrations : 1});
    m.push_back({"confcom_device_plugin_advertised_devices", {{"resource", r}}, 110});
    m.push_back({"confcom_device_plugin_devices", {{"resource", r}, {"health", "Healthy"}}, 110});
    m.push_back({"confcom_device_plugin_allocated_devices_total", {{"resource", r}}, 3});
  }
  m.push_back({"confcom_device_plugin_info", {{"epc_source", "sysfs"}, {"simulated", "false"}}, 1});
  return m;
}

TEST(NodeStatusTest, ReportsIntelsNamesOnTheDefaultInstall) {
  StatusInputs in;
  in.helper_ping = Status::Ok();
  in.plugin_metrics = IntelPluginMetrics(1);
  in.plugin_sockets = {"kubelet.sock", "confcom-sgx-intel-enclave.sock",
                       "confcom-sgx-intel-provision.sock"};
  auto j = SummarizeNode(in);
  EXPECT_EQ(j["ok"], true) << j.dump(2);
  EXPECT_EQ(j["device_plugin"]["scheme"], "intel");
  EXPECT_EQ(j["device_plugin"]["registered"], true);
  ASSERT_EQ(j["device_plugin"]["resources"].size(), 2u);
  EXPECT_EQ(j["device_plugin"]["resources"][0]["name"], "sgx.intel.com/enclave");
  EXPECT_EQ(j["device_plugin"]["resources"][0]["devices"], 110);
  EXPECT_FALSE(j["device_plugin"].contains("epc_mib_advertised"));
  std::string text = RenderNodeStatus(j);
  EXPECT_NE(text.find("device plugin:      registered with kubelet\n  scheme:           intel\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  resource:         sgx.intel.com/enclave: 110 devices, 110 healthy, 3 "
                      "handed out since start, 1 registration\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  resource:         sgx.intel.com/provision: 110 devices"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  EPC:              in the Node's capacity as sgx.intel.com/epc"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("sgx_epc_mem_in_MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("status:             OK\n"), std::string::npos) << text;

  // A resource kubelet has not taken yet is named.
  in.plugin_metrics = IntelPluginMetrics(0);
  auto waiting = SummarizeNode(in);
  EXPECT_EQ(waiting["ok"], false);
  ASSERT_EQ(waiting["problems"].size(), 1u) << waiting.dump(2);
  EXPECT_EQ(waiting["problems"][0],
            "device plugin: sgx.intel.com/enclave not registered with kubelet yet");

  // Both schemes at once (--resource-scheme=legacy,intel).
  auto both = IntelPluginMetrics(1);
  both.push_back({"confcom_device_plugin_registrations_total",
                  {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}},
                  1});
  both.push_back({"confcom_device_plugin_advertised_devices",
                  {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}},
                  8192});
  in.plugin_metrics = both;
  auto j2 = SummarizeNode(in);
  EXPECT_EQ(j2["device_plugin"]["scheme"], "legacy,intel");
  EXPECT_EQ(j2["device_plugin"]["epc_mib_advertised"], 8192);
  EXPECT_EQ(j2["ok"], true) << j2.dump(2);
}

// In the plugin's pod the helper's socket is not mounted: its metrics tell whether it runs.
TEST(NodeStatusTest, WithoutTheHelpersSocketItsMetricsDecide) {
  StatusInputs in;
  in.helper_socket_present = false;
  in.helper_metrics = std::vector<Sample>{
      {"confcom_quote_helper_info", {{"backend", "dcap"}, {"simulated", "false"}}, 1}};
  in.plugin_metrics = IntelPluginMetrics(1);
  auto j = SummarizeNode(in);
  EXPECT_EQ(j["ok"], true) << j.dump(2);
  EXPECT_EQ(j["quote_helper"]["reachable"], true);
  std::string text = RenderNodeStatus(j);
  EXPECT_NE(text.find("quote helper:       reachable (socket not mounted here; from its metrics)"),
            std::string::npos)
      << text;

  in.helper_metrics = Status::Unavailable("http://127.0.0.1:9464/metrics: Connection");
  auto down = SummarizeNode(in);
  EXPECT_EQ(down["ok"], false);
  ASSERT_EQ(down["problems"].size(), 1u) << down.dump(2);
  EXPECT_NE(down["problems"][0].get<std::string>().find(
                "pass --helper-metrics http://HELPER_POD_IP:9464/metrics"),
            std::string::npos)
      << down.dump(2);
}

}  // namespace
}  // namespace confcom::sgxctl
