// Internal to src/https (server.cc, router.cc and fuzz/https_request_fuzzer.cc): one HTTP/1.1
// request parsed with the serving layer's limits on Boost.Beast's basic_parser. The fields go
// straight into an https::Request (no second copy); a limit that is hit stops the parse with
// a Refusal (status and reason) before any byte past it is kept. Limits: docs/https.md.
// Thread safety: none; one parser per request, used by one thread at a time.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "https/server.h"

namespace confcom::https::internal {

// Why a request is refused before any handler, and the status it gets.
struct Refusal {
  int status = 400;
  std::string reason;  // "<server_name>: " goes before it in the body
  std::string metric;  // a short name for ServerOptions::on_refusal, e.g. "header_bytes"
};

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // Limits from `options`: max_header_bytes, max_header_count, max_body_bytes.
  explicit RequestParser(const ServerOptions& options);

  // Feeds `bytes`; returns how many were used (basic_parser::put). On an error, refusal()
  // says what the client gets.
  size_t Put(const char* bytes, size_t size, boost::beast::error_code& ec);
  // After an error from Put (or after the connection ended early): the answer to send.
  Refusal refusal(const boost::beast::error_code& ec) const;

  // After is_header_done(): whether the body is chunked, its declared length (none when
  // chunked or absent), and whether the client waits for "100 Continue".
  bool chunked_body() const { return chunked(); }
  std::optional<uint64_t> declared_length() const;
  bool expects_continue() const { return expects_continue_; }

  // After is_done(): the request (path split from the decoded query; body moved out).
  Request TakeRequest(std::string remote_address);

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<uint64_t>& content_length,
                         boost::beast::error_code& ec) override;
  size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(uint64_t size, boost::beast::string_view extensions,
                            boost::beast::error_code& ec) override;
  size_t on_chunk_body_impl(uint64_t remain, boost::beast::string_view body,
                            boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code& ec) override;

  const size_t max_header_bytes_;
  const size_t max_header_count_;
  const size_t max_body_bytes_;
  std::string method_, target_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  bool expects_continue_ = false;
  std::optional<Refusal> refusal_;  // set by our own checks (the error code is then generic)
};

// "%41+b" -> "A b" (query strings: '+' is a space); a bad escape is kept as it is.
std::string DecodeQueryComponent(std::string_view text);

}  // namespace confcom::https::internal
