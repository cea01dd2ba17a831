// sgx-quote-helper: the per-node out-of-proc quoting service (an AESM-compatible server for
// Intel's libsgx_quote_ex clients) on /var/run/aesmd/aesm.socket.
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <memory>
#include <spdlog/spdlog.h>
#include <thread>

#include "aesm/client.h"
#include "common/bytes.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "helper/aesm_service.h"
#include "helper/frame_server.h"
#include "helper/listen_socket.h"
#include "helper/metrics.h"
#include "common/metrics_server.h"
#include "quoting/dcap_backend.h"
#include "quoting/platform_probe.h"
#include "quoting/sim_backend.h"

namespace confcom {
namespace {

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
  uint32_t max_frame_size = aesm::kDefaultMaxFrameSize;
  std::string metrics_address = "127.0.0.1:9464";
};

Result<std::unique_ptr<quoting::QuotingBackend>> MakeSimBackend(const Flags& f) {
  spdlog::warn("==================================================================");
  spdlog::warn("SIMULATED SGX PLATFORM (--backend sim): quotes from this service");
  spdlog::warn("come from a simulated platform with its own PKI. They prove NOTHING");
  spdlog::warn("about any enclave; use for development and testing only.");
  spdlog::warn("==================================================================");
  bool created = false;
  std::optional<pki::PckCa> pck_ca;
  if (!f.sim_pck_ca.empty()) {
    auto ca = pki::ParsePckCa(f.sim_pck_ca);
    if (!ca.ok()) return ca.status().WithContext("--sim-pck-ca");
    pck_ca = *ca;
  }
  auto platform = sim::SimPlatform::LoadOrCreate(f.state_dir, &created, pck_ca);
  if (!platform.ok()) return platform.status();
  spdlog::info("simulated platform {} in {} (FMSPC {}, QE-ID {}, PCK certificates from the {} CA)",
               created ? "created" : "loaded", f.state_dir, ToHex(platform->info().fmspc),
               ToHex(platform->info().qe_id), pki::PckCaName(platform->info().pck_ca));
  auto backend = quoting::SimBackend::Create(std::move(platform).value());
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<quoting::QuotingBackend>(std::move(backend).value());
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out;
}

// The hardware path: every start-up check says precisely what is missing.
Result<std::unique_ptr<quoting::QuotingBackend>> MakeDcapBackend(const Flags& f,
                                                                 const quoting::SgxPlatformProbe& probe) {
  if (auto missing = probe.MissingForDcap(); !missing.empty()) {
    return Status::NotFound("cannot quote on SGX hardware: " + Join(missing));
  }
  CONFCOM_RETURN_IF_ERROR(quoting::CheckDeviceOpenable(probe.HostPath(probe.enclave_device), "SGX enclave device"));
  if (probe.provision_device.empty()) {
    return Status::NotFound(
        "no SGX provisioning device (/dev/sgx_provision): the quote helper needs provisioning access to "
        "certify its attestation key; give its container that device (workloads never need it)");
  }
  CONFCOM_RETURN_IF_ERROR(
      quoting::CheckDeviceOpenable(probe.HostPath(probe.provision_device), "SGX provisioning device"));
  if (probe.quote_provider.empty()) {
    return Status::NotFound(
        "no quote provider library (libdcap_quoteprov.so.1 from Intel's libsgx-dcap-default-qpl, or "
        "libdcap_quoteprov.so from Azure's az-dcap-client): quotes would carry no PCK certificate chain");
  }
  spdlog::info("quote provider: {} ({}); QCNL config: {}", probe.quote_provider, probe.quote_provider_kind,
               probe.qcnl_config.empty() ? "none (the QPL's built-in defaults apply)" : probe.qcnl_config);
  quoting::DcapOptions options;
  options.library_path = probe.HostPath(probe.dcap_library);
  options.max_waiting = f.max_waiting_quotes;
  auto backend = quoting::DcapBackend::Create(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<quoting::QuotingBackend>(std::move(backend).value());
}

Result<std::unique_ptr<quoting::QuotingBackend>> MakeBackend(const Flags& f) {
  if (f.backend == "sim") return MakeSimBackend(f);
  auto probe = quoting::ProbeSgxPlatform(f.host_root, f.dcap_library);
  spdlog::info("SGX platform: {}", probe.Describe());
  if (f.backend == "auto") {
    if (auto missing = probe.MissingForDcap(); !missing.empty()) {
      return Status::NotFound("--backend auto found no SGX quoting on this node: " + Join(missing) +
                              ". On a machine without SGX, run with --backend sim (a SIMULATED platform, "
                              "no security); nothing is ever simulated unless asked for");
    }
    spdlog::info("--backend auto: using DCAP on SGX hardware");
  }
  return MakeDcapBackend(f, probe);
}

void RaiseFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int Serve(const Flags& f) {
  if (Status st = SetupLogging(f.log_format, f.log_level, "sgx-quote-helper"); !st.ok()) {
    std::fprintf(stderr, "sgx-quote-helper: %s\n", st.message().c_str());
    return 2;
  }
  mode_t mode = 0;
  try {
    size_t used = 0;
    mode = mode_t(std::stoul(f.socket_mode, &used, 8));
    if (used != f.socket_mode.size() || mode > 0777) throw std::invalid_argument("mode");
  } catch (const std::exception&) {
    spdlog::error("--socket-mode '{}' is not an octal permission like 0666", f.socket_mode);
    return 2;
  }

  // Signals are handled by one thread with sigwait; block them everywhere else first.
  sigset_t signals = BlockTerminationSignals();
  RaiseFileLimit();

  auto backend = MakeBackend(f);
  if (!backend.ok()) {
    spdlog::error("cannot start the {} backend: {}", f.backend, backend.status().ToString());
    return 1;
  }
  helper::AesmService service(backend->get());

  auto listener = helper::ListenSocket::Open(f.socket, mode, 128);
  if (!listener.ok()) {
    spdlog::error("cannot serve on {}: {}", f.socket, listener.status().ToString());
    return 1;
  }

  helper::FrameServerOptions options;
  options.threads = f.threads;
  options.io_timeout = std::chrono::milliseconds(f.io_timeout_ms);
  options.max_connections = f.max_connections;
  options.max_frame_size = f.max_frame_size;
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

  helper::FrameServer server(listener->fd(), options, [&service, &metrics](std::string_view request,
                                                                           uint64_t conn) {
    ScopedRequestId request_id(conn);
    auto start = std::chrono::steady_clock::now();
    helper::Outcome out = service.Handle(request);
    if (!out.answered) {
      spdlog::warn("closing without a reply: {}", out.detail);
      if (metrics) metrics->Rejected(out.detail.find("parse") != std::string::npos ? "unparseable" : "unclassifiable");
      return std::optional<std::string>();
    }
    if (metrics) {
      metrics->Answered(out.kind, out.code,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (out.code == aesm::AesmError::kSuccess) {
      spdlog::debug("{} -> SUCCESS", aesm::RequestKindName(out.kind));
    } else {
      spdlog::warn("{} -> {} ({}): {}", aesm::RequestKindName(out.kind),
                   aesm::AesmErrorName(out.code), unsigned(out.code), out.detail);
    }
    return std::optional<std::string>(std::move(out.response));
  });

  std::atomic<bool> signalled{false};
  std::thread signal_thread([&server, &signalled, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    spdlog::info("received {}: finishing requests in flight, then exiting",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Shutdown();
  });

  if (metrics_server) metrics_server->Add(helper::QuoteHelperMetrics::ConnectionCollector(server.stats()));
  spdlog::info("sgx-quote-helper {} serving on {} (mode {:04o}, backend {}, {} thread(s))",
               CONFCOM_VERSION, f.socket, unsigned(mode), (*backend)->name(),
               f.threads > 0 ? f.threads : int(std::max(1u, std::thread::hardware_concurrency())));
  Status st = server.Run();
  listener->Close();
  const auto& s = server.stats();
  spdlog::info("stopped: {} connection(s) accepted, {} answered, {} refused, {} timed out, "
               "{} bad frame(s), {} closed unanswered",
               s.accepted.load(), s.answered.load(), s.refused.load(), s.timed_out.load(),
               s.bad_frames.load(), s.closed_unanswered.load());
  // The signal thread only returns after a signal; if Run() ended on its own, wake it.
  if (!signalled) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
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
  app.set_version_flag("--version", CONFCOM_VERSION);
  app.add_option("--backend", f.backend,
                 "Quoting backend: 'dcap' = Intel DCAP on SGX hardware; 'auto' = dcap when the SGX "
                 "device and libsgx_dcap_ql.so.1 are present, else refuse to start; 'sim' = a "
                 "SIMULATED platform (no security; development and testing). Never simulates unless "
                 "asked for.")
      ->check(CLI::IsMember({"auto", "dcap", "sim"}))
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
  app.add_option("--max-frame-size", f.max_frame_size,
                 "Largest request accepted, in bytes; larger ones are rejected unread")
      ->check(CLI::Range(1024, 16 << 20))
      ->capture_default_str();
  AddMetricsFlag(app, &f.metrics_address);
  CLI11_PARSE(app, argc, argv);
  return Serve(f);
}
