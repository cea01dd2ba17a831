// The shared HTTPS layer over real TLS (certificates issued by pki, requests made with curl
// and with a raw TLS client): the route table and the Request/Response it hands over, the
// answers the server writes itself (404, 413, 500, empty-bodied errors), /healthz and /readyz,
// every limit (header bytes and count, body bytes declared and chunked, content and transfer
// codings, the request deadline, connection caps, the handler queue, the body budget),
// route-table checks, and --listen parsing. Suites are Https*.
#include "https/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "https/test_certs.h"
#include "https/tls_client.h"
#include "testing/test_util.h"

namespace confcom::https {
namespace {

using testing::RunCommand;
using namespace std::chrono_literals;
using TlsClient = confcom::testing::TlsClient;
using Clock = std::chrono::steady_clock;

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
    options.on_refusal = [this](const std::string& reason) {
      std::lock_guard<std::mutex> lock(mu_);
      refusals_.push_back(reason);
    };
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

  std::vector<std::string> Refusals() {
    std::lock_guard<std::mutex> lock(mu_);
    return refusals_;
  }
  std::unique_ptr<TlsClient> Connect(const std::string& source = "") {
    return TlsClient::Connect(server_->port(), source);
  }
  // One request on a new connection; returns the response ("" if none).
  std::string Exchange(const std::string& request) {
    auto c = Connect();
    if (!c || !c->Send(request)) return "";
    return c->ReadResponse();
  }

