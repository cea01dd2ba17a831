#include "helper/options.h"

#include <filesystem>

#include "common/daemon_flags.h"
#include "helper/aesm_service.h"

namespace confcom::helper {

const char* const kHelperDescription =
    "sgx-quote-helper: out-of-proc SGX quote generation for a Kubernetes node.\n"
    "Serves Intel's AESM protocol (ECDSA quote_ex API) so that apps with SGX_AESM_ADDR=1\n"
    "and Intel's libsgx_quote_ex get their DCAP quotes from this service.";

void AddHelperFlags(CLI::App& app, HelperFlags* f) {
  app.add_option("--backend", f->backend,
                 "Quoting backend: " + quoting::DescribeBackendChoices() +
                     ". Never simulates unless asked for.")
      ->check(CLI::IsMember(quoting::BackendNames()))
      ->capture_default_str();
  app.add_option("--dcap-library", f->dcap_library,
                 "Path of DCAP's quote library (default: search the library folders for "
                 "libsgx_dcap_ql.so.1)");
  app.add_option("--host-root", f->host_root,
                 "Prefix for device and library paths when probing the platform (for tests)")
      ->capture_default_str();
  app.add_option("--max-waiting-quotes", f->max_waiting_quotes,
                 "dcap: requests allowed to wait for the quoting enclave; more get BUSY")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--socket", f->socket, "UNIX socket to serve on")->capture_default_str();
  app.add_option("--socket-mode", f->socket_mode, "Permissions of the socket file (octal)")
      ->capture_default_str();
  app.add_option("--state-dir", f->state_dir,
                 "Directory for the platform's keys and certificates and the sockets' locks "
                 "(created 0700; never mount it into apps)")
      ->capture_default_str();
  app.add_option(
      "--admin-socket", f->admin_socket,
      "UNIX socket (0600, its folder made 0700) for the helper's own probes ('sgxctl ping "
      "--socket'): tenants can neither reach nor fill it. Default: <state-dir>/admin.sock; "
      "'off': none");
  app.add_option(
         "--sim-pck-ca", f->sim_pck_ca,
         "sim: which PCK CA issues a new platform's PCK certificates, 'platform' (default) or "
         "'processor'; an existing platform of the other kind is refused")
      ->check(CLI::IsMember({"platform", "processor"}));
  AddLoggingFlags(app, &f->log_format, &f->log_level);
  app.add_option("--threads", f->threads, "Event-loop threads (0 = one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--io-timeout-ms", f->io_timeout_ms,
                 "Per-connection deadline to send a request or read the reply")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--max-connections", f->max_connections,
                 "Open connections beyond this are closed at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-connections-per-client", f->max_connections_per_client,
                 "Connections one client (pod or uid: --client-identity) may hold; its "
                 "requests beyond them are answered BUSY and further connections closed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--client-identity", f->client_identity,
                 "What a client's share of connections follows: 'pod' (the peer's pod, from its "
                 "cgroup; its uid outside pods or when the pod cannot be seen, e.g. without "
                 "hostPID) or 'uid'")
      ->check(CLI::IsMember({"pod", "uid"}))
      ->capture_default_str();
  app.add_option("--proc-root", f->proc_root,
                 "Where the peers' <pid>/cgroup files are read, for --client-identity=pod (for "
                 "tests)")
      ->capture_default_str();
  app.add_option(
         "--refusal-timeout-ms", f->refusal_timeout_ms,
         "Deadline of a connection beyond a client's share (it may only get BUSY); capped by "
         "--io-timeout-ms")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--max-buffered-mib", f->max_buffered_mib,
                 "MiB all connections together may hold for requests and replies; beyond it new "
                 "requests are answered BUSY or closed. Must hold --max-connections requests of "
                 "--max-frame-size plus a 64 KiB reply per thread")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-frame-size", f->max_frame_size,
                 "Largest request accepted, in bytes; larger ones are rejected unread")
      ->check(CLI::Range(1024, 16 << 20))
      ->capture_default_str();
  AddMetricsFlag(app, &f->metrics_address);
  app.add_flag(
      "--no-takeover", f->no_takeover,
      "Refuse to start while another helper serves --socket, instead of taking the path over from "
      "it without a gap (docs/helper-handover.md)");
  app.add_option(
         "--after-handover", f->after_handover,
         "What a helper does once a successor took its socket over and it has finished its "
         "requests: 'exit', or 'wait' until SIGTERM (under a supervisor that restarts exited "
         "processes, e.g. in a Kubernetes pod)")
      ->check(CLI::IsMember({"exit", "wait"}))
      ->capture_default_str();
  app.add_option(
      "--ready-file", f->ready_file,
      "File written while this helper owns --socket and its predecessor is gone, removed "
      "when it hands over or stops (for readiness probes; 'sgxctl ping --ready-file')");
  app.add_option(
         "--handover-timeout-ms", f->handover_timeout_ms,
         "How long a new helper waits for the one it takes over from to finish its requests")
      ->check(CLI::Range(1000, 600000))
      ->capture_default_str();
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
    return Status::InvalidArgument("--socket-mode '" + text +
                                   "' is not an octal permission like 0666");
  }
  if ((mode & 0600) != 0600) {
    return Status::InvalidArgument("--socket-mode " + text +
                                   " would lock out even the socket's owner: clients need read and "
                                   "write permission (0600 at least, 0666 for every pod)");
  }
  return mode_t(mode);
}

