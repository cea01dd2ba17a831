#include "https/server.h"

#include <malloc.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "https/request_parser.h"
#include "https/router.h"

namespace confcom::https {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using internal::Refusal;
using internal::RequestParser;
using internal::Router;
using namespace std::chrono_literals;

// The first bytes of each body are not charged to max_buffered_body_bytes, so ordinary
// requests (an AdmissionReview is 2-10 KiB) never wait for a large one; 512 connections x
// 64 KiB = 32 MiB at most.
constexpr size_t kFreeBodyBytes = 64 << 10;
constexpr size_t kReadChunk = 16 << 10;
// After a refusal the rest of the request is read and dropped for up to 1 s / 1 MiB before the
// socket closes: closing with unread bytes makes the kernel send a reset, and the client would
// lose the answer (the 413 or 431) that explains the refusal.
constexpr auto kLingerTime = 1s;
constexpr size_t kLingerBytes = 1 << 20;
constexpr auto kRefusalLogInterval = 10s;
constexpr auto kAcceptRetry = 100ms;  // after EMFILE and the like
// When a handler thread has had no work for kTrimWhenIdleFor after a body at least this large, freed heap pages
// go back to the kernel (malloc_trim): each handler thread's malloc arena otherwise keeps the
// peak its parses reached (a 3 MiB body of empty JSON arrays: ~80 MiB) for good. Not after
// every such request: trimming ~80 MiB of small free chunks takes ~1 s of a loaded core, and
// during a burst of 40 such bodies it made most of them miss their deadline (measured, see
// docs/https.md), so it waits for the burst to end. Reviews of a few KiB never trim.
constexpr size_t kTrimAfterBodyBytes = 1 << 20;
constexpr auto kTrimWhenIdleFor = 1s;

class Connection;

// The server's state; Server::Impl is this (Connection needs the type, and Impl is private).
struct Core {
  Core(const ServerOptions& o, std::vector<Route> routes, CertReloader* c)
      : options(o), router(o, std::move(routes), c), certs(c) {}

  void Accept();
  void OnAccepted(tcp::socket socket);
  // Counts a refusal (the hook, and a log line per reason at most every 10 s).
  void CountRefusal(const std::string& reason, const std::string& detail,
                    const std::string& address);
  // max_buffered_body_bytes: takes n bytes if they fit (or nothing else is held).
  bool TryCharge(size_t n);
  void Uncharge(size_t n);
  void WakeBudgetWaiters();
  // Handler threads.
  struct Job {
    std::shared_ptr<Connection> connection;
    const Route* route;
    Request request;
    Clock::time_point deadline;
  };
  bool Submit(Job job);  // false: the queue is full
  void Work();
  // max_body_bytes_in_handlers: the first queued job whose body fits (or any job when no body
  // is in a handler), so small reviews overtake large ones waiting for room. Under mu.
  std::deque<Job>::iterator NextJobLocked();

  const ServerOptions options;
  const Router router;
  CertReloader* certs;
  std::atomic<bool> stopping{false};

  // I/O thread only.
  size_t open = 0;
  std::unordered_map<std::string, size_t> per_client;
  std::unordered_set<Connection*> connections;
  size_t buffered = 0;
  std::deque<std::weak_ptr<Connection>> budget_waiters;
  struct RefusalLog {
    size_t count = 0;
    Clock::time_point logged{};
    std::string detail, address;
  };
  std::map<std::string, RefusalLog> refusals;

  // Handler threads.
  std::mutex mu;
  std::condition_variable work;
  std::deque<Job> jobs;
  size_t in_handlers = 0;  // body bytes inside handlers
  bool shutdown = false;
  std::vector<std::thread> workers;

  // Asio last: destroying the io_context destroys the handlers it still holds, and with them
  // connections, which use everything above (the TLS context too, so it comes first).
  asio::ssl::context ssl{asio::ssl::context::tls_server};
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
};

bool IsParserError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// One client connection: TLS handshake, then requests one at a time (keep-alive). Lives on
// the I/O thread; a request's handler runs on a handler thread, which hands the response back.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Core* server, tcp::socket socket, std::string address)
      : s_(server),
        stream_(beast::tcp_stream(std::move(socket)), server->ssl),
        address_(std::move(address)),
        buffer_(server->options.max_header_bytes + kReadChunk),
        wait_timer_(server->ioc) {
    s_->connections.insert(this);
  }
  ~Connection() {
    Uncharge();
    s_->connections.erase(this);
    --s_->open;
    auto it = s_->per_client.find(address_);
    if (it != s_->per_client.end() && --it->second == 0) s_->per_client.erase(it);
  }