  std::mutex mu_;
  std::vector<std::string> refusals_;
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
  const std::string post =
      "-H 'Content-Type: application/octet-stream' --data-binary @" + dir_.File("body");
  std::thread other([&] { Curl(post, "/slow"); });
  EXPECT_EQ(Curl(post, "/slow"), "done 200");
  other.join();
  EXPECT_EQ(most.load(), 1);
}

std::string Post(const std::string& path, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string Chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

Response Length(const Request& r) {
  return Response{200, "text/plain", std::to_string(r.body.size())};
}

TEST_F(HttpsServerTest, HeaderBytesOverTheLimitGet431BeforeTheRestIsKept) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  StartServer(options, {{"GET", "/echo", Echo}});
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"));
  // 150 MiB of 8 KB lines, as the attack sends; the answer comes after the first 4 KiB.
  size_t line = 0;
  size_t sent = c->SendUntilAnswered(150 << 20, [&](size_t) {
    return "X-Pad-" + std::to_string(line++) + ": " + std::string(8000, 'a') + "\r\n";
  });
  std::string response = c->ReadResponse();
  EXPECT_EQ(TlsClient::StatusOf(response), 431) << response;
  EXPECT_EQ(TlsClient::BodyOf(response), "test: request header too large (over 4096 bytes)\n");
  EXPECT_LT(sent, size_t(16) << 20);  // what the socket buffers and the 1 MiB drain took
  EXPECT_TRUE(c->ClosedWithin(5s));
  EXPECT_EQ(Refusals(), std::vector<std::string>{"header_bytes"});
  EXPECT_EQ(Curl("", "/healthz"), "ok\n 200");
}

TEST_F(HttpsServerTest, TooManyHeaderFieldsGet431) {
  ServerOptions options;
  options.max_header_count = 10;
  StartServer(options, {{"GET", "/echo", Echo}});
  std::string fields;
  for (int i = 0; i < 9; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  // Host + 9 = 10 fields: served; one more: refused.
  EXPECT_EQ(
      TlsClient::StatusOf(Exchange("GET /echo HTTP/1.1\r\nHost: localhost\r\n" + fields + "\r\n")),
      200);
  std::string response =
      Exchange("GET /echo HTTP/1.1\r\nHost: localhost\r\n" + fields + "X-10: v\r\n\r\n");
  EXPECT_EQ(TlsClient::StatusOf(response), 431) << response;
  EXPECT_EQ(TlsClient::BodyOf(response), "test: too many header fields (over 10)\n");
  EXPECT_EQ(Refusals(), std::vector<std::string>{"header_count"});
}

TEST_F(HttpsServerTest, DeclaredBodyOverTheLimitIs413BeforeAnyBodyByte) {
  ServerOptions options;
  options.max_body_bytes = 64 * 1024;
  std::atomic<int> calls{0};
  StartServer(options, {{"POST", "/len", [&](const Request& r) {
                           ++calls;
                           return Length(r);
                         }}});
  auto c = Connect();
  ASSERT_TRUE(c);
  // Only the header: the answer must not wait for the body.
  ASSERT_TRUE(c->Send("POST /len HTTP/1.1\r\nHost: localhost\r\nContent-Length: 65537\r\n\r\n"));
  std::string response = c->ReadResponse(3s);
  EXPECT_EQ(TlsClient::StatusOf(response), 413) << response;
  EXPECT_EQ(TlsClient::BodyOf(response), "test: request body too large\n");
  EXPECT_EQ(TlsClient::StatusOf(Exchange(Post("/len", std::string(65536, 'x')))), 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpsServerTest, ChunkedBodyIsCountedDecodedAndRefusedAtTheLimit) {
  ServerOptions options;
  options.max_body_bytes = 64 * 1024;
  std::atomic<int> calls{0};
  StartServer(options, {{"POST", "/len", [&](const Request& r) {
                           ++calls;
                           return Length(r);
                         }}});
  const std::string head =
      "POST /len HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Inside the limit: the handler gets the decoded body.
  std::string small =
      head + Chunk(std::string(40000, 'a')) + Chunk(std::string(25536, 'b')) + "0\r\n\r\n";
  EXPECT_EQ(TlsClient::BodyOf(Exchange(small)), "65536");
  // 100 MiB announced in 16 KiB chunks: refused once the decoded bytes pass 64 KiB.
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(head));
  size_t sent =
      c->SendUntilAnswered(100 << 20, [](size_t) { return Chunk(std::string(16384, 'c')); });
  std::string response = c->ReadResponse();
  EXPECT_EQ(TlsClient::StatusOf(response), 413) << response;
  EXPECT_LT(sent, size_t(16) << 20);
  // A single chunk larger than the limit is refused from its size line alone.
  auto d = Connect();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->Send(head + "10001\r\n"));
  EXPECT_EQ(TlsClient::StatusOf(d->ReadResponse(3s)), 413);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(Refusals(), (std::vector<std::string>{"body_bytes", "body_bytes"}));
}

TEST_F(HttpsServerTest, ContentEncodingIsRefusedAndTransferCodingsOtherThanChunked) {
  std::atomic<int> calls{0};
  StartServer({}, {{"POST", "/len", [&](const Request& r) {
                      ++calls;
                      return Length(r);
                    }}});
  std::string gzip = Exchange(Post("/len", std::string(100, 'x'), "Content-Encoding: gzip\r\n"));
  EXPECT_EQ(TlsClient::StatusOf(gzip), 415) << gzip;
  EXPECT_EQ(TlsClient::BodyOf(gzip),
            "test: Content-Encoding gzip is not accepted (send the body uncompressed)\n");
  EXPECT_EQ(TlsClient::StatusOf(Exchange(Post("/len", "{}", "Content-Encoding: br, gzip\r\n"))),
            415);
  EXPECT_EQ(TlsClient::BodyOf(Exchange(Post("/len", "{}", "Content-Encoding: identity\r\n"))), "2");
  std::string te =
      Exchange("POST /len HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\nxxxx");
  EXPECT_EQ(TlsClient::StatusOf(te), 501) << te;
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(Refusals(), (std::vector<std::string>{"content_encoding", "content_encoding",
                                                  "transfer_encoding"}));
}

TEST_F(HttpsServerTest, TheWholeRequestHasADeadline) {
  ServerOptions options;
  options.request_timeout = 1s;
  StartServer(options, {{"POST", "/len", Length}});
  // A byte every 200 ms: each read is quick, the request is not.
  auto slow = Connect();
  ASSERT_TRUE(slow);
  const std::string request = Post("/len", std::string(100, 'x'));
  auto start = Clock::now();
  bool closed = false;
  for (char ch : request) {
    if (!slow->Send(std::string(1, ch))) {
      closed = true;
      break;
    }
    if (slow->ClosedWithin(200ms)) {
      closed = true;
      break;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed);
  EXPECT_GT(seconds, 0.8);
  EXPECT_LT(seconds, 2.0);
  // A TCP client that never starts TLS: the handshake is inside the deadline.
  auto mute = TlsClient::ConnectTcp(server_->port());
  ASSERT_TRUE(mute);
  start = Clock::now();
  EXPECT_TRUE(mute->ClosedWithin(3s));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
  // (The socket closes in the timer's handler; the handshake's handler counts just after.)
  for (int i = 0; i < 100 && Refusals().size() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(Refusals(), (std::vector<std::string>{"deadline", "deadline"}));
  // Keep-alive: idle time between requests is not the request's deadline.
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(Post("/len", "abc")));
  EXPECT_EQ(TlsClient::BodyOf(c->ReadResponse()), "3");
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(c->Send(Post("/len", "abcd")));
  EXPECT_EQ(TlsClient::BodyOf(c->ReadResponse()), "4");
}

TEST_F(HttpsServerTest, ConnectionsAreCappedPerClientAddressAndInTotal) {
  ServerOptions options;
  options.max_connections_per_client = 2;
  options.max_connections = 3;
  StartServer(options, {{"POST", "/len", Length}});
  auto a1 = Connect("127.0.0.1"), a2 = Connect("127.0.0.1");
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(Connect("127.0.0.1"));  // closed at accept: no handshake
  auto b1 = Connect("127.0.0.2");
  ASSERT_TRUE(b1);
  EXPECT_FALSE(Connect("127.0.0.3"));  // 3 open in all
  // The admitted ones are served.
  ASSERT_TRUE(b1->Send(Post("/len", "xy")));
  EXPECT_EQ(TlsClient::BodyOf(b1->ReadResponse()), "2");
  a1.reset();
  std::this_thread::sleep_for(200ms);
  auto a3 = Connect("127.0.0.1");
  ASSERT_TRUE(a3);
  ASSERT_TRUE(a3->Send(Post("/len", "x")));
  EXPECT_EQ(TlsClient::BodyOf(a3->ReadResponse()), "1");
  EXPECT_EQ(Refusals(), (std::vector<std::string>{"client_cap", "connection_cap"}));
}

TEST_F(HttpsServerTest, AFullHandlerQueueIs503AndProbesNeverWaitForIt) {
  ServerOptions options;
  options.handler_threads = 1;
  options.max_queued_requests = 1;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> started{0};
  StartServer(options, {{"POST", "/block", [&](const Request&) {
                           ++started;
                           std::unique_lock<std::mutex> lock(mu);
                           cv.wait(lock, [&] { return release; });
                           return Response{200, "text/plain", "done"};
                         }}});
  auto running = Connect(), queued = Connect();
  ASSERT_TRUE(running && queued);
  ASSERT_TRUE(running->Send(Post("/block", "{}")));
  while (started == 0) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(queued->Send(Post("/block", "{}")));
  std::this_thread::sleep_for(200ms);
  std::string busy = Exchange(Post("/block", "{}"));
  EXPECT_EQ(TlsClient::StatusOf(busy), 503) << busy;
  EXPECT_EQ(TlsClient::BodyOf(busy), "test: busy: try again\n");
  auto start = Clock::now();
  EXPECT_EQ(TlsClient::BodyOf(Exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), "ok\n");
  EXPECT_EQ(TlsClient::BodyOf(Exchange("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")), "ok\n");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 1.0);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(TlsClient::BodyOf(running->ReadResponse()), "done");
  EXPECT_EQ(TlsClient::BodyOf(queued->ReadResponse()), "done");
  EXPECT_EQ(Refusals(), std::vector<std::string>{"busy"});
}

TEST_F(HttpsServerTest, LargeBodiesWaitForTheBufferedBudgetAndSmallOnesDoNot) {
  // 100 KiB bodies (over the 64 KiB each connection may hold freely) with a 128 KiB budget:
  // the second is read only after the first's handler returned; a small body is not held up.
  ServerOptions options;
  options.max_buffered_body_bytes = 128 * 1024;
  options.max_body_bytes_in_handlers = 0;
  std::atomic<int> inside{0}, most{0};
  StartServer(options, {{"POST", "/slow",
                         [&](const Request& r) {
                           int now = ++inside;
                           if (now > most) most = now;
                           std::this_thread::sleep_for(500ms);
                           --inside;
                           return Length(r);
                         }},
                        {"POST", "/len", Length}});
  const std::string big = Post("/slow", std::string(100 * 1024, 'x'));
  auto a = Connect(), b = Connect();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Send(big));
  std::this_thread::sleep_for(100ms);
  std::thread sender([&] { b->Send(big); });
  std::this_thread::sleep_for(100ms);
  auto start = Clock::now();
  EXPECT_EQ(TlsClient::BodyOf(Exchange(Post("/len", std::string(2000, 'y')))), "2000");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 0.4);
  EXPECT_EQ(TlsClient::BodyOf(a->ReadResponse()), "102400");
  EXPECT_EQ(TlsClient::BodyOf(b->ReadResponse()), "102400");
  sender.join();
  EXPECT_EQ(most.load(), 1);
}

TEST_F(HttpsServerTest, KeepAliveAndPipelinedRequestsAreServedInOrder) {
  StartServer({}, {{"POST", "/len", Length}});
  auto c = Connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(Post("/len", "a") + Post("/len", "bb") + Post("/len", "ccc")));
  EXPECT_EQ(TlsClient::BodyOf(c->ReadResponse()), "1");
  EXPECT_EQ(TlsClient::BodyOf(c->ReadResponse()), "2");
  EXPECT_EQ(TlsClient::BodyOf(c->ReadResponse()), "3");
  std::string bad = Exchange("GARBAGE\r\n\r\n");
  EXPECT_EQ(TlsClient::StatusOf(bad), 400) << bad;
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
