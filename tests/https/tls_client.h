// A raw TLS client for the HTTPS layer's tests and the webhook's fault tests: what curl cannot
// do (a chosen source address, bytes sent in any shape, a byte at a time, stopping when the
// server answers early). The server's certificate is not verified (tests use their own CA).
// Thread safety: one client per thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace confcom::testing {

class TlsClient {
 public:
  // Connects to 127.0.0.1:`port` from `source` ("" for any; e.g. "127.0.0.2" to be another
  // client address) and completes the TLS handshake. Returns null if either fails (a
  // connection closed at accept fails the handshake).
  static std::unique_ptr<TlsClient> Connect(
      int port, const std::string& source = "",
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // A TCP connection only (no handshake), or null.
  static std::unique_ptr<TlsClient> ConnectTcp(int port, const std::string& source = "");
  ~TlsClient();

  // Sends every byte; returns false when the connection broke or a send made no progress for
  // `timeout` (the server stopped reading).
  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends `total` bytes made by next(max) in pieces, stopping early when the server has
  // answered (bytes are readable) or the connection broke. Returns the bytes sent.
  size_t SendUntilAnswered(size_t total, const std::function<std::string(size_t max)>& next);
  // Reads one HTTP response (header, then Content-Length bytes; 100 Continue is skipped) within
  // `timeout`. Returns "" if the connection closed or the time ran out first.
  std::string ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Returns whether the server closed the connection (EOF or reset) within `timeout`.
  bool ClosedWithin(std::chrono::milliseconds timeout);

  static int StatusOf(const std::string& response);  // 0 if not a response
  static std::string BodyOf(const std::string& response);

 private:
  TlsClient() = default;
  bool Readable(std::chrono::milliseconds timeout);
  bool Answered();  // application data (or the end) is there, not only TLS session tickets
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;  // bytes read past the last response
};

}  // namespace confcom::testing
