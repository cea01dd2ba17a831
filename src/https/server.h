// The HTTPS server (cpp-httplib + OpenSSL) of sgx-webhook:
//   POST /mutate-pods, POST /validate-pods  AdmissionReview in, AdmissionReview out
//   GET  /healthz, /readyz                  "ok" (readyz: the serving certificate loads)
// Limits (docs/webhook.md): request bodies over max_body_bytes get 413 before the handler;
// per-read/write timeouts; at most `max_connections` connections are served at once (one
// worker thread each, keep-alive included) and at most as many more wait in a queue, after
// which accepting pauses (the kernel's backlog holds the rest); reviews with bodies over 256
// KiB are decided one at a time, so parsed-JSON memory stays bounded. A handler exception is
// a 500, never a crash. TLS 1.2 or later; the certificate comes from a CertReloader.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "webhook/cert_reloader.h"
#include "webhook/config.h"
#include "webhook/metrics.h"

namespace httplib {
class SSLServer;
}

namespace confcom::webhook {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;  // 0: any free port
  size_t max_body_bytes = 3 << 20;
  size_t max_connections = 64;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{30};
  size_t keep_alive_max_requests = 1000;
};

// ":8443", "0.0.0.0:8443", "[::1]:8443", "localhost:0" -> host and port.
Status ParseListenAddress(const std::string& text, std::string* host, int* port);

class WebhookServer {
 public:
  // Binds now (errors name the address); `metrics` may be null.
  static Result<std::unique_ptr<WebhookServer>> Start(const ServerOptions& options, const WebhookConfig& config,
                                                      CertReloader* certs, WebhookMetrics* metrics);
  ~WebhookServer();
  int port() const { return port_; }
  // Serves until Stop(); returns when the listener closed.
  void Run();
  void Stop();

 private:
  WebhookServer() = default;
  std::unique_ptr<httplib::SSLServer> server_;
  WebhookConfig config_;
  int port_ = 0;
};

}  // namespace confcom::webhook
