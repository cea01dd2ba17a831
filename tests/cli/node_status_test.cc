#include "cli/node_status.h"

#include <gtest/gtest.h>

namespace confcom::cli {
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
  in.plugin_metrics = std::vector<Sample>{{"confcom_device_plugin_registrations_total",
                                           {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}}, 0}};
  auto j = SummarizeNode(in);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["problems"].size(), 3u) << j.dump(2);  // helper, not registered, no EPC
  in.helper_ping = Status::Ok();
  in.plugin_metrics = std::vector<Sample>{
      {"confcom_device_plugin_registrations_total", {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}}, 2},
      {"confcom_device_plugin_advertised_devices", {{"resource", "kubernetes.azure.com/sgx_epc_mem_in_MiB"}}, 64}};
  EXPECT_EQ(SummarizeNode(in)["ok"], true);
}

}  // namespace
}  // namespace confcom::cli
