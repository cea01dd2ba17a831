// sgx-quote-helper: the per-node out-of-proc quoting service (an AESM-compatible server for
// Intel's libsgx_quote_ex clients) on /var/run/aesmd/aesm.socket.
#include <signal.h>
#include <sys/resource.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

#include "aesm/client.h"
#include "aesm/protobuf_log.h"
#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/signals.h"
#include "helper/aesm_service.h"
#include "helper/frame_server.h"
#include "helper/listen_socket.h"
#include "helper/metrics.h"
#include "helper/request_handler.h"
#include "common/metrics_server.h"
#include "quoting/backend_factory.h"

namespace confcom {
namespace {

// The largest request Intel's client sends is a GetQuoteEx with qe_report_info (~1.7 KiB) or
// a SelectAttKeyID list of its maximum of 10 key ids (~2.6 KiB): 8 KiB bounds every real
// request, and 4096 connections of 8 KiB plus a 64 KiB reply per loop fit the 64 MiB budget
// (FrameServer's CheckMemoryBudget; up to 256 threads).
constexpr uint32_t kMaxRequestFrameSize = 8 * 1024;

struct Flags {
  std::string socket = aesm::kDefaultSocketPath;
  std::string socket_mode = "0666";
  std::string backend = "auto";
  std::string dcap_library;
  std::string host_root = "/";
  size_t max_waiting_quotes = 64;
  std::string state_dir = "/var/lib/sgx-quote-helper";
  std::string sim_pck_ca;  // empty: the existing platform's, Platform for a new one
  std::string log_format = "text";
  std::string log_level = "info";
  int threads = 0;
  int io_timeout_ms = 10000;
  size_t max_connections = 4096;
  size_t max_connections_per_client = 256;
  int refusal_timeout_ms = 1000;
  size_t max_buffered_mib = 64;
  uint32_t max_frame_size = kMaxRequestFrameSize;
  std::string metrics_address = "127.0.0.1:9464";
  bool no_takeover = false;
  std::string after_handover = "exit";
  std::string ready_file;
  int handover_timeout_ms = 60000;
};

// Test-only fault injection (docs/helper-handover.md): CONFCOM_HELPER_TEST_FAULT=<step> makes a
// helper that takes over from a live one kill itself with SIGKILL at that step, as a crash
// would: "before-rename" (its socket is bound beside the path), "after-rename" (the path is
// its socket; the predecessor has not stopped yet).
void MaybeInjectFault(const char* step) {
  const char* fault = std::getenv("CONFCOM_HELPER_TEST_FAULT");
  if (fault != nullptr && std::string(fault) == step) {
    spdlog::warn("CONFCOM_HELPER_TEST_FAULT={}: killing myself (a test of the hand-over)", step);
    spdlog::default_logger()->flush();
    ::kill(::getpid(), SIGKILL);
  }
}

// Whether a quote helper answers an AESM request on `path` (any reply counts: it is alive).
bool Answers(const std::string& path) {
  aesm::ClientOptions options;
  options.socket_path = path;
  options.timeout = std::chrono::milliseconds(2000);
  aesm::message::Request request;
  request.mutable_getsupportedattkeyidnumreq();
  return aesm::Call(options, request).ok();
}

class ReadyFile {
 public:
  explicit ReadyFile(std::string path) : path_(std::move(path)) {}
  ~ReadyFile() { Remove(); }
  void Write() {
    if (path_.empty()) return;
    if (Status st = WriteFileAtomic(path_, std::to_string(::getpid()) + "\n", 0644); !st.ok()) {
      spdlog::error("cannot write the readiness file: {}", st.ToString());
    }
  }
  void Remove() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  std::string path_;
};

void RaiseFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Result<mode_t> ParseSocketMode(const std::string& text) {
  size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(text, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || mode > 0777) {
    return Status::InvalidArgument("--socket-mode '" + text + "' is not an octal permission like 0666");
  }
  if ((mode & 0600) != 0600) {
    return Status::InvalidArgument("--socket-mode " + text +
                                   " would lock out even the socket's owner: clients need read and "
                                   "write permission (0600 at least, 0666 for every pod)");
  }
  return mode_t(mode);
}

int Serve(const Flags& f) {
  if (Status st = SetupLogging(f.log_format, f.log_level, "sgx-quote-helper"); !st.ok()) {
    std::fprintf(stderr, "sgx-quote-helper: %s\n", st.message().c_str());
    return 2;
  }
  aesm::RouteProtobufLogs();
  auto mode = ParseSocketMode(f.socket_mode);
  if (!mode.ok()) {
    spdlog::error("{}", mode.status().message());
    return 2;
  }
  if (Status st = helper::CheckSocketPath(f.socket); !st.ok()) {
    spdlog::error("--socket: {}", st.message());
    return 2;
  }
  if (f.metrics_address != "off") {
    if (Status st = CheckMetricsAddress(f.metrics_address); !st.ok()) {
      spdlog::error("{}", st.message());
      return 2;
    }
  }

  // Signals are handled by one thread with sigwait; block them everywhere else first.
  sigset_t signals = BlockTerminationSignals();
  RaiseFileLimit();

  quoting::BackendConfig config;
  config.state_dir = f.state_dir;
  config.sim_pck_ca = f.sim_pck_ca;
  config.dcap_library = f.dcap_library;
  config.host_root = f.host_root;
  config.max_waiting_quotes = f.max_waiting_quotes;
  auto backend = quoting::MakeBackend(f.backend, config);
  if (!backend.ok()) {
    spdlog::error("cannot start the {} backend: {}", f.backend, backend.status().ToString());
    return 1;
  }
  helper::AesmService service(backend->get());

  const auto started_at = std::chrono::steady_clock::now();
  auto listener = helper::ListenSocket::Open(f.socket, *mode, 128,
                                             f.no_takeover ? helper::Takeover::kRefuse : helper::Takeover::kTakeOver,
                                             std::chrono::milliseconds(f.handover_timeout_ms));
  if (!listener.ok()) {
    spdlog::error("cannot serve on {}: {}", f.socket, listener.status().ToString());
    return 1;
  }

  helper::FrameServerOptions options;
  options.threads = f.threads;
  options.io_timeout = std::chrono::milliseconds(f.io_timeout_ms);
  options.max_connections = f.max_connections;
  options.max_connections_per_client = f.max_connections_per_client;
  options.max_frame_size = f.max_frame_size;
  options.max_reply_size = helper::kMaxReplySize;
  options.max_buffered_bytes = f.max_buffered_mib << 20;
  options.refusal_timeout = std::chrono::milliseconds(f.refusal_timeout_ms);
  if (Status st = helper::CheckMemoryBudget(options); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  auto started = MetricsServer::StartFromFlag(f.metrics_address);
  if (!started.ok()) {
    spdlog::error("{}", started.status().message());
    return 1;
  }
  std::unique_ptr<MetricsServer> metrics_server = std::move(started).value();
  std::unique_ptr<helper::QuoteHelperMetrics> metrics;
  if (metrics_server) {
    metrics = std::make_unique<helper::QuoteHelperMetrics>(metrics_server->registry(), (*backend)->name(),
                                                           (*backend)->simulated());
  }
  helper::RequestHandler handler(&service, metrics.get());
  helper::FrameServer server(listener->fd(), options, handler);
  if (metrics_server) metrics_server->Add(helper::QuoteHelperMetrics::ConnectionCollector(server.stats()));

  ReadyFile ready(f.ready_file);
  ready.Remove();
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;     // a termination signal came
  bool served = false;       // server.Run() returned
  bool handed_over = false;  // a successor owns the path
  Status st;
  {
    StopOnSignal stop(signals, [&](int sig) {
      spdlog::info("received {}: finishing requests in flight, then exiting", SignalName(sig));
      server.Shutdown();
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      wake.notify_all();
    });
    std::thread serving([&] {
      Status result = server.Run();
      std::lock_guard<std::mutex> lock(mu);
      st = result;
      served = true;
      wake.notify_all();
    });
    // The server runs before the path is ours, so that a predecessor that checks who answers
    // there after the rename reaches us.
    bool took_over = listener->has_predecessor();
    if (took_over) MaybeInjectFault("before-rename");
    if (Status pst = listener->Publish(); !pst.ok()) {
      spdlog::error("cannot take over {}: {}", f.socket, pst.ToString());
      server.Shutdown();
      serving.join();
      return 1;
    }
    if (took_over) {
      MaybeInjectFault("after-rename");
      spdlog::info("took over {} from the running helper; waiting for it to finish its requests", f.socket);
      Status wst = listener->WaitForPredecessor(std::chrono::milliseconds(f.handover_timeout_ms));
      if (!wst.ok()) spdlog::warn("{}; serving anyway", wst.message());
    }
    spdlog::info("sgx-quote-helper {} serving on {} (mode {:04o}, backend {}, {} thread(s), {} connection(s), "
                 "{} per client, {} MiB for requests and replies{})",
                 CONFCOM_VERSION, f.socket, unsigned(*mode), (*backend)->name(),
                 f.threads > 0 ? f.threads : int(std::max(1u, std::thread::hardware_concurrency())),
                 f.max_connections, f.max_connections_per_client, f.max_buffered_mib,
                 took_over ? fmt::format("; hand-over took {} ms",
                                         std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - started_at)
                                             .count())
                           : std::string());
    ready.Write();

    // Watch the path: a successor renames its socket over it. Hand over only once it has
    // answered there twice, kConfirmGap apart (a successor that dies right after its rename is
    // not trusted with the path); if nothing answers and no successor holds the hand-over lock,
    // it died: put our socket back (ListenSocket::Restore).
    constexpr auto kWatchInterval = std::chrono::milliseconds(5);
    constexpr auto kConfirmGap = std::chrono::milliseconds(100);
    std::unique_lock<std::mutex> lock(mu);
    bool warned = false;
    std::chrono::steady_clock::time_point first_answer{};  // epoch: no answer yet
    while (!stopping && !served && !handed_over) {
      wake.wait_for(lock, kWatchInterval);
      if (stopping || served) continue;
      // After a hand-over time-out: take "<path>.lock" once the hung predecessor is gone, or the
      // next helper would find the path served without a lock holder and refuse to start.
      if (took_over && listener->has_predecessor() && listener->TryFinishTakeOver()) {
        spdlog::info("the previous helper has exited; {}.lock is ours now", f.socket);
      }
      if (listener->OwnsPath()) {
        first_answer = {};
        continue;
      }
      lock.unlock();
      auto now = std::chrono::steady_clock::now();
      if (Answers(f.socket)) {
        if (first_answer == std::chrono::steady_clock::time_point{}) {
          first_answer = now;
        } else if (now - first_answer >= kConfirmGap) {
          spdlog::info("a new helper took over {}: serving the connections already queued, then {}", f.socket,
                       f.after_handover == "exit" ? "exiting" : "waiting for a termination signal");
          ready.Remove();
          server.HandOver();
          lock.lock();
          handed_over = true;
          break;
        }
      } else {
        first_answer = {};
        if (listener->Restore()) {
          spdlog::warn("the helper that took over {} is gone: serving it again", f.socket);
          warned = false;
        } else if (!warned) {
          spdlog::warn("{} no longer names our socket and nothing answers there yet; waiting", f.socket);
          warned = true;
        }
      }
      lock.lock();
    }
    wake.wait(lock, [&] { return served; });
    lock.unlock();
    serving.join();
    // The metrics server reads server.stats() at scrape time: stop it while `server` lives.
    metrics_server.reset();
    listener->Close();  // releases <path>.lock: the successor now knows we are done
    if (handed_over) {
      spdlog::info("handed {} over to the new helper", f.socket);
      if (f.after_handover == "wait") {
        // Under a supervisor that restarts exited processes (kubelet, systemd), exiting would
        // start a helper that takes the path back: wait to be stopped instead.
        lock.lock();
        wake.wait(lock, [&] { return stopping; });
      }
    }
  }
  const auto& s = server.stats();
  spdlog::info("stopped: {} connection(s) accepted, {} answered, {} refused, {} timed out, "
               "{} bad frame(s), {} closed unanswered, {} over a client's share, {} over the memory budget, "
               "{} internal error(s) in the handler",
               s.accepted.load(), s.answered.load(), s.refused.load(), s.timed_out.load(),
               s.bad_frames.load(), s.closed_unanswered.load(), s.over_share.load(), s.over_budget.load(),
               s.handler_failed.load());
  if (!st.ok()) {
    spdlog::error("server failed: {}", st.ToString());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace confcom

int main(int argc, char** argv) {
  using namespace confcom;
  Flags f;
  CLI::App app{
      "sgx-quote-helper: out-of-proc SGX quote generation for a Kubernetes node.\n"
      "Serves Intel's AESM protocol (ECDSA quote_ex API) so that apps with SGX_AESM_ADDR=1\n"
      "and Intel's libsgx_quote_ex get their DCAP quotes from this service.",
      "sgx-quote-helper"};
  AddVersionFlag(app, "sgx-quote-helper");
  app.add_option("--backend", f.backend,
                 "Quoting backend: " + quoting::DescribeBackendChoices() + ". Never simulates unless asked for.")
      ->check(CLI::IsMember(quoting::BackendNames()))
      ->capture_default_str();
  app.add_option("--dcap-library", f.dcap_library,
                 "Path of DCAP's quote library (default: search the library folders for "
                 "libsgx_dcap_ql.so.1)");
  app.add_option("--host-root", f.host_root,
                 "Prefix for device and library paths when probing the platform (for tests)")
      ->capture_default_str();
  app.add_option("--max-waiting-quotes", f.max_waiting_quotes,
                 "dcap: requests allowed to wait for the quoting enclave; more get BUSY")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--socket", f.socket, "UNIX socket to serve on")->capture_default_str();
  app.add_option("--socket-mode", f.socket_mode, "Permissions of the socket file (octal)")
      ->capture_default_str();
  app.add_option("--state-dir", f.state_dir,
                 "Directory for the platform's keys and certificates (created 0700)")
      ->capture_default_str();
  app.add_option("--sim-pck-ca", f.sim_pck_ca,
                 "sim: which PCK CA issues a new platform's PCK certificates, 'platform' (default) or "
                 "'processor'; an existing platform of the other kind is refused")
      ->check(CLI::IsMember({"platform", "processor"}));
  AddLoggingFlags(app, &f.log_format, &f.log_level);
  app.add_option("--threads", f.threads, "Event-loop threads (0 = one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--io-timeout-ms", f.io_timeout_ms,
                 "Per-connection deadline to send a request or read the reply")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--max-connections", f.max_connections,
                 "Open connections beyond this are closed at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-connections-per-client", f.max_connections_per_client,
                 "Connections one client (uid, from the socket's peer credentials) may hold; its "
                 "requests beyond them are answered BUSY and further connections closed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--refusal-timeout-ms", f.refusal_timeout_ms,
                 "Deadline of a connection beyond a client's share (it may only get BUSY); capped by "
                 "--io-timeout-ms")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--max-buffered-mib", f.max_buffered_mib,
                 "MiB all connections together may hold for requests and replies; beyond it new "
                 "requests are answered BUSY or closed. Must hold --max-connections requests of "
                 "--max-frame-size plus a 64 KiB reply per thread")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-frame-size", f.max_frame_size,
                 "Largest request accepted, in bytes; larger ones are rejected unread")
      ->check(CLI::Range(1024, 16 << 20))
      ->capture_default_str();
  AddMetricsFlag(app, &f.metrics_address);
  app.add_flag("--no-takeover", f.no_takeover,
               "Refuse to start while another helper serves --socket, instead of taking the path over from "
               "it without a gap (docs/helper-handover.md)");
  app.add_option("--after-handover", f.after_handover,
                 "What a helper does once a successor took its socket over and it has finished its "
                 "requests: 'exit', or 'wait' until SIGTERM (under a supervisor that restarts exited "
                 "processes, e.g. in a Kubernetes pod)")
      ->check(CLI::IsMember({"exit", "wait"}))
      ->capture_default_str();
  app.add_option("--ready-file", f.ready_file,
                 "File written while this helper owns --socket and its predecessor is gone, removed "
                 "when it hands over or stops (for readiness probes; 'sgxctl ping --ready-file')");
  app.add_option("--handover-timeout-ms", f.handover_timeout_ms,
                 "How long a new helper waits for the one it takes over from to finish its requests")
      ->check(CLI::Range(1000, 600000))
      ->capture_default_str();
  RequireNonEmptyValues(app);
  if (int code = confcom::ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Serve(f);
}
