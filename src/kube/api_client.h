// A small client of the Kubernetes API server over HTTPS (libcurl with OpenSSL): one request,
// or one request retried with backoff while the server is away.
//
// The server's certificate is always verified against Credentials::ca_pem only; a client
// certificate or a bearer token (read per request) proves who we are. Answers are bounded and
// every request has a deadline. Never logs a token; errors name the method, URL and what
// failed. TLS, limits and the retry rules: docs/kubernetes-api.md, "The client".
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "kube/credentials.h"

namespace confcom::kube {

// Plain option values: thread-compatible.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};
  size_t max_response_bytes = 8 << 20;  // a larger answer is an error (Corruption)
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
  long status = 0;  // the HTTP status, any of them (see ApiStatus() to make it a Status)
  std::string content_type;
  std::string body;
};

// Thread-compatible: one request at a time per client (it reuses one connection); use one
// client per thread, or a lock.
class ApiClient {
 public:
  // Returns a client for `credentials`. Errors: InvalidArgument when the server is not
  // https:// or there is no CA; Internal when libcurl cannot be initialized.
  static Result<std::unique_ptr<ApiClient>> Create(Credentials credentials,
                                                   ClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const Credentials& credentials() const { return credentials_; }

  // Sends one request and returns the server's answer, whatever its HTTP status. `path` starts
  // with "/" (e.g. "/api/v1/nodes/n1"); `content_type` is sent with a body. `abort`, when
  // given, is polled during the transfer (about once a second): true ends it (Unavailable
  // "stopped"), so a daemon stops promptly even while the server hangs. Errors: Unavailable
  // for transport failures, timeouts and an unreadable token file; PermissionDenied when the
  // server's certificate does not verify or the CA or our certificate cannot be loaded;
  // Corruption for an answer over max_response_bytes.
  Result<Response> Call(const std::string& method, const std::string& path,
                        const std::string& body = "", const std::string& content_type = "",
                        const std::function<bool()>& abort = {});
  // Call(), retried after Unavailable errors, 429 and 5xx: waits `retry.initial`, doubling
  // up to `retry.max`, for at most `retry.attempts` tries (0 = until `retry.stop`). Returns
  // the last answer or error; Unavailable "stopped" as soon as `retry.stop` returns true.
  Result<Response> CallWithRetry(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& content_type,
                                 const RetryOptions& retry);

 private:
  ApiClient(Credentials c, ClientOptions o);
  Credentials credentials_;
  ClientOptions options_;
  void* curl_ = nullptr;  // CURL*, reused for connection reuse
};

// Returns `s` percent-escaped as one URL path segment (all but RFC 3986's unreserved
// characters), so a name cannot add segments or a query (node names are DNS names, but never
// trust input).
std::string EscapePathSegment(const std::string& s);

}  // namespace confcom::kube
