// A small client of the Kubernetes API server over HTTPS (libcurl with OpenSSL): one request,
// or one request retried with backoff while the server is away.
//
// TLS: the server's certificate must chain to Credentials::ca_pem and name the host (peer and
// host verification always on; TLS 1.2 or later); a client certificate is presented when the
// credentials have one, else "Authorization: Bearer <token>" (read per request). Responses
// are bounded (max_response_bytes; larger is an error) and every request has a deadline.
// Call() returns the status and body of any HTTP answer; only transport failures are errors.
// CallWithRetry() retries transport failures, 429 and 5xx with exponential backoff
// (initial doubling to max, at most `attempts` tries, 0 = until `stop` returns true), and
// returns the last answer or error. Thread-compatible: one client per thread, or a lock.
// Never logs a token; errors name the method, URL and what failed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "kube/credentials.h"

namespace confcom::kube {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  size_t max_response_bytes = 8 << 20;
  std::string user_agent = "confcom";
};

struct RetryOptions {
  int attempts = 0;  // 0 = until stop() says so
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{30000};
  // Checked before each try and during waits; true ends the retries (Unavailable "stopped").
  std::function<bool()> stop;
  // Called after each failed try with its description and the wait before the next.
  std::function<void(const std::string& what, std::chrono::milliseconds wait)> on_retry;
};

struct Response {
  long status = 0;
  std::string content_type;
  std::string body;
};

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> Create(Credentials credentials,
                                                   ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const Credentials& credentials() const { return credentials_; }

  // `path` starts with "/" (e.g. "/api/v1/nodes/n1"); `content_type` is sent with a body.
  // `abort`, when given, is polled during the transfer (about once a second): true ends it
  // (Unavailable "stopped"), so a daemon stops promptly even while the server hangs.
  Result<Response> Call(const std::string& method, const std::string& path,
                        const std::string& body = "", const std::string& content_type = "",
                        const std::function<bool()>& abort = {});
  Result<Response> CallWithRetry(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type,
                                 const RetryOptions& retry);

 private:
  ApiClient(Credentials c, ClientOptions o);
  Credentials credentials_;
  ClientOptions options_;
  void* curl_ = nullptr;  // CURL*, reused for connection reuse
};

// A path segment escaped for a URL (node names are DNS names, but never trust input).
std::string EscapePathSegment(const std::string& s);

}  // namespace confcom::kube
