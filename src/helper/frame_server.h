// A server for one-request-per-connection framed protocols (AESM) on a listening socket.
//
// `threads` event loops (epoll, non-blocking sockets) share the listening socket; each accepts
// connections and owns them until they close. A connection sends one frame (aesm/framing.h),
// the handler answers it inline on the loop's thread, the answer is written and the connection
// closed. Slow or silent clients cost a few hundred bytes and never block anyone: every
// connection has an I/O deadline and is closed when it passes. Oversize, zero-length or
// unparseable requests close the connection without a reply. Connections beyond
// `max_connections` are accepted and closed at once.
//
// Fair share: every connection carries its peer's credentials (SO_PEERCRED: pid, uid, gid),
// and a client (one uid) may hold at most `max_connections_per_client` connections. Beyond
// that it gets up to `refusal_slots_per_client` more, whose requests are read and handed to
// the handler marked Refusal::kOverShare (so it can answer BUSY, which Intel's library maps to
// SGX_ERROR_BUSY: "retry", not "is the service running?"), with a short deadline; further
// connections are closed at once. One client therefore never holds more than
// share + refusal slots connections, and never locks others out.
//
// Memory: every byte held for a connection (the request as declared by its frame header, the
// reply until written) is charged to a budget of `max_buffered_bytes` shared by all loops. A
// request whose declared size does not fit is closed unread; before a handler runs, room for
// `max_reply_size` is reserved, and when there is none the handler is told Refusal::kOverloaded
// (answer BUSY cheaply). Per connection: at most max_frame_size + max_reply_size + 4 bytes.
// CheckMemoryBudget() tells whether the budget holds a full request on every connection plus a
// reply in progress on every loop, so that clients sending only headers cannot fill it.
//
// A handler that throws closes its connection without a reply (counted in handler_failed);
// the server keeps serving. When accept() runs out of descriptors, the pending connection is
// closed with a reserved descriptor; without one, accepting pauses briefly instead of spinning.
//
// Run() serves until Shutdown() (callable from any thread): loops then stop accepting, close
// connections that have sent nothing, finish the requests in flight (up to `drain_timeout`)
// and return; every connection is then closed and its budget bytes and share given back.
// HandOver() (a successor took the socket's path) drains instead: loops keep accepting for
// `handover_accept_grace` so that connections queued on the listening socket (its backlog, and
// connects that resolved the path just before it changed) are served too, keep connections
// that have sent nothing yet (a client writes right after connecting), finish everything (up
// to `drain_timeout`) and return.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "aesm/framing.h"
#include "common/status.h"

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
  size_t max_reply_size = aesm::kDefaultMaxFrameSize;  // the handler never returns more
};

// Who is on the other end of a connection (SO_PEERCRED; -1 when unknown). pid and uid are as
// seen in the helper's own namespaces.
struct Peer {
  int64_t pid = -1;
  int64_t uid = -1;
  int64_t gid = -1;
};

// Why the handler should not do the work a request asks for.
enum class Refusal {
  kNone,
  kOverShare,   // the client holds more than its share of connections
  kOverloaded,  // the memory budget has no room for a reply
};
const char* RefusalName(Refusal r);

struct RequestContext {
  uint64_t connection_id = 0;
  Peer peer;
  Refusal refusal = Refusal::kNone;
};

struct FrameServerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};       // over max_connections
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> closed_unanswered{0};  // handler declined
  std::atomic<uint64_t> bad_frames{0};    // zero or oversize length
  std::atomic<uint64_t> timed_out{0};
  std::atomic<uint64_t> peer_closed{0};   // closed before a whole request
  std::atomic<uint64_t> over_share{0};    // connections beyond a client's share (refused or BUSY)
  std::atomic<uint64_t> over_budget{0};   // requests closed or refused for the memory budget
  std::atomic<uint64_t> handler_failed{0};  // the handler threw: closed without a reply
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> buffered_bytes{0};  // charged to the memory budget now
  std::atomic<int64_t> buffered_bytes_peak{0};
};

// OK when max_buffered_bytes holds max_connections requests of max_frame_size (with headers)
// plus one max_reply_size reply per loop (`threads`, 0 = one per core); otherwise an
// InvalidArgument naming the sizes (for flag checks at startup).
Status CheckMemoryBudget(const FrameServerOptions& options);

class FrameServer {
 public:
  // Returns the reply payload (at most options.max_reply_size bytes; longer replies are
  // dropped), or nullopt to close the connection without one.
  using Handler =
      std::function<std::optional<std::string>(std::string_view request, const RequestContext& context)>;

  FrameServer(int listen_fd, FrameServerOptions options, Handler handler);
  ~FrameServer();
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  Status Run();
  void Shutdown();
  void HandOver();
  const FrameServerStats& stats() const { return stats_; }

 private:
  class Loop;
  struct ClientShare {
    size_t held = 0;      // connections within the share
    size_t refusing = 0;  // connections in refusal slots
  };
  // Admits a new connection of `uid`: kNone (within its share), kOverShare (a refusal slot),
  // or false when it must be closed at once.
  bool Admit(int64_t uid, Refusal* refusal);
  void Release(int64_t uid, Refusal refusal);
  bool Reserve(size_t bytes);
  void ForceReserve(size_t bytes);
  void Unreserve(size_t bytes);
  void UpdatePeak(int64_t value);

  int listen_fd_;
  FrameServerOptions options_;
  Handler handler_;
  int shutdown_fd_ = -1;  // eventfd
  std::atomic<bool> handover_{false};  // set before shutdown_fd_ is signalled by HandOver()
  std::atomic<uint64_t> next_connection_id_{1};
  FrameServerStats stats_;
  std::mutex shares_mu_;
  std::unordered_map<int64_t, ClientShare> shares_;
};

}  // namespace confcom::helper
