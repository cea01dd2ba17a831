#include "https/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

namespace confcom::https {
namespace {

// Bytes of request bodies inside handlers at once (ServerOptions::max_body_bytes_in_handlers):
// ordinary requests (a few KiB) never wait; a body larger than the budget runs alone.
class ParseBudget {
 public:
  explicit ParseBudget(size_t bytes) : capacity_(bytes) {}
  // Holds n bytes of the budget for its lifetime.
  class Hold {
   public:
    Hold(ParseBudget& b, size_t n) : b_(b), n_(n) { b_.Acquire(n_); }
    ~Hold() { b_.Release(n_); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    ParseBudget& b_;
    size_t n_;
  };
  void Acquire(size_t n) {
    n = std::min(n, capacity_);
    std::unique_lock<std::mutex> lock(mu_);
    freed_.wait(lock, [&] { return used_ + n <= capacity_; });
    used_ += n;
  }
  void Release(size_t n) {
    n = std::min(n, capacity_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      used_ -= n;
    }
    freed_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable freed_;
  size_t used_ = 0;
};

// httplib's task queue with a bound: `threads` workers, at most `max_queued` connections
// waiting; when full, enqueue() (the accept loop) waits, so accepting pauses.
class BoundedPool : public httplib::TaskQueue {
 public:
  BoundedPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [this] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    work_.notify_all();
    room_.notify_all();
    for (auto& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        room_.notify_one();
      }
      fn();
    }
  }
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable work_, room_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> workers_;
  bool shutdown_ = false;
};

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// cpp-httplib matches a route's path as a regular expression; ours are exact.
std::string ExactPattern(const std::string& path) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(path, special, R"(\$&)");
}

Request ToRequest(const httplib::Request& req) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [name, value] : req.params) r.query.emplace_back(name, value);
  for (const auto& [name, value] : req.headers) r.headers.emplace_back(name, value);
  r.body = req.body;
  r.remote_address = req.remote_addr;
  return r;
}

void Write(const Response& from, httplib::Response& to) {
  to.status = from.status;
  to.set_content(from.body, from.content_type.c_str());
}

const std::vector<std::string>& Methods() {
  static const std::vector<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  return methods;
}

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

Status ParseListenAddress(const std::string& text, std::string* host, int* port) {
  auto bad = [&] {
    return Status::InvalidArgument("--listen '" + text.substr(0, 128) +
                                   "' is not [HOST]:PORT (e.g. :8443)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return bad();
  int n = std::stoi(p);
  if (n > 65535) return bad();
  *host = h.empty() ? "0.0.0.0" : h;
  *port = n;
  return Status::Ok();
}

struct Server::Impl {
  std::unique_ptr<httplib::SSLServer> http;
};

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& o, std::vector<Route> routes,
                                              CertReloader* certs) {
  CONFCOM_RETURN_IF_ERROR(CheckRoutes(routes));
  std::unique_ptr<Server> self(new Server());
  self->impl_ = std::make_unique<Impl>();
  self->impl_->http = std::make_unique<httplib::SSLServer>([certs](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    certs->Install(&ctx);
    return true;
  });
  httplib::SSLServer& s = *self->impl_->http;
  if (!s.is_valid()) return Status::Internal("cannot create the TLS context");
  s.set_payload_max_length(o.max_body_bytes);
  s.set_read_timeout(o.read_timeout);
  s.set_write_timeout(o.write_timeout);
  s.set_keep_alive_timeout(o.keep_alive_timeout.count());
  s.set_keep_alive_max_count(o.keep_alive_max_requests);
  s.set_tcp_nodelay(true);
  // cpp-httplib listens with a backlog of 5: a burst of new connections (API server replicas
  // opening their pools) would see dropped SYNs and 1 s retransmits. Keep the listening socket
  // and raise the backlog after the bind. No SO_REUSEPORT: no other process may share the port.
  auto listen_fd = std::make_shared<int>(-1);
  s.set_socket_options([listen_fd](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listen_fd = sock;
  });
  const size_t conns = std::max<size_t>(1, o.max_connections);
  s.new_task_queue = [conns] { return new BoundedPool(conns, conns); };

  const std::string internal_error = o.server_name + ": internal error\n";
  std::shared_ptr<ParseBudget> budget;
  if (o.max_body_bytes_in_handlers > 0)
    budget = std::make_shared<ParseBudget>(o.max_body_bytes_in_handlers);
  std::string paths;  // for the 404 answer
  for (Route& route : routes) {
    paths += route.method + " " + route.path + ", ";
    auto serve = [handler = std::move(route.handler), budget, internal_error](
                     const httplib::Request& req, httplib::Response& res) {
      std::optional<ParseBudget::Hold> hold;
      if (budget) hold.emplace(*budget, req.body.size());
      Response response;
      try {
        response = handler(ToRequest(req));
      } catch (...) {
        response = Response{500, "text/plain", internal_error};
      }
      Write(response, res);
    };
    const std::string pattern = ExactPattern(route.path);
    if (route.method == "GET") s.Get(pattern, serve);
    if (route.method == "POST") s.Post(pattern, httplib::Server::Handler(serve));
    if (route.method == "PUT") s.Put(pattern, httplib::Server::Handler(serve));
    if (route.method == "PATCH") s.Patch(pattern, httplib::Server::Handler(serve));
    if (route.method == "DELETE") s.Delete(pattern, httplib::Server::Handler(serve));
  }
  paths += "GET /healthz, GET /readyz";
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  s.Get(
      "/readyz", [certs, readiness = o.readiness](const httplib::Request&, httplib::Response& res) {
        if (readiness) {
          if (Status st = readiness(); !st.ok()) {
            res.status = 503;
            res.set_content("not ready: " + st.message() + "\n", "text/plain");
            return;
          }
        }
        // Ready while a usable pair serves, which is always after Open: a broken rotation keeps
        // the previous pair, and taking every replica out of the Service at once for it would
        // be the outage a daemon behind a Service must never cause. The body, the log and the
        // reload hook report it instead.
        if (certs->Refresh()) {
          res.set_content("ok\n", "text/plain");
        } else {
          res.set_content(
              "ok (serving the previous certificate: the files on disk do not load; see the log)\n",
              "text/plain");
        }
      });
  s.set_exception_handler(
      [internal_error](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(internal_error, "text/plain");
      });
  s.set_error_handler(
      [name = o.server_name, paths](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return;
        std::string msg = res.status == 413   ? "request body too large"
                          : res.status == 404 ? "no such path: use " + paths
                                              : "request refused";
        res.set_content(name + ": " + msg + "\n", "text/plain");
      });
  if (o.port == 0) {
    int port = s.bind_to_any_port(o.host.c_str());
    if (port <= 0) return Status::Unavailable("cannot bind " + o.host + ":0");
    self->port_ = port;
  } else {
    if (!s.bind_to_port(o.host.c_str(), o.port)) {
      return Status::Unavailable("cannot bind " + o.host + ":" + std::to_string(o.port) +
                                 " (in use, or not an address of this host?)");
    }
    self->port_ = o.port;
  }
  if (*listen_fd >= 0) ::listen(*listen_fd, SOMAXCONN);
  return self;
}

void Server::Run() { impl_->http->listen_after_bind(); }

void Server::Stop() { impl_->http->stop(); }

}  // namespace confcom::https
