// The shared HTTPS layer over real TLS (certificates issued by pki, requests made with curl):
// the route table and the Request/Response it hands over, the answers the server writes
// itself (404, 413, 500, empty-bodied errors), /healthz and /readyz, route-table checks, and
// --listen parsing. Suites are Https*.
#include "https/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "https/test_certs.h"
#include "testing/test_util.h"

namespace confcom::https {
namespace {

using testing::RunCommand;

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteServingPair(dir_, "a");
    auto certs = CertReloader::Open(dir_.File("tls.crt"), dir_.File("tls.key"));
    ASSERT_TRUE(certs.ok()) << certs.status().ToString();
    certs_ = std::move(certs).value();
  }
  void TearDown() override { StopServer(); }

  void StartServer(ServerOptions options, std::vector<Route> routes) {
    options.server_name = "test";
    options.host = "127.0.0.1";
    options.port = 0;
    auto server = Server::Start(options, std::move(routes), certs_.get());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    thread_ = std::thread([s = server_.get()] { s->Run(); });
  }
  void StopServer() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }

  // curl over TLS verified with the test CA; returns "<status> <body>".
  std::string Curl(const std::string& args, const std::string& path) {
    auto r =
        RunCommand("curl -sS --cacert " + dir_.File("ca-a.crt") + " -w ' %{http_code}' " + args +
                   " 'https://localhost:" + std::to_string(server_->port()) + path + "' 2>&1");
    return r.output;
  }

  testing::TempDir dir_;
  std::unique_ptr<CertReloader> certs_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

Response Echo(const Request& r) {
  std::string query;
  for (const auto& [k, v] : r.query) query += k + "=" + v + ";";
  return Response{200, "application/json",
                  r.method + " " + r.path + " q=" + query + " h=" + r.Header("x-test") +
                      " b=" + r.body + " from=" + r.remote_address};
}

TEST_F(HttpsServerTest, RoutesGetTheRequestAndTheirResponseIsSent) {
  StartServer({}, {{"GET", "/echo", Echo}, {"POST", "/echo", Echo}});
  EXPECT_EQ(Curl("-H 'X-Test: yes'", "/echo?a=1&b=two%20words"),
            "GET /echo q=a=1;b=two words; h=yes b= from=127.0.0.1 200");
  EXPECT_EQ(Curl("--data-binary 'hello' -H 'Content-Type: text/plain'", "/echo"),
            "POST /echo q= h= b=hello from=127.0.0.1 200");
  auto r =
      RunCommand("curl -sS -o /dev/null -w '%{content_type}' --cacert " + dir_.File("ca-a.crt") +
                 " https://localhost:" + std::to_string(server_->port()) + "/echo");
  EXPECT_EQ(r.output, "application/json");
}

TEST_F(HttpsServerTest, TheServerAnswersWhatNoRouteDoes) {
  ServerOptions options;
  options.max_body_bytes = 64 * 1024;
  StartServer(options, {{"POST", "/work",
                         [](const Request&) -> Response { throw std::runtime_error("boom"); }},
                        {"GET", "/conflict",
                         [](const Request&) {
                           return Response{409, "text/plain", ""};
                         }},
                        {"GET", "/a.b", Echo}});
  EXPECT_EQ(Curl("", "/nope"),
            "test: no such path: use POST /work, GET /conflict, GET /a.b, GET /healthz, "
            "GET /readyz\n 404");
  EXPECT_EQ(Curl("", "/work"),
            "test: no such path: use POST /work, GET /conflict, GET /a.b, GET /healthz, "
            "GET /readyz\n 404");  // GET of a POST route
  EXPECT_EQ(Curl("", "/axb").substr(Curl("", "/axb").size() - 3),
            "404");  // paths are exact, not patterns
  EXPECT_EQ(Curl("--data-binary 'x'", "/work"), "test: internal error\n 500");
  testing::WriteAll(dir_.File("big"), std::string(64 * 1024 + 1, 'x'));
  EXPECT_EQ(Curl("--data-binary @" + dir_.File("big"), "/work"),
            "test: request body too large\n 413");
  EXPECT_EQ(Curl("", "/conflict"), "test: request refused\n 409");
  EXPECT_EQ(Curl("", "/healthz"), "ok\n 200");
  EXPECT_EQ(Curl("", "/readyz"), "ok\n 200");
}

TEST_F(HttpsServerTest, ReadinessCheckFailsReadyzOnly) {
  ServerOptions options;
  options.readiness = [] { return Status::Unavailable("no attestation collateral yet"); };
  StartServer(options, {{"GET", "/echo", Echo}});
  EXPECT_EQ(Curl("", "/readyz"), "not ready: no attestation collateral yet\n 503");
  EXPECT_EQ(Curl("", "/healthz"), "ok\n 200");
}

TEST_F(HttpsServerTest, BodiesInHandlersAreBoundedInTotal) {
  // Two 40 KiB bodies with a 64 KiB budget: the second waits for the first. Each handler waits
  // up to 3 s for the other to be inside too, which happens only without the bound.
  ServerOptions options;
  options.max_body_bytes_in_handlers = 64 * 1024;
  std::atomic<int> inside{0}, most{0};
  StartServer(options, {{"POST", "/slow", [&](const Request&) {
                           int now = ++inside;
                           if (now > most) most = now;
                           auto deadline =
                               std::chrono::steady_clock::now() + std::chrono::seconds(3);
                           while (inside < 2 && std::chrono::steady_clock::now() < deadline) {
                             std::this_thread::sleep_for(std::chrono::milliseconds(10));
                           }
                           --inside;
                           return Response{200, "text/plain", "done"};
                         }}});
  testing::WriteAll(dir_.File("body"), std::string(40 * 1024, 'x'));
  // (Not curl's default form content type: cpp-httplib refuses form bodies over 8 KiB.)
  const std::string post =
      "-H 'Content-Type: application/octet-stream' --data-binary @" + dir_.File("body");
  std::thread other([&] { Curl(post, "/slow"); });
  EXPECT_EQ(Curl(post, "/slow"), "done 200");
  other.join();
  EXPECT_EQ(most.load(), 1);
}

TEST(HttpsServerStart, RefusesBadRouteTables) {
  testing::TempDir dir;
  WriteServingPair(dir, "a");
  auto certs = CertReloader::Open(dir.File("tls.crt"), dir.File("tls.key"));
  ASSERT_TRUE(certs.ok());
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto start = [&](std::vector<Route> routes) {
    return Server::Start(options, std::move(routes), certs->get());
  };
  EXPECT_EQ(start({{"BREW", "/x", Echo}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(start({{"GET", "x", Echo}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(start({{"GET", "/x", Echo}, {"GET", "/x", Echo}}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(start({{"GET", "/readyz", Echo}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(start({{"GET", "/x", nullptr}}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(start({{"GET", "/x", Echo}, {"POST", "/x", Echo}}).ok());
}

TEST(HttpsListenAddress, ParsesHostAndPort) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseListenAddress(":8443", &host, &port).ok());
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("localhost:443", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  for (const char* bad : {"8443", "host:", "host:65536", "host:12ab", "host:123456"}) {
    Status st = ParseListenAddress(bad, &host, &port);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("--listen"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace confcom::https
