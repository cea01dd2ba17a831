// The HTTPS serving layer of confcom's daemons (sgx-webhook; the attestation service next):
// a table of routes {method, path, handler} served over TLS 1.2 or later with the certificate
// of a CertReloader, GET /healthz and /readyz built in, and the limits (body size, connections,
// timeouts, bytes in handlers at once) as options. Limits and error answers: docs/https.md.
// The interface names no HTTP library: handlers take a Request and return a Response, so the
// library underneath (cpp-httplib today) can change without touching a daemon.
// Thread safety: handlers run concurrently, up to max_connections at once, and must be
// thread-safe; Stop() may be called from any thread, every other method from one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "https/cert_reloader.h"

namespace confcom::https {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // without the query string
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string remote_address;  // the peer's IP address, for logs

  // The value of the first header called `name` (ASCII case-insensitive); "" if there is none.
  std::string Header(std::string_view name) const;
  // The value of the first query parameter called `name`; "" if there is none.
  std::string Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  // With status >= 400 and an empty body the server writes "<server_name>: <reason>\n".
  std::string body;
};

// Called once per request; an exception it throws becomes a 500, never a crash.
using Handler = std::function<Response(const Request& request)>;

struct Route {
  std::string method;  // GET, POST, PUT, PATCH or DELETE
  std::string path;    // matched exactly, e.g. "/mutate-pods"
  Handler handler;
};

struct ServerOptions {
  std::string server_name = "https";  // starts the bodies the server writes itself
  std::string host = "0.0.0.0";
  int port = 8443;                  // 0: any free port
  size_t max_body_bytes = 3 << 20;  // larger request bodies get 413 before any handler
  size_t max_connections = 64;      // served at once (one thread each); as many more queue
  // Request bodies inside handlers at once, in total: parsing multiplies a body's size (~20x
  // for JSON of empty arrays), so the sum is bounded; a larger body runs alone. 0: no bound.
  size_t max_body_bytes_in_handlers = 4 << 20;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{30};
  size_t keep_alive_max_requests = 1000;
  // Extra readiness for /readyz (null: ready while serving); a non-OK status is a 503 with
  // its message. Called on each /readyz, from handler threads.
  std::function<Status()> readiness;
};

// ":8443", "0.0.0.0:8443", "[::1]:8443", "localhost:0" -> host ("0.0.0.0" when empty) and
// port. Errors: InvalidArgument naming --listen and the text.
Status ParseListenAddress(const std::string& text, std::string* host, int* port);

class Server {
 public:
  // Checks the routes and binds now. `certs` must outlive the server. Errors:
  // InvalidArgument (a route with an unknown method, a path not starting with '/', twice the
  // same method and path, or /healthz or /readyz), Internal (TLS context), Unavailable
  // (cannot bind; the message names the address).
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                               std::vector<Route> routes, CertReloader* certs);
  ~Server();  // only when Run() is not running (it returned, or never ran)

  int port() const { return port_; }  // the bound port (the chosen one for port 0)
  // Serves until Stop(); returns when the listener closed and the handlers finished.
  void Run();
  // Makes Run() return; idempotent.
  void Stop();

 private:
  struct Impl;
  Server() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace confcom::https