FrameServerOptions AdminServerOptions(const FrameServerOptions& main) {
  FrameServerOptions o = main;
  o.threads = 1;
  // A pod's startup, readiness and liveness probes may overlap (3), plus an operator's sgxctl:
  // 16 per client leaves room; 32 connections of 8 KiB and one 64 KiB reply fit in 1 MiB.
  o.max_connections = 32;
  o.max_connections_per_client = 16;
  o.max_buffered_bytes = 1u << 20;
  return o;
}

Result<QuoteHelperConfig> ToQuoteHelperConfig(const HelperFlags& f) {
  QuoteHelperConfig c;
  CONFCOM_ASSIGN_OR_RETURN(c.socket_mode, ParseSocketMode(f.socket_mode));
  if (Status st = CheckSocketPath(f.socket); !st.ok())
    return Status::InvalidArgument("--socket: " + st.message());
  c.socket = f.socket;
  c.lock_dir = f.state_dir;
  if (f.admin_socket != "off") {
    c.admin_socket = f.admin_socket.empty() ? f.state_dir + "/admin.sock" : f.admin_socket;
    if (Status st = CheckSocketPath(c.admin_socket); !st.ok())
      return Status::InvalidArgument("--admin-socket: " + st.message());
    // Its folder is made 0700: never the folder apps mount (they would lose the socket).
    auto folder = [](const std::string& p) {
      return std::filesystem::path(p).lexically_normal().parent_path();
    };
    if (folder(c.admin_socket) == folder(c.socket)) {
      return Status::InvalidArgument("--admin-socket " + c.admin_socket +
                                     " is in --socket's folder, which apps mount: put it in a "
                                     "folder of the helper's own (default <state-dir>/admin.sock)");
    }
  }
  c.takeover = f.no_takeover ? Takeover::kRefuse : Takeover::kTakeOver;

  c.backend = f.backend;
  c.backend_config.state_dir = f.state_dir;
  c.backend_config.sim_pck_ca = f.sim_pck_ca;
  c.backend_config.dcap_library = f.dcap_library;
  c.backend_config.host_root = f.host_root;
  c.backend_config.max_waiting_quotes = f.max_waiting_quotes;

  FrameServerOptions& o = c.server;
  o.threads = f.threads;
  o.io_timeout = std::chrono::milliseconds(f.io_timeout_ms);
  o.max_connections = f.max_connections;
  o.max_connections_per_client = f.max_connections_per_client;
  o.max_frame_size = f.max_frame_size;
  o.max_reply_size = kMaxReplySize;
  o.max_buffered_bytes = f.max_buffered_mib << 20;
  o.refusal_timeout = std::chrono::milliseconds(f.refusal_timeout_ms);
  o.client_identity = f.client_identity == "uid" ? ClientIdentity::kUid : ClientIdentity::kPod;
  o.proc_root = f.proc_root;
  CONFCOM_RETURN_IF_ERROR(CheckMemoryBudget(o));
  c.admin_server = AdminServerOptions(o);
  CONFCOM_RETURN_IF_ERROR(CheckMemoryBudget(c.admin_server));

  c.handover.path = f.socket;
  c.handover.ready_file = f.ready_file;
  c.handover.handover_timeout = std::chrono::milliseconds(f.handover_timeout_ms);
  c.handover.after_handover =
      f.after_handover == "wait" ? AfterHandover::kWait : AfterHandover::kExit;
  return c;
}

}  // namespace confcom::helper