  void Start() {
    deadline_ = Clock::now() + s_->options.request_timeout;
    Lowest().expires_at(deadline_);
    stream_.async_handshake(
        asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
          if (ec) {
            if (ec == beast::error::timeout || Clock::now() >= self->deadline_)
              self->s_->CountRefusal("deadline", "TLS handshake too slow", self->address_);
            return self->Close();
          }
          self->NewRequest(/*first=*/true);
        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    wait_timer_.cancel();
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
    Uncharge();
  }

  // The budget this connection waits for is free: read the body.
  void Granted() {
    waiting_ = false;
    wait_timer_.cancel();
    charged_ = want_;
    AfterHeader();
  }
  bool closed() const { return closed_; }
  size_t want() const { return want_; }

  // From a handler thread (through the I/O thread's queue).
  void HandlerDone(Response response) {
    Uncharge();
    if (closed_) return;
    Write(response);
  }
  void DeadlinePassedInQueue() {
    Uncharge();
    s_->CountRefusal("deadline", "waited for a handler thread past the deadline", address_);
    Close();
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void NewRequest(bool first) {
    parser_.emplace(s_->options);
    header_checked_ = false;
    if (first) return Read();  // the deadline from accept holds
    if (buffer_.size() > 0) {  // pipelined: this request's bytes are here already
      deadline_ = Clock::now() + s_->options.request_timeout;
      Lowest().expires_at(deadline_);
      return Read();
    }
    // Idle keep-alive: wait for the first bytes up to keep_alive_timeout; the request's own
    // deadline starts with them.
    Lowest().expires_after(s_->options.keep_alive_timeout);
    size_t room = std::min(kReadChunk, buffer_.max_size() - buffer_.size());
    stream_.async_read_some(buffer_.prepare(room),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->deadline_ = Clock::now() + self->s_->options.request_timeout;
                              self->Lowest().expires_at(self->deadline_);
                              self->Read();
                            });
  }

  void Read() {
    http::async_read_some(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      if (IsParserError(ec)) return Refuse(parser_->refusal(ec));
      if (ec == beast::error::timeout || Clock::now() >= deadline_) {
        s_->CountRefusal("deadline", "request not complete within the deadline", address_);
        return Close();
      }
      if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated) {
        return Linger();  // the client is done: answer its close_notify
      }
      return Close();
    }
    if (!header_checked_ && parser_->is_header_done()) {
      header_checked_ = true;
      size_t need = parser_->chunked_body() ? s_->options.max_body_bytes
                                            : size_t(parser_->declared_length().value_or(0));
      if (need > kFreeBodyBytes && !parser_->is_done()) {
        want_ = need;
        if (!s_->TryCharge(need)) return WaitForBudget();
        charged_ = need;
      }
      return AfterHeader();
    }
    if (parser_->is_done()) return Dispatch();
    Read();
  }

