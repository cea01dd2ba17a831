// https_request_fuzzer: the bytes a client sends the HTTPS serving layer (src/https), after TLS:
// the request parser with the layer's limits, then the route table, through
// internal::AnswerRequestBytes (what a connection does, without sockets).
//
// Input: the raw bytes of one connection (requests, pipelined or not). Limits are small
// (header 2 KiB and 20 fields, body 4 KiB) so that inputs under -max_len cross them.
//
// Invariants checked besides "no crash, no leak, no UB":
//  - what a handler sees is within the limits: body <= 4096 bytes, <= 20 header fields, no
//    Content-Encoding other than identity, a path starting with '/';
//  - the answer is a sequence of well-formed HTTP/1.1 responses (status line, Content-Length
//    equal to the body's size), one per request answered, and a refusal (4xx/5xx written by
//    the layer) ends it; a non-keep-alive answer is the last one;
//  - the same input answers the same bytes twice (no state between calls).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "https/router.h"

using namespace confcom::https;

namespace {

ServerOptions Options() {
  ServerOptions o;
  o.server_name = "fuzz";
  o.max_header_bytes = 2048;
  o.max_header_count = 20;
  o.max_body_bytes = 4096;
  return o;
}

Response CheckLimits(const Request& r) {
  FUZZ_CHECK(r.body.size() <= 4096, "a handler got " + std::to_string(r.body.size()) + " bytes");
  FUZZ_CHECK(r.headers.size() <= 20,
             "a handler got " + std::to_string(r.headers.size()) + " fields");
  FUZZ_CHECK(!r.path.empty() && r.path[0] == '/', "path " + r.path);
  for (const auto& [name, value] : r.headers) {
    std::string n = name;
    for (char& c : n) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (n != "content-encoding") continue;
    std::string v;
    for (char c : value) {
      if (c != ' ' && c != '\t') v.push_back(char(std::tolower(static_cast<unsigned char>(c))));
    }
    FUZZ_CHECK(v.empty() || v == "identity", "Content-Encoding " + value + " reached a handler");
  }
  return Response{200, "text/plain", std::to_string(r.body.size()) + " " + r.Query("q")};
}

const internal::Router& TheRouter() {
  static const internal::Router router(Options(),
                                       {{"POST", "/mutate-pods", CheckLimits},
                                        {"GET", "/echo", CheckLimits},
                                        {"PUT", "/refuse",
                                         [](const Request& r) {
                                           CheckLimits(r);
                                           return Response{409, "text/plain", ""};
                                         }},
                                        {"DELETE", "/throw",
                                         [](const Request& r) -> Response {
                                           CheckLimits(r);
                                           throw std::runtime_error("boom");
                                         }}},
                                       nullptr);
  return router;
}

// Returns the number of responses; FUZZ_CHECKs their shape.
size_t CheckResponses(std::string_view out) {
  size_t count = 0;
  bool last = false;
  while (!out.empty()) {
    FUZZ_CHECK(!last, "bytes after a response that closed the connection");
    FUZZ_CHECK(out.substr(0, 9) == "HTTP/1.1 ", std::string(out.substr(0, 64)));
    int status = std::atoi(std::string(out.substr(9, 3)).c_str());
    FUZZ_CHECK(status >= 200 && status <= 599, std::string(out.substr(0, 64)));
    size_t end = out.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos, "no end of header");
    std::string_view head = out.substr(0, end + 4);
    size_t at = head.find("\r\nContent-Length: ");
    FUZZ_CHECK(at != std::string_view::npos, std::string(head));
    size_t length = std::strtoul(std::string(head.substr(at + 18)).c_str(), nullptr, 10);
    FUZZ_CHECK(out.size() >= end + 4 + length, "short body");
    last = head.find("\r\nConnection: close\r\n") != std::string_view::npos;
    out.remove_prefix(end + 4 + length);
    ++count;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  confcom::fuzz::QuietLogs();
  const std::string_view bytes = confcom::fuzz::AsView(data, size);
  size_t answered = 0;
  std::string out = internal::AnswerRequestBytes(Options(), TheRouter(), bytes, &answered);
  size_t responses = CheckResponses(out);
  FUZZ_CHECK(answered <= responses, "answered " + std::to_string(answered) + " of " +
                                        std::to_string(responses) + " responses");
  FUZZ_CHECK(responses <= answered + 1, "more than one refusal");
  size_t again = 0;
  FUZZ_CHECK(internal::AnswerRequestBytes(Options(), TheRouter(), bytes, &again) == out &&
                 again == answered,
             "not deterministic");
  return 0;
}
