#include "https/router.h"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>

namespace confcom::https {
namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::vector<std::string>& Methods() {
  static const std::vector<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  return methods;
}

// Header values we write must not end the header early.
std::string HeaderSafe(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoringCase(n, name)) return v;
  }
  return std::string();
}

std::string Request::Query(std::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return v;
  }
  return std::string();
}

namespace internal {

Status CheckRoutes(const std::vector<Route>& routes) {
  for (size_t i = 0; i < routes.size(); ++i) {
    const Route& r = routes[i];
    std::string name = r.method + " " + r.path;
    if (std::find(Methods().begin(), Methods().end(), r.method) == Methods().end()) {
      return Status::InvalidArgument("route " + name +
                                     ": the method is not GET, POST, PUT, PATCH or DELETE");
    }
    if (r.path.empty() || r.path.front() != '/')
      return Status::InvalidArgument("route " + name + ": the path must start with /");
    if (r.path == "/healthz" || r.path == "/readyz") {
      return Status::InvalidArgument("route " + name + ": the server answers " + r.path +
                                     " itself");
    }
    if (!r.handler) return Status::InvalidArgument("route " + name + " has no handler");
    for (size_t j = 0; j < i; ++j) {
      if (routes[j].method == r.method && routes[j].path == r.path) {
        return Status::InvalidArgument("route " + name + " is in the table twice");
      }
    }
  }
  return Status::Ok();
}

Router::Router(const ServerOptions& options, std::vector<Route> routes, CertReloader* certs)
    : server_name_(options.server_name),
      routes_(std::move(routes)),
      certs_(certs),
      readiness_(options.readiness) {
  for (const Route& route : routes_) paths_ += route.method + " " + route.path + ", ";
  paths_ += "GET /healthz, GET /readyz";
}

const Route* Router::Find(const Request& request) const {
  for (const Route& route : routes_) {
    if (route.method == request.method && route.path == request.path) return &route;
  }
  return nullptr;
}

bool Router::IsBuiltin(const Request& request) {
  return request.method == "GET" && (request.path == "/healthz" || request.path == "/readyz");
}

Response Router::Builtin(const Request& request) const {
  if (request.path == "/healthz") return Response{200, "text/plain", "ok\n"};
  if (readiness_) {
    if (Status st = readiness_(); !st.ok())
      return Response{503, "text/plain", "not ready: " + st.message() + "\n"};
  }
  // Ready while a usable pair serves, which is always after Open: a broken rotation keeps the
  // previous pair, and taking every replica out of the Service at once for it would be the
  // outage a daemon behind a Service must never cause. The body, the log and the reload hook
  // report it instead.
  if (certs_ == nullptr || certs_->Refresh()) return Response{200, "text/plain", "ok\n"};
  return Response{
      200, "text/plain",
      "ok (serving the previous certificate: the files on disk do not load; see the log)\n"};
}

Response Router::NotFound() const { return Error(404, "no such path: use " + paths_); }

Response Router::Error(int status, const std::string& reason) const {
  return Response{status, "text/plain", server_name_ + ": " + reason + "\n"};
}

Response Router::Run(const Route& route, const Request& request) const {
  Response response;
  try {
    response = route.handler(request);
  } catch (...) {
    return Error(500, "internal error");
  }
  if (response.status < 100 || response.status > 599) return Error(500, "internal error");
  if (response.status >= 400 && response.body.empty()) {
    return Error(response.status, "request refused");
  }
  return response;
}

std::string Router::Serialize(const Response& r, bool keep_alive) const {
  namespace http = boost::beast::http;
  auto reason = http::obsolete_reason(http::int_to_status(unsigned(r.status)));
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(reason.data(), reason.size()) + "\r\n";
  out += "Content-Type: " + HeaderSafe(r.content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  out += r.body;
  return out;
}

std::string AnswerRequestBytes(const ServerOptions& options, const Router& router,
                               std::string_view bytes, size_t* complete_requests) {
  std::string out;
  *complete_requests = 0;
  while (!bytes.empty()) {
    RequestParser parser(options);
    boost::beast::error_code ec;
    // As the server does: the header first, then (after its checks) the body.
    while (!parser.is_done() && !bytes.empty()) {
      size_t used = parser.Put(bytes.data(), bytes.size(), ec);
      bytes.remove_prefix(used);
      if (ec == boost::beast::http::error::need_more) {
        ec = {};
        break;  // the bytes ended inside the request
      }
      if (ec) break;
      if (used == 0 && !parser.is_done()) break;
    }
    if (ec) {
      Refusal refusal = parser.refusal(ec);
      out += router.Serialize(router.Error(refusal.status, refusal.reason), false);
      return out;
    }
    if (!parser.is_done()) return out;  // incomplete: the server would wait, then close
    bool keep_alive = parser.keep_alive();
    Request request = parser.TakeRequest("127.0.0.1");
    Response response;
    if (Router::IsBuiltin(request)) {
      response = router.Builtin(request);
    } else if (const Route* route = router.Find(request)) {
      response = router.Run(*route, request);
    } else {
      response = router.NotFound();
    }
    ++*complete_requests;
    out += router.Serialize(response, keep_alive);
    if (!keep_alive) return out;
  }
  return out;
}

}  // namespace internal
}  // namespace confcom::https