  void WaitForBudget() {
    waiting_ = true;
    s_->budget_waiters.push_back(weak_from_this());
    wait_timer_.expires_at(deadline_);
    wait_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->waiting_ || self->closed_) return;
      self->waiting_ = false;
      self->s_->CountRefusal("deadline", "waited for body memory past the deadline",
                             self->address_);
      self->Close();
    });
  }

  void AfterHeader() {
    if (parser_->is_done()) return Dispatch();
    if (!parser_->expects_continue()) return Read();
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(kContinue),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->Read();
                      });
  }

  void Dispatch() {
    keep_alive_ =
        parser_->keep_alive() && ++served_ < s_->options.keep_alive_max_requests && !s_->stopping;
    Request request = parser_->TakeRequest(address_);
    parser_.reset();
    if (Router::IsBuiltin(request)) return Write(s_->router.Builtin(request));
    const Route* route = s_->router.Find(request);
    if (route == nullptr) {
      Uncharge();
      return Write(s_->router.NotFound());
    }
    if (!s_->Submit({shared_from_this(), route, std::move(request), deadline_})) {
      Uncharge();
      s_->CountRefusal("busy", "every handler thread busy and the queue full", address_);
      return Write(s_->router.Error(503, "busy: try again"));
    }
  }

  void Refuse(const Refusal& refusal) {
    s_->CountRefusal(refusal.metric, refusal.reason, address_);
    keep_alive_ = false;
    Write(s_->router.Error(refusal.status, refusal.reason));
  }

  void Write(const Response& response) {
    out_ = s_->router.Serialize(response, keep_alive_);
    Lowest().expires_after(s_->options.write_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->out_.clear();
                        if (ec || self->closed_) return self->Close();
                        if (self->keep_alive_) return self->NewRequest(false);
                        self->Linger();
                      });
  }

  // Ends TLS with a close_notify (clients such as openssl s_client report an error without
  // it), then reads and drops what the client still sends (bounded), so the answer is not
  // lost to a reset; then closes. At most 1 s for each step.
  void Linger() {
    Uncharge();
    parser_.reset();
    Lowest().expires_after(kLingerTime);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Drain(); });
  }
  void Drain() {
    if (closed_) return;
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(kLingerTime);
    DrainSome();
  }
  void DrainSome() {
    Lowest().async_read_some(asio::buffer(drain_),
                             [self = shared_from_this()](beast::error_code ec, size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ >= kLingerBytes) return self->Close();
                               self->DrainSome();
                             });
  }

  void Uncharge() {
    if (charged_ == 0) return;
    size_t n = charged_;
    charged_ = 0;
    s_->Uncharge(n);
  }

  Core* s_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::string address_;
  beast::flat_buffer buffer_;
  asio::steady_timer wait_timer_;
  std::optional<RequestParser> parser_;
  Clock::time_point deadline_;
  bool header_checked_ = false;
  bool keep_alive_ = false;
  bool closed_ = false;
  bool waiting_ = false;
  size_t served_ = 0;
  size_t want_ = 0, charged_ = 0;
  std::string out_;
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

void Core::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open() || stopping) return;
    if (ec) {
      // EMFILE and the like: retry a little later instead of spinning.
      spdlog::warn("{}: accept failed: {}", options.server_name, ec.message());
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) Accept();
      });
      return;
    }
    OnAccepted(std::move(socket));
    Accept();
  });
}

void Core::OnAccepted(tcp::socket socket) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string address = peer.address().to_string();
  if (open >= options.max_connections) {
    CountRefusal("connection_cap",
                 "over " + std::to_string(options.max_connections) + " connections open", address);
    return;  // the socket closes here, before any TLS
  }
  size_t& mine = per_client[address];
  if (mine >= options.max_connections_per_client) {
    CountRefusal("client_cap",
                 "over " + std::to_string(options.max_connections_per_client) +
                     " connections from one address",
                 address);
    return;
  }
  ++mine;
  ++open;
  socket.set_option(tcp::no_delay(true), ec);
  auto connection = std::make_shared<Connection>(this, std::move(socket), address);
  connection->Start();
}

void Core::CountRefusal(const std::string& reason, const std::string& detail,
                        const std::string& address) {
  if (options.on_refusal) options.on_refusal(reason);
  RefusalLog& log = refusals[reason];
  ++log.count;
  log.detail = detail;
  log.address = address;
  auto now = Clock::now();
  if (now - log.logged < kRefusalLogInterval) return;
  spdlog::warn(
      "{}: refused {} request(s) or connection(s) ({}) since the last such line, the "
      "last from {}: {}",
      options.server_name, log.count, reason, address, detail);
  log.count = 0;
  log.logged = now;
}

bool Core::TryCharge(size_t n) {
  if (buffered > 0 && buffered + n > options.max_buffered_body_bytes) return false;
  buffered += n;
  return true;
}

void Core::Uncharge(size_t n) {
  buffered -= std::min(n, buffered);
  if (!stopping) WakeBudgetWaiters();
}

