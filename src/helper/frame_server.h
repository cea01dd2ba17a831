// A server for one-request-per-connection framed protocols (AESM) on a listening socket:
// `threads` epoll loops share the socket; a connection sends one frame (aesm/framing.h), the
// handler answers it inline, the answer is written and the connection closed. Every
// connection has an I/O deadline; bad frames close it unanswered; connections beyond
// `max_connections` are closed at once. Each client (its pod, else its uid: peer_identity.h)
// has a share of connections (client_shares.h) and all connections one memory budget
// (memory_budget.h): beyond either, requests are answered BUSY or closed. Shutdown() drains;
// HandOver() drains for a successor that took the socket's path. docs/helper-handover.md tells
// how, with the numbers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aesm/framing.h"
#include "common/status.h"
#include "helper/client_shares.h"
#include "helper/memory_budget.h"
#include "helper/peer_identity.h"

namespace confcom::helper {

struct FrameServerOptions {
  int threads = 0;  // 0: one per core
  uint32_t max_frame_size = 8192;
  std::chrono::milliseconds io_timeout{10000};
  size_t max_connections = 4096;
  std::chrono::milliseconds drain_timeout{5000};
  std::chrono::milliseconds handover_accept_grace{250};
  size_t max_connections_per_client = 256;
  size_t refusal_slots_per_client = 8;
  std::chrono::milliseconds refusal_timeout{1000};  // capped by io_timeout
  size_t max_buffered_bytes = 64u << 20;
  size_t max_reply_size = aesm::kDefaultMaxFrameSize;     // the handler never returns more
  ClientIdentity client_identity = ClientIdentity::kPod;  // what a client's share follows
  std::string proc_root = "/proc";  // where the peers' <pid>/cgroup files are read
};

// Who is on the other end of a connection (SO_PEERCRED; -1 when unknown). pid and uid are as
// seen in the helper's own namespaces; `client` is the key of its share (its pod, else uid).
struct Peer {
  int64_t pid = -1;
  int64_t uid = -1;
  int64_t gid = -1;
  ClientKey client;
};

// Why the handler should not do the work a request asks for.
enum class Refusal {
  kNone,
  kOverShare,   // the client holds more than its share of connections
  kOverloaded,  // the memory budget has no room for a reply
};
// Returns the refusal's log word: "none", "over_share" or "overloaded".
const char* RefusalName(Refusal r);

struct RequestContext {
  uint64_t connection_id = 0;
  Peer peer;
  Refusal refusal = Refusal::kNone;
};

struct FrameServerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};  // over max_connections
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> closed_unanswered{0};  // handler declined
  std::atomic<uint64_t> bad_frames{0};         // zero or oversize length
  std::atomic<uint64_t> timed_out{0};
  std::atomic<uint64_t> peer_closed{0};     // closed before a whole request
  std::atomic<uint64_t> over_share{0};      // connections beyond a client's share (refused or BUSY)
  std::atomic<uint64_t> over_budget{0};     // requests closed or refused for the memory budget
  std::atomic<uint64_t> handler_failed{0};  // the handler threw: closed without a reply
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> buffered_bytes{0};  // charged to the memory budget now
  std::atomic<int64_t> buffered_bytes_peak{0};
  // Connections by how their client was identified, indexed by IdentifiedBy.
  std::atomic<uint64_t> identified_by[kIdentifiedByCount] = {};
};

// MemoryBudget::CheckHolds for these options: OK when max_buffered_bytes holds max_connections
// requests of max_frame_size plus one max_reply_size reply per loop (`threads`, 0 = one per
// core); otherwise InvalidArgument naming the sizes (for flag checks at startup).
Status CheckMemoryBudget(const FrameServerOptions& options);

// Thread safety: Shutdown() and HandOver() may be called from any thread (Shutdown() even from
// a signal handler: it writes an eventfd); stats() is readable from any thread; Run() once.
class FrameServer {
 public:
  // Returns the reply payload (at most options.max_reply_size bytes; longer replies are
  // dropped), or nullopt to close the connection without one. May throw: the connection is
  // then closed unanswered (counted in handler_failed). Called on the loops' threads.
  using Handler = std::function<std::optional<std::string>(std::string_view request,
                                                           const RequestContext& context)>;

  // Serves `listen_fd` (not owned; must outlive the server) once Run() is called.
  FrameServer(int listen_fd, FrameServerOptions options, Handler handler);
  ~FrameServer();
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  // Serves on `threads` loops (this thread is one) until Shutdown() or HandOver() and their
  // drain; every connection is then closed and its budget bytes and share given back. Errors:
  // creating the loops' epoll or eventfd descriptors.
  Status Run();
  // Stop accepting, close connections that have sent nothing, finish the requests in flight
  // (up to drain_timeout); then Run() returns.
  void Shutdown();
  // A successor took the socket's path: keep accepting for handover_accept_grace (the backlog,
  // and connects that resolved the path just before it changed), keep connections that have
  // sent nothing yet, finish everything (up to drain_timeout); then Run() returns.
  void HandOver();
  const FrameServerStats& stats() const { return stats_; }

 private:
  class Loop;

  int listen_fd_;
  FrameServerOptions options_;
  Handler handler_;
  int shutdown_fd_ = -1;               // eventfd
  std::atomic<bool> handover_{false};  // set before shutdown_fd_ is signalled by HandOver()
  std::atomic<uint64_t> next_connection_id_{1};
  FrameServerStats stats_;
  PeerIdentifier identifier_;
  ClientShares shares_;
  MemoryBudget budget_;
};

}  // namespace confcom::helper
