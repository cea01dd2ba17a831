#include "helper/quote_helper_daemon.h"

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

#include "helper/aesm_service.h"
#include "helper/metrics.h"
#include "helper/request_handler.h"

namespace confcom::helper {
namespace {

using Clock = std::chrono::steady_clock;

// ListenSocket as the Handover sees it.
class ListenSocketPath : public SocketPath {
 public:
  explicit ListenSocketPath(ListenSocket* socket) : socket_(socket) {}
  bool has_predecessor() const override { return socket_->has_predecessor(); }
  Status Publish() override { return socket_->Publish(); }
  Status WaitForPredecessor(std::chrono::milliseconds timeout) override {
    return socket_->WaitForPredecessor(timeout);
  }
  bool TryFinishTakeOver() override { return socket_->TryFinishTakeOver(); }
  bool OwnsPath() const override { return socket_->OwnsPath(); }
  bool Restore() override { return socket_->Restore(); }
  void Close() override { socket_->Close(); }

 private:
  ListenSocket* socket_;
};

// FrameServer as the Handover sees it.
class FrameServerDrain : public DrainingServer {
 public:
  explicit FrameServerDrain(FrameServer* server) : server_(server) {}
  void HandOver() override { server_->HandOver(); }
  void Shutdown() override { server_->Shutdown(); }

 private:
  FrameServer* server_;
};

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
        Clock::time_point started_at, ListenSocket socket)
      : config(std::move(config)),
        backend(std::move(backend)),
        service(this->backend.get()),
        started_at(started_at),
        socket(std::move(socket)),
        handler(&service, nullptr),
        server(this->socket.fd(), this->config.server,
               [this](std::string_view request, const RequestContext& context) {
                 return handler(request, context);
               }),
        path(&this->socket),
        drain(&server),
        handover(this->config.handover, &path, &drain, AesmAnswers(), FaultHookFromEnvironment()) {}

  QuoteHelperConfig config;
  std::unique_ptr<quoting::QuotingBackend> backend;
  AesmService service;
  Clock::time_point started_at;  // before the socket was opened: the hand-over's start
  ListenSocket socket;
  std::unique_ptr<QuoteHelperMetrics> metrics;
  RequestHandler handler;
  FrameServer server;
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
                                   config.handover.handover_timeout);
  if (!socket.ok()) {
    return Status(socket.status().code(),
                  "cannot serve on " + config.socket + ": " + socket.status().ToString());
  }
  config.handover.path = config.socket;
  return std::unique_ptr<QuoteHelperDaemon>(new QuoteHelperDaemon(std::make_unique<Parts>(
      std::move(config), std::move(backend).value(), started_at, std::move(socket).value())));
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
  std::thread serving([&] {
    served = p.server.Run();
    p.handover.ServerEnded();
  });
  if (Status st = p.handover.TakePath(); !st.ok()) {
    spdlog::error("cannot take over {}: {}", p.config.socket, st.ToString());
    p.server.Shutdown();
    serving.join();
    return st;
  }
  spdlog::info(
      "sgx-quote-helper {} serving on {} (mode {:04o}, backend {}, {} thread(s), {} connection(s), "
      "{} per client, {} MiB for requests and replies{})",
      CONFCOM_VERSION, p.config.socket, unsigned(p.config.socket_mode), p.backend->name(),
      o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency())),
      o.max_connections, o.max_connections_per_client, o.max_buffered_bytes >> 20,
      p.handover.took_over() ? fmt::format("; hand-over took {} ms",
                                           std::chrono::duration_cast<std::chrono::milliseconds>(
                                               Clock::now() - p.started_at)
                                               .count())
                             : std::string());
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
  return served;
}

}  // namespace confcom::helper
