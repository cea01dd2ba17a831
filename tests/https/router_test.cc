// The layer's request path without sockets (internal::AnswerRequestBytes, the fuzzer's seam):
// limits, routing and the bytes of the answers. Suites are Https*.
#include <gtest/gtest.h>

#include "https/router.h"

namespace confcom::https::internal {
namespace {

Router MakeRouter(const ServerOptions& options) {
  return Router(
      options,
      {{"POST", "/len",
        [](const Request& r) {
          return Response{200, "text/plain", std::to_string(r.body.size())};
        }},
       {"GET", "/q",
        [](const Request& r) {
          return Response{200, "text/plain", r.path + "|" + r.Query("a") + "|" + r.Query("b")};
        }}},
      nullptr);
}

TEST(HttpsRequestPath, AnswersRoutesBuiltinsAndRefusals) {
  ServerOptions options;
  options.server_name = "t";
  options.max_body_bytes = 10;
  Router router = MakeRouter(options);
  size_t done = 0;
  EXPECT_EQ(AnswerRequestBytes(options, router,
                               "POST /len HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                               "GET /q?a=x%20y&b=1+2 HTTP/1.1\r\nConnection: close\r\n\r\n",
                               &done),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n"
            "Connection: keep-alive\r\n\r\n3"
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\n/q|x y|1 2");
  EXPECT_EQ(done, 2u);
  std::string too_big = AnswerRequestBytes(
      options, router,
      "POST /len HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n",
      &done);
  EXPECT_EQ(too_big.substr(0, 12), "HTTP/1.1 413");
  EXPECT_NE(too_big.find("t: request body too large\n"), std::string::npos);
  EXPECT_EQ(done, 0u);
  EXPECT_EQ(
      AnswerRequestBytes(options, router, "GET /healthz HTTP/1.1\r\n\r\n", &done).substr(0, 15),
      "HTTP/1.1 200 OK");
  std::string missing = AnswerRequestBytes(options, router, "GET /x HTTP/1.1\r\n\r\n", &done);
  EXPECT_NE(missing.find("t: no such path: use POST /len, GET /q, GET /healthz, GET /readyz\n"),
            std::string::npos)
      << missing;
  EXPECT_EQ(AnswerRequestBytes(options, router, "GET /q HTTP/1.1\r\n", &done), "");  // incomplete
}

}  // namespace
}  // namespace confcom::https::internal
