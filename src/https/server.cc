#include "webhook/webhook_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include "common/logging.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace confcom::webhook {
namespace {

// Bytes of request bodies parsed at once, in total. Parsing multiplies a body's size (up to
// ~20x for a body of empty arrays), so the sum is bounded, not only each body: ordinary
// reviews (a few KiB) never wait; a body larger than the budget runs alone.
constexpr size_t kParseBudgetBytes = 4 << 20;

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

}  // namespace

Status ParseListenAddress(const std::string& text, std::string* host, int* port) {
  auto bad = [&] {
    return Status::InvalidArgument("--listen '" + text.substr(0, 128) + "' is not [HOST]:PORT (e.g. :8443)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad();
  std::string h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return bad();
  int n = std::stoi(p);
  if (n > 65535) return bad();
  *host = h.empty() ? "0.0.0.0" : h;
  *port = n;
  return Status::Ok();
}

WebhookServer::~WebhookServer() = default;

Result<std::unique_ptr<WebhookServer>> WebhookServer::Start(const ServerOptions& o, const WebhookConfig& config,
                                                            CertReloader* certs, WebhookMetrics* metrics) {
  std::unique_ptr<WebhookServer> self(new WebhookServer());
  self->config_ = config;
  self->server_ = std::make_unique<httplib::SSLServer>([certs](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    certs->Install(&ctx);
    return true;
  });
  httplib::SSLServer& s = *self->server_;
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

  auto budget = std::make_shared<ParseBudget>(kParseBudgetBytes);
  WebhookServer* raw = self.get();
  auto review = [raw, metrics, budget](ReviewOperation op) {
    return [raw, metrics, budget, op](const httplib::Request& req, httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      ParseBudget::Hold hold(*budget, req.body.size());
      HttpReply reply = HandleReview(op, req.get_header_value("Content-Type"), req.body, raw->config_);
      res.status = reply.status;
      res.set_content(reply.body, reply.content_type.c_str());
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (metrics) metrics->Observe(op, reply.result, seconds);
      if (reply.result == ReviewResult::kError) {
        spdlog::warn("{} review from {} answered {}: {}", ReviewOperationName(op), req.remote_addr, reply.status,
                     confcom::EscapeForLog(
                         reply.body.substr(0, std::min<size_t>(300, reply.body.find_last_not_of('\n') + 1))));
      } else {
        spdlog::debug("{} review: {}", ReviewOperationName(op), ReviewResultName(reply.result));
      }
    };
  };
  s.Post("/mutate-pods", review(ReviewOperation::kMutate));
  s.Post("/validate-pods", review(ReviewOperation::kValidate));
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [certs](const httplib::Request&, httplib::Response& res) {
    // Ready while a usable pair serves, which is always after Open: a broken rotation keeps
    // the previous pair, and taking every replica out of the Service at once for it would
    // be the outage the webhook must never cause. The body, the log and the
    // certificate-reload metric report it instead.
    if (certs->Refresh()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.set_content("ok (serving the previous certificate: the files on disk do not load; see the log)\n",
                      "text/plain");
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("sgx-webhook: internal error\n", "text/plain");
  });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 413   ? "request body too large"
                      : res.status == 404 ? "no such path: use POST /mutate-pods, POST /validate-pods, GET /healthz, GET /readyz"
                                          : "request refused";
    (void)req;
    res.set_content("sgx-webhook: " + msg + "\n", "text/plain");
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

void WebhookServer::Run() { server_->listen_after_bind(); }

void WebhookServer::Stop() { server_->stop(); }

}  // namespace confcom::webhook
