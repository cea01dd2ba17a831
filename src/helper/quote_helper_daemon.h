// sgx-quote-helper's service, composed: the quoting backend behind an AesmService, the socket
// (ListenSocket), the RequestHandler, the FrameServer and the Handover that moves the socket's
// path between helpers; beside them the admin socket (its own small FrameServer on the same
// handler, for probes tenants cannot starve), handed over together with the socket.
// main.cc adds flags, logging, metrics and signals around it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "helper/frame_server.h"
#include "helper/handover.h"
#include "helper/listen_socket.h"
#include "quoting/backend_factory.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace confcom::helper {

struct QuoteHelperConfig {
  std::string backend = "auto";  // a quoting::BackendNames() entry
  quoting::BackendConfig backend_config;
  std::string socket;  // the path apps connect to
  mode_t socket_mode = 0666;
  // The sockets' locks (helper-only: apps mount the socket's folder; --state-dir). Empty:
  // beside the sockets (tests only).
  std::string lock_dir;
  // The helper's own probes' socket (mode 0600, its folder made 0700); empty: none.
  std::string admin_socket;
  FrameServerOptions admin_server;
  Takeover takeover = Takeover::kTakeOver;
  FrameServerOptions server;
  HandoverOptions handover;  // its path is `socket`
};

// Raises the soft limit of open files to the hard one (every connection is a descriptor). A
// failure is ignored: the server then refuses connections it has no descriptor for.
void RaiseFileLimit();

// Thread safety: Stop() is callable from any thread; the rest from one thread.
class QuoteHelperDaemon {
 public:
  // Loads the backend and binds the socket and the admin socket beside their paths
  // (ListenSocket::Open; with a live helper there and Takeover::kTakeOver, prepares to take
  // them over). Errors, worded for the log: "cannot start the B backend: ..." or "cannot serve
  // on P: ..." (P is either socket).
  static Result<std::unique_ptr<QuoteHelperDaemon>> Open(QuoteHelperConfig config);
  ~QuoteHelperDaemon();
  QuoteHelperDaemon(const QuoteHelperDaemon&) = delete;
  QuoteHelperDaemon& operator=(const QuoteHelperDaemon&) = delete;

  // Counts requests in `registry` and returns the collector of the connection counters, to be
  // served beside it (it reads the server's counters: serve it only until Run's
  // `before_release`). Call before Run(), at most once.
  std::shared_ptr<prometheus::Collectable> ExportMetrics(prometheus::Registry& registry);

  // Serves until Stop() or a hand-over to a successor (then, with AfterHandover::kWait, also
  // until Stop()): starts the server, then runs the Handover's steps. `before_release` runs
  // once the server has stopped, before the path is released. Logs the serving line, the
  // counters at the end and any error; returns that error (taking the path, or the server's).
  Status Run(const std::function<void()>& before_release);

  // A termination signal: finish the requests in flight, then Run() returns.
  void Stop();

 private:
  class Parts;
  explicit QuoteHelperDaemon(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace confcom::helper