void Core::WakeBudgetWaiters() {
  while (!budget_waiters.empty()) {
    std::shared_ptr<Connection> c = budget_waiters.front().lock();
    if (!c || c->closed()) {
      budget_waiters.pop_front();
      continue;
    }
    if (!TryCharge(c->want())) return;
    budget_waiters.pop_front();
    c->Granted();
  }
}

bool Core::Submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (jobs.size() >= std::max<size_t>(1, options.max_queued_requests)) return false;
    jobs.push_back(std::move(job));
  }
  work.notify_one();
  return true;
}

std::deque<Core::Job>::iterator Core::NextJobLocked() {
  const size_t cap = options.max_body_bytes_in_handlers;
  for (auto it = jobs.begin(); it != jobs.end(); ++it) {
    if (cap == 0 || in_handlers == 0 || in_handlers + it->request.body.size() <= cap) return it;
  }
  return jobs.end();
}

void Core::Work() {
  bool trim_pending = false;
  for (;;) {
    Job job;
    size_t n = 0;
    {
      std::unique_lock<std::mutex> lock(mu);
      auto ready = [this] { return shutdown || NextJobLocked() != jobs.end(); };
      if (trim_pending && !work.wait_for(lock, kTrimWhenIdleFor, ready)) {
        lock.unlock();
        ::malloc_trim(0);
        trim_pending = false;
        continue;
      }
      work.wait(lock, ready);
      if (shutdown) return;
      auto it = NextJobLocked();
      job = std::move(*it);
      jobs.erase(it);
      n = job.request.body.size();
      in_handlers += n;
    }
    std::shared_ptr<Connection> c = std::move(job.connection);
    Response response;
    bool late = Clock::now() > job.deadline;
    if (!late) response = router.Run(*job.route, job.request);
    job.request = Request();  // the body goes before its bytes are given back
    if (n >= kTrimAfterBodyBytes) trim_pending = true;
    {
      std::lock_guard<std::mutex> lock(mu);
      in_handlers -= n;
    }
    work.notify_all();
    if (late) {
      asio::post(ioc, [c = std::move(c)] { c->DeadlinePassedInQueue(); });
      continue;
    }
    asio::post(ioc, [c = std::move(c), response = std::move(response)]() mutable {
      c->HandlerDone(std::move(response));
    });
  }
}

}  // namespace

struct Server::Impl : Core {
  using Core::Core;
};

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

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& o, std::vector<Route> routes,
                                              CertReloader* certs) {
  CONFCOM_RETURN_IF_ERROR(internal::CheckRoutes(routes));
  std::unique_ptr<Server> self(new Server());
  self->impl_ = std::make_unique<Impl>(o, std::move(routes), certs);
  Impl& s = *self->impl_;
  SSL_CTX* ctx = s.ssl.native_handle();
  if (ctx == nullptr) return Status::Internal("cannot create the TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // OpenSSL's record buffers (~34 KiB) are freed while a connection is idle.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  certs->Install(ctx);

  const std::string where = o.host + ":" + std::to_string(o.port);
  beast::error_code ec;
  tcp::resolver resolver(s.ioc);
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    return Status::Unavailable("cannot bind " + where + ": " + ec.message());
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  // No SO_REUSEPORT: no other process may share the port.
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  // SOMAXCONN: a burst of new connections (API server replicas opening their pools) sees no
  // dropped SYNs and 1 s retransmits.
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot bind " + where +
                               " (in use, or not an address of this host?): " + ec.message());
  }
  self->port_ = s.acceptor.local_endpoint().port();
  return self;
}

void Server::Run() {
  Impl& s = *impl_;
  s.guard.emplace(s.ioc.get_executor());
  for (size_t i = 0; i < std::max<size_t>(1, s.options.handler_threads); ++i)
    s.workers.emplace_back([&s] { s.Work(); });
  if (!s.stopping) s.Accept();
  s.ioc.run();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shutdown = true;
  }
  s.work.notify_all();
  for (auto& t : s.workers) t.join();
  s.workers.clear();
  s.jobs.clear();
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  asio::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
    s.accept_retry.cancel();
    std::vector<Connection*> all(s.connections.begin(), s.connections.end());
    for (Connection* c : all) c->Close();
    s.budget_waiters.clear();
    s.guard.reset();
  });
}

}  // namespace confcom::https
