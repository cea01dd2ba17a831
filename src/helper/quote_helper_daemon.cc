#include "helper/quote_helper_daemon.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/file_util.h"
#include "helper/aesm_service.h"
#include "helper/metrics.h"
#include "helper/request_handler.h"

namespace confcom::helper {
namespace {

using Clock = std::chrono::steady_clock;

// The socket and the admin socket (null: none) as the Handover sees them: one path. The
// socket decides who owns it; the admin socket follows (published after it, so a successor
// that dies between the two renames leaves the old helper's admin socket in place).
class ListenSocketPath : public SocketPath {
 public:
  ListenSocketPath(ListenSocket* socket, ListenSocket* admin) : socket_(socket), admin_(admin) {}
  bool has_predecessor() const override {
    return socket_->has_predecessor() || (admin_ != nullptr && admin_->has_predecessor());
  }
  Status Publish() override {
    CONFCOM_RETURN_IF_ERROR(socket_->Publish());
    return admin_ != nullptr ? admin_->Publish() : Status::Ok();
  }
  Status WaitForPredecessor(std::chrono::milliseconds timeout) override {
    auto deadline = Clock::now() + timeout;
    CONFCOM_RETURN_IF_ERROR(socket_->WaitForPredecessor(timeout));
    if (admin_ == nullptr) return Status::Ok();
    // The predecessor closes both sockets together: the admin lock is free by now, or soon.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return admin_->WaitForPredecessor(std::max(left, std::chrono::milliseconds(1000)));
  }
  bool TryFinishTakeOver() override {
    bool socket_done = socket_->TryFinishTakeOver();
    bool admin_done = admin_ == nullptr || admin_->TryFinishTakeOver();
    return socket_done && admin_done;
  }
  bool OwnsPath() const override { return socket_->OwnsPath(); }
  bool Restore() override {
    bool restored = socket_->Restore();
    if (admin_ != nullptr) admin_->Restore();  // true as well when the successor never got it
    return restored;
  }
  void Close() override {
    if (admin_ != nullptr) admin_->Close();
    socket_->Close();  // last: its lock tells a successor we are done
  }

 private:
  ListenSocket* socket_;
  ListenSocket* admin_;
};

// The socket's and the admin socket's FrameServers (null: none) as the Handover sees them.
class FrameServerDrain : public DrainingServer {
 public:
  FrameServerDrain(FrameServer* server, FrameServer* admin) : server_(server), admin_(admin) {}
  void HandOver() override {
    server_->HandOver();
    if (admin_ != nullptr) admin_->HandOver();
  }
  void Shutdown() override {
    server_->Shutdown();
    if (admin_ != nullptr) admin_->Shutdown();
  }

 private:
  FrameServer* server_;
  FrameServer* admin_;
};

FrameServer::Handler HandlerOf(RequestHandler* handler) {
  return [handler](std::string_view request, const RequestContext& context) {
    return (*handler)(request, context);
  };
}

}  // namespace

void RaiseFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// Members in construction order; destroyed in reverse.
class QuoteHelperDaemon::Parts {
 public:
  Parts(QuoteHelperConfig config, std::unique_ptr<quoting::QuotingBackend> backend,
        Clock::time_point started_at, ListenSocket socket, std::optional<ListenSocket> admin)
      : config(std::move(config)),
        backend(std::move(backend)),
        service(this->backend.get()),
        started_at(started_at),
        socket(std::move(socket)),
        admin_socket(std::move(admin)),
        handler(&service, nullptr),
        server(this->socket.fd(), this->config.server, HandlerOf(&handler)),
        admin_server(admin_socket
                         ? std::make_unique<FrameServer>(
                               admin_socket->fd(), this->config.admin_server, HandlerOf(&handler))
                         : nullptr),
        path(&this->socket, admin_socket ? &*admin_socket : nullptr),
        drain(&server, admin_server.get()),
        handover(this->config.handover, &path, &drain, AesmAnswers(), FaultHookFromEnvironment()) {}

