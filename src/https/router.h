// Internal to src/https (server.cc and fuzz/https_request_fuzzer.cc): what the serving layer
// answers once a request is parsed, with no I/O: the route table, /healthz and /readyz, the
// error answers ("<server_name>: <reason>\n") and the bytes of a response. AnswerRequestBytes
// is the whole request path without sockets or TLS, for the fuzzer.
// Thread safety: const methods may be called from any thread at once (handlers must be
// thread-safe themselves).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "https/request_parser.h"
#include "https/server.h"

namespace confcom::https::internal {

// Returns InvalidArgument for a route with an unknown method, a path not starting with '/',
// no handler, twice the same method and path, or /healthz or /readyz.
Status CheckRoutes(const std::vector<Route>& routes);

class Router {
 public:
  // `certs` (may be null: /readyz then checks only options.readiness) must outlive it.
  Router(const ServerOptions& options, std::vector<Route> routes, CertReloader* certs);

  // Returns the route for the request's method and path (matched exactly), or null.
  const Route* Find(const Request& request) const;
  // Returns whether the request is GET /healthz or GET /readyz (answered by Builtin).
  static bool IsBuiltin(const Request& request);
  // Returns the answer to GET /healthz or /readyz (calls options.readiness; stats the
  // certificate files).
  Response Builtin(const Request& request) const;
  // Returns the 404 that names every route.
  Response NotFound() const;
  // Returns `status` with the body "<server_name>: <reason>\n".
  Response Error(int status, const std::string& reason) const;
  // Returns the route handler's response: an exception becomes a 500, a status >= 400 with an
  // empty body gets "<server_name>: request refused\n".
  Response Run(const Route& route, const Request& request) const;
  // Returns the bytes of an HTTP/1.1 response with Content-Length and Connection headers.
  std::string Serialize(const Response& response, bool keep_alive) const;

 private:
  std::string server_name_;
  std::vector<Route> routes_;
  CertReloader* certs_;
  std::function<Status()> readiness_;
  std::string paths_;  // for the 404 answer
};

// Parses `bytes` as requests with the limits of `options`, answering each as the server would
// (handlers run inline), until the bytes end, a request is refused or wants the connection
// closed. Returns the bytes written back; `*complete_requests` counts the requests answered
// by a route or a built-in path.
std::string AnswerRequestBytes(const ServerOptions& options, const Router& router,
                               std::string_view bytes, size_t* complete_requests);

}  // namespace confcom::https::internal
