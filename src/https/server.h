// The HTTPS serving layer of confcom's tenant-facing daemons (sgx-webhook; the attestation
// service next): a table of routes {method, path, handler} served over TLS 1.2 or later with
// the certificate of a CertReloader, GET /healthz and /readyz built in, and limits that hold
// against hostile clients (header bytes and count, body bytes for every transfer coding, no
// content coding, a deadline per request, connection caps, bounded memory) as options.
// Limits, answers and the memory reasoning: docs/https.md. The interface names no HTTP
// library (Boost.Beast and Asio are private to src/https).
// Thread safety: handlers run concurrently on handler_threads threads and must be
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

// Why a request or connection was refused before any handler; see ServerOptions::on_refusal.
// "connection_cap", "client_cap" (closed at accept), "header_bytes", "header_count" (431),
// "body_bytes" (413), "content_encoding" (415), "transfer_encoding" (501), "deadline"
// (closed), "busy" (503: the handler queue is full), "malformed" (400).
using RefusalHook = std::function<void(const std::string& reason)>;

struct ServerOptions {
  std::string server_name = "https";  // starts the bodies the server writes itself
  std::string host = "0.0.0.0";
  int port = 8443;  // 0: any free port

  // Request line and header fields in bytes; more is a 431. Kubernetes' API server sends
  // ~10 fields (~1 KiB); 16 KiB is what common proxies accept per header.
  size_t max_header_bytes = 16 << 10;
  // Header fields; more is a 431. 100 is an order of magnitude above the API server's ~10 and
  // keeps a header of tiny fields from costing more than ~10 KiB of allocations.
  size_t max_header_count = 100;
  // Decoded body bytes, declared (Content-Length) or chunked; more is a 413 before the bytes
  // past the limit are read. 3 MiB is the API server's own limit for a request body.
  // Content-Encoding other than identity is a 415 (bodies are never decompressed).
  size_t max_body_bytes = 3 << 20;
  // From accept (TLS handshake, header, body) or from a keep-alive request's first byte, until
  // the handler starts: past it the connection is closed. The API server gives up after its
  // webhook timeout (5 s in our manifests, 30 s at most), so a request older than 10 s has no
  // one waiting for it; a client trickling bytes holds a connection for 10 s at most.
  std::chrono::seconds request_timeout{10};
  std::chrono::seconds write_timeout{10};  // to write one response
  // Idle time allowed between keep-alive requests, and requests per connection.
  std::chrono::seconds keep_alive_timeout{30};
  size_t keep_alive_max_requests = 1000;

  // Connections open at once, and from one client address; a connection over either is
  // closed at accept (no TLS handshake is spent on it), counted and logged at most every 10 s.
  // Each costs ~40 KiB (socket, TLS state, a header buffer of max_header_bytes), 512 ~20 MiB.
  // The API server opens connections as its admission concurrency needs (tens); pods reach
  // the Service from their own addresses, so one address cannot take every connection.
  size_t max_connections = 512;
  size_t max_connections_per_client = 64;

  // Threads that run handlers (and only handlers: TLS, parsing and /healthz, /readyz run on
  // one I/O thread, so slow clients and a full queue never delay them). Each thread may keep
  // its own malloc arena of what its handler freed; 2 bounds that (docs/https.md).
  size_t handler_threads = 2;
  // Complete requests waiting for a handler thread; more get a 503 at once. A connection has
  // at most one request in the layer, so max_connections (512) never sees a 503: the API
  // server may send a review on every connection it holds at once (200 concurrent clients
  // in bench/webhook). Queued bodies are within the body budgets, so the bound is not memory.
  size_t max_queued_requests = 512;
  // Body bytes held for requests being read or waiting for a handler, beyond the first 64 KiB
  // of each (ordinary reviews are a few KiB and never wait). A body that does not fit waits,
  // unread, for the others within its deadline. 32 MiB: ten bodies of the 3 MiB limit.
  size_t max_buffered_body_bytes = 32 << 20;
  // Request bodies inside handlers at once, in total: parsing multiplies a body's size (~20x
  // for JSON of empty arrays), so the sum is bounded; a larger body runs alone. 0: no bound.
  size_t max_body_bytes_in_handlers = 4 << 20;

  // Extra readiness for /readyz (null: ready while serving); a non-OK status is a 503 with
  // its message. Called on each /readyz on the I/O thread: it must not block.
  std::function<Status()> readiness;
  // Called (on the I/O thread) for each refusal, with its reason (RefusalHook); e.g. a metric.
  RefusalHook on_refusal;
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
  // Serves on the calling thread (the I/O thread) until Stop(); returns when the listener and
  // every connection are closed and the handlers finished.
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
