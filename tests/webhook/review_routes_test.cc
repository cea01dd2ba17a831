// The webhook's side of the HTTPS layer without TLS: its route table (handlers called with an
// https::Request), the metrics they count, and its flags turned into settings (usage errors
// naming the flag). The same daemon over real HTTPS: webhook_https_test.cc. Suites are
// WebhookRoutes* and WebhookOptions*.
#include "webhook/review_routes.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>

#include "webhook/options.h"

namespace confcom::webhook {
namespace {

using nlohmann::json;

json Review(const json& pod) {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "u-1"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"namespace", "default"},
            {"operation", "CREATE"},
            {"object", pod}}}};
}

https::Request Post(const std::string& path, std::string body,
                    std::string content_type = "application/json") {
  https::Request r;
  r.method = "POST";
  r.path = path;
  r.headers = {{"content-type", std::move(content_type)}};
  r.body = std::move(body);
  r.remote_address = "10.0.0.1";
  return r;
}

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(WebhookRoutes, TableHasTheTwoReviewsAndTheirHandlersAnswerAndCount) {
  prometheus::Registry registry;
  WebhookMetrics metrics(registry);
  auto routes = ReviewRoutes(WebhookConfig{}, &metrics);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method + " " + routes[0].path, "POST /mutate-pods");
  EXPECT_EQ(routes[1].method + " " + routes[1].path, "POST /validate-pods");

  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"namespace", "default"}}},
              {"spec", {{"containers", {{{"name", "a"}, {"image", "a"}}}}}}};
  https::Response ok = routes[0].handler(Post("/mutate-pods", Review(pod).dump()));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "application/json");
  EXPECT_EQ(json::parse(ok.body)["response"]["uid"], "u-1");
  https::Response wrong_type = routes[0].handler(Post("/mutate-pods", "{}", "text/plain"));
  EXPECT_EQ(wrong_type.status, 415);
  https::Response malformed = routes[1].handler(Post("/validate-pods", "{\"apiVersion\":1"));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("malformed AdmissionReview"), std::string::npos) << malformed.body;
  EXPECT_EQ(malformed.content_type, "text/plain; charset=utf-8");

  std::string text = Scrape(registry);
  EXPECT_NE(
      text.find("confcom_sgx_webhook_reviews_total{operation=\"mutate\",result=\"unchanged\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("confcom_sgx_webhook_reviews_total{operation=\"mutate\",result=\"error\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("confcom_sgx_webhook_reviews_total{operation=\"validate\",result=\"error\"} 1"),
      std::string::npos);
  EXPECT_NE(text.find("confcom_sgx_webhook_review_duration_seconds_count{operation=\"mutate\"} 2"),
            std::string::npos);
}

TEST(WebhookRoutes, HandlersWorkWithoutMetrics) {
  auto routes = ReviewRoutes(WebhookConfig{}, nullptr);
  EXPECT_EQ(routes[1].handler(Post("/validate-pods", "{}", "text/plain")).status, 415);
}

TEST(WebhookOptions, DefaultFlagsGiveTheDocumentedSettings) {
  auto s = SettingsFromFlags(WebhookFlags{});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->server.server_name, "sgx-webhook");
  EXPECT_EQ(s->server.host, "0.0.0.0");
  EXPECT_EQ(s->server.port, 8443);
  EXPECT_EQ(s->server.max_body_bytes, size_t(3) << 20);
  EXPECT_EQ(s->server.max_connections, 512u);
  EXPECT_EQ(s->server.max_connections_per_client, 64u);
  EXPECT_EQ(s->server.handler_threads, 2u);
  EXPECT_EQ(s->server.request_timeout.count(), 10);
  EXPECT_EQ(s->server.max_header_bytes, size_t(16) << 10);
  EXPECT_EQ(s->server.max_header_count, 100u);
  EXPECT_EQ(s->server.keep_alive_timeout.count(), 30);
  EXPECT_TRUE(s->config.legacy_translation);
  EXPECT_EQ(s->config.quote_helper, (ServiceAccountRef{"kube-system", "sgx-quote-helper"}));
  EXPECT_EQ(DescribeProvisionAllowList(s->config), " nobody else");
}

TEST(WebhookOptions, ParsedFlagsAndUsageErrorsNameTheFlag) {
  WebhookFlags f;
  CLI::App app{"", "sgx-webhook"};
  AddWebhookFlags(app, &f);
  const char* argv[] = {"sgx-webhook", "--listen",
                        "127.0.0.1:0", "--legacy-translation",
                        "off",         "--allow-provision-namespaces",
                        "a,b",         "--allow-provision-service-accounts",
                        "ns:sa",       "--metrics-address",
                        "off"};
  app.parse(int(std::size(argv)), argv);
  auto s = SettingsFromFlags(f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->server.host, "127.0.0.1");
  EXPECT_EQ(s->server.port, 0);
  EXPECT_FALSE(s->config.legacy_translation);
  EXPECT_EQ(DescribeProvisionAllowList(s->config), " namespace a namespace b ns:sa");

  auto error_of = [](WebhookFlags f) { return SettingsFromFlags(f).status().message(); };
  WebhookFlags bad;
  bad.listen = "nonsense";
  EXPECT_NE(error_of(bad).find("--listen"), std::string::npos);
  bad = WebhookFlags{};
  bad.quote_helper = "nocolon";
  EXPECT_NE(error_of(bad).find("--quote-helper-service-account"), std::string::npos);
  bad = WebhookFlags{};
  bad.allow_service_accounts = {"nocolon"};
  EXPECT_NE(error_of(bad).find("--allow-provision-service-accounts"), std::string::npos);
  bad = WebhookFlags{};
  bad.metrics_address = "nowhere";
  EXPECT_NE(error_of(bad).find("--metrics-address"), std::string::npos);
}

}  // namespace
}  // namespace confcom::webhook
