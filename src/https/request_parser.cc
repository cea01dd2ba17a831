#include "https/request_parser.h"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>

namespace confcom::https::internal {
namespace {

namespace http = boost::beast::http;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(char(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

// Our own refusals stop basic_parser with this generic code; refusal_ says which.
constexpr http::error kRefused = http::error::bad_field;

}  // namespace

std::string DecodeQueryComponent(std::string_view text) { return PercentDecode(text, true); }

RequestParser::RequestParser(const ServerOptions& o)
    : max_header_bytes_(o.max_header_bytes),
      max_header_count_(o.max_header_count),
      max_body_bytes_(o.max_body_bytes) {
  header_limit(static_cast<uint32_t>(std::min<size_t>(o.max_header_bytes, UINT32_MAX)));
  body_limit(uint64_t(o.max_body_bytes));
  eager(false);  // stop after the header, so the caller checks it before any body is read
}

size_t RequestParser::Put(const char* bytes, size_t size, boost::beast::error_code& ec) {
  return put(boost::asio::const_buffer(bytes, size), ec);
}

std::optional<uint64_t> RequestParser::declared_length() const {
  auto n = content_length();
  if (!n) return std::nullopt;
  return *n;
}

Refusal RequestParser::refusal(const boost::beast::error_code& ec) const {
  if (refusal_) return *refusal_;
  if (ec == http::error::header_limit)
    return {431, "request header too large (over " + std::to_string(max_header_bytes_) + " bytes)",
            "header_bytes"};
  if (ec == http::error::body_limit) return {413, "request body too large", "body_bytes"};
  return {400, "malformed request", "malformed"};
}

void RequestParser::on_request_impl(http::verb, boost::beast::string_view method_str,
                                    boost::beast::string_view target, int version,
                                    boost::beast::error_code& ec) {
  if (version != 11 && version != 10) {
    refusal_ = Refusal{505, "only HTTP/1.0 and HTTP/1.1 are served", "malformed"};
    ec = kRefused;
    return;
  }
  method_.assign(method_str.data(), method_str.size());
  target_.assign(target.data(), target.size());
}

void RequestParser::on_field_impl(http::field, boost::beast::string_view name,
                                  boost::beast::string_view value, boost::beast::error_code& ec) {
  if (headers_.size() >= max_header_count_) {
    refusal_ =
        Refusal{431, "too many header fields (over " + std::to_string(max_header_count_) + ")",
                "header_count"};
    ec = kRefused;
    return;
  }
  headers_.emplace_back(std::string(name.data(), name.size()),
                        std::string(value.data(), value.size()));
}

void RequestParser::on_header_impl(boost::beast::error_code& ec) {
  for (const auto& [name, value] : headers_) {
    std::string n = Lower(name);
    std::string v = Lower(Trim(value));
    // The API server sends no Content-Encoding; a compressed body would multiply past every
    // byte limit once decoded (a 204 KB gzip body is 200 MiB), so none is accepted, and the
    // body is never decoded.
    if (n == "content-encoding" && v != "identity" && !v.empty()) {
      refusal_ = Refusal{415,
                         "Content-Encoding " + std::string(Trim(value)).substr(0, 64) +
                             " is not accepted (send the body uncompressed)",
                         "content_encoding"};
      ec = kRefused;
      return;
    }
    // basic_parser knows "chunked" only; any other transfer coding would be read as no body.
    if (n == "transfer-encoding" && v != "chunked") {
      refusal_ = Refusal{501,
                         "Transfer-Encoding " + std::string(Trim(value)).substr(0, 64) +
                             " is not supported (only chunked)",
                         "transfer_encoding"};
      ec = kRefused;
      return;
    }
    if (n == "expect") {
      if (v != "100-continue") {
        refusal_ = Refusal{417, "only Expect: 100-continue is supported", "malformed"};
        ec = kRefused;
        return;
      }
      expects_continue_ = true;
    }
  }
}

void RequestParser::on_body_init_impl(const boost::optional<uint64_t>& content_length,
                                      boost::beast::error_code&) {
  // A declared length is within max_body_bytes here (basic_parser checked it): reserve it
  // once instead of growing by doubling (which would hold up to twice the body).
  if (content_length) body_.reserve(size_t(*content_length));
}

size_t RequestParser::on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) {
  if (body_.size() + body.size() > max_body_bytes_) {  // basic_parser checks it too
    ec = http::error::body_limit;
    return 0;
  }
  body_.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_chunk_header_impl(uint64_t size, boost::beast::string_view,
                                         boost::beast::error_code& ec) {
  // basic_parser subtracts each chunk's size from the body limit before its data is read.
  if (size > max_body_bytes_ - std::min(max_body_bytes_, body_.size())) {
    ec = http::error::body_limit;
    return;
  }
  if (body_.capacity() < body_.size() + size)
    body_.reserve(std::min(max_body_bytes_, std::max(body_.size() + size, 2 * body_.size())));
}

size_t RequestParser::on_chunk_body_impl(uint64_t, boost::beast::string_view body,
                                         boost::beast::error_code& ec) {
  return on_body_impl(body, ec);
}

void RequestParser::on_finish_impl(boost::beast::error_code&) {}

Request RequestParser::TakeRequest(std::string remote_address) {
  Request r;
  r.method = std::move(method_);
  std::string_view target = target_;
  size_t q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        r.query.emplace_back(DecodeQueryComponent(pair.substr(0, eq)),
                             eq == std::string_view::npos
                                 ? std::string()
                                 : DecodeQueryComponent(pair.substr(eq + 1)));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  r.headers = std::move(headers_);
  r.body = std::move(body_);
  r.remote_address = std::move(remote_address);
  return r;
}

}  // namespace confcom::https::internal
