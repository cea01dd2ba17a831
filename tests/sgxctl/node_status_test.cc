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

}  // namespace
}  // namespace confcom::sgxctl