  QuoteHelperConfig config;
  std::unique_ptr<quoting::QuotingBackend> backend;
  AesmService service;
  Clock::time_point started_at;  // before the socket was opened: the hand-over's start
  ListenSocket socket;
  std::optional<ListenSocket> admin_socket;
  std::unique_ptr<QuoteHelperMetrics> metrics;
  RequestHandler handler;
  FrameServer server;
  std::unique_ptr<FrameServer> admin_server;  // null without an admin socket
  ListenSocketPath path;
  FrameServerDrain drain;
  Handover handover;
};

Result<std::unique_ptr<QuoteHelperDaemon>> QuoteHelperDaemon::Open(QuoteHelperConfig config) {
  auto backend = quoting::MakeBackend(config.backend, config.backend_config);
  if (!backend.ok()) {
    return Status(backend.status().code(), "cannot start the " + config.backend +
                                               " backend: " + backend.status().ToString());
  }
  const auto started_at = Clock::now();
  auto socket = ListenSocket::Open(config.socket, config.socket_mode, 128, config.takeover,
                                   config.handover.handover_timeout, config.lock_dir);
  if (!socket.ok()) {
    return Status(socket.status().code(),
                  "cannot serve on " + config.socket + ": " + socket.status().ToString());
  }
  std::optional<ListenSocket> admin;
  if (!config.admin_socket.empty()) {
    // Probes only: the helper's uid alone may connect, in a folder tenants cannot see into.
    std::string folder = std::filesystem::path(config.admin_socket).parent_path().string();
    Status st = folder.empty() ? Status::Ok() : EnsurePrivateDir(folder);
    auto opened = st.ok() ? ListenSocket::Open(config.admin_socket, 0600, 16, config.takeover,
                                               config.handover.handover_timeout, config.lock_dir)
                          : Result<ListenSocket>(st);
    if (!opened.ok()) {
      return Status(opened.status().code(),
                    "cannot serve on " + config.admin_socket + ": " + opened.status().ToString());
    }
    admin.emplace(std::move(opened).value());
  }
  config.handover.path = config.socket;
  return std::unique_ptr<QuoteHelperDaemon>(new QuoteHelperDaemon(
      std::make_unique<Parts>(std::move(config), std::move(backend).value(), started_at,
                              std::move(socket).value(), std::move(admin))));
}

QuoteHelperDaemon::QuoteHelperDaemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
QuoteHelperDaemon::~QuoteHelperDaemon() = default;

std::shared_ptr<prometheus::Collectable> QuoteHelperDaemon::ExportMetrics(
    prometheus::Registry& registry) {
  Parts& p = *parts_;
  p.metrics =
      std::make_unique<QuoteHelperMetrics>(registry, p.backend->name(), p.backend->simulated());
  p.handler = RequestHandler(&p.service, p.metrics.get());
  return QuoteHelperMetrics::ConnectionCollector(p.server.stats());
}

void QuoteHelperDaemon::Stop() { parts_->handover.Stop(); }

Status QuoteHelperDaemon::Run(const std::function<void()>& before_release) {
  Parts& p = *parts_;
  const FrameServerOptions& o = p.config.server;
  Status served;
  // The server runs before the path is ours, so that a predecessor that checks who answers
  // there after the rename reaches us.
  // Both servers end together (the Handover drains both); one that fails to start stops the other.
  Status admin_served;
  std::thread admin_serving;
  if (p.admin_server) {
    admin_serving = std::thread([&] {
      admin_served = p.admin_server->Run();
      if (!admin_served.ok()) p.server.Shutdown();
    });
  }
  std::thread serving([&] {
    served = p.server.Run();
    if (p.admin_server) {
      if (!served.ok()) p.admin_server->Shutdown();
      admin_serving.join();
    }
    p.handover.ServerEnded();
  });
  if (Status st = p.handover.TakePath(); !st.ok()) {
    spdlog::error("cannot take over {}: {}", p.config.socket, st.ToString());
    p.drain.Shutdown();
    serving.join();
    return st;
  }
  spdlog::info(
      "sgx-quote-helper {} serving on {} (mode {:04o}, backend {}, {} thread(s), {} connection(s), "
      "{} per client, {} MiB for requests and replies{}){}",
      CONFCOM_VERSION, p.config.socket, unsigned(p.config.socket_mode), p.backend->name(),
      o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency())),
      o.max_connections, o.max_connections_per_client, o.max_buffered_bytes >> 20,
      p.handover.took_over() ? fmt::format("; hand-over took {} ms",
                                           std::chrono::duration_cast<std::chrono::milliseconds>(
                                               Clock::now() - p.started_at)
                                               .count())
                             : std::string(),
      p.admin_server ? "; probes on " + p.config.admin_socket : std::string());
  p.handover.MarkReady();
  p.handover.Watch();
  p.handover.WaitForServerEnd();
  serving.join();
  before_release();
  p.handover.Release();
  p.handover.WaitForStopIfAsked();

  const auto& s = p.server.stats();
  spdlog::info(
      "stopped: {} connection(s) accepted, {} answered, {} refused, {} timed out, "
      "{} bad frame(s), {} closed unanswered, {} over a client's share, {} over the memory budget, "
      "{} internal error(s) in the handler",
      s.accepted.load(), s.answered.load(), s.refused.load(), s.timed_out.load(),
      s.bad_frames.load(), s.closed_unanswered.load(), s.over_share.load(), s.over_budget.load(),
      s.handler_failed.load());
  if (!served.ok()) spdlog::error("server failed: {}", served.ToString());
  if (!admin_served.ok()) spdlog::error("admin server failed: {}", admin_served.ToString());
  return served.ok() ? admin_served : served;
}

}  // namespace confcom::helper
