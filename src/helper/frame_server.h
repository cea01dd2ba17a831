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
// Run() serves until Shutdown() (callable from any thread): loops then stop accepting, close
// connections that have sent nothing, finish the requests in flight (up to `drain_timeout`)
// and return.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aesm/framing.h"
#include "common/status.h"

namespace confcom::helper {

struct FrameServerOptions {
  int threads = 0;  // 0: one per core
  uint32_t max_frame_size = aesm::kDefaultMaxFrameSize;
  std::chrono::milliseconds io_timeout{10000};
  size_t max_connections = 4096;
  std::chrono::milliseconds drain_timeout{5000};
};

struct FrameServerStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};       // over max_connections
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> closed_unanswered{0};  // handler declined
  std::atomic<uint64_t> bad_frames{0};    // zero or oversize length
  std::atomic<uint64_t> timed_out{0};
  std::atomic<uint64_t> peer_closed{0};   // closed before a whole request
  std::atomic<int64_t> open{0};
};

class FrameServer {
 public:
  // Returns the reply payload, or nullopt to close the connection without one.
  // `connection_id` identifies the connection in logs.
  using Handler = std::function<std::optional<std::string>(std::string_view request,
                                                           uint64_t connection_id)>;

  FrameServer(int listen_fd, FrameServerOptions options, Handler handler);
  ~FrameServer();
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  Status Run();
  void Shutdown();
  const FrameServerStats& stats() const { return stats_; }

 private:
  class Loop;
  int listen_fd_;
  FrameServerOptions options_;
  Handler handler_;
  int shutdown_fd_ = -1;  // eventfd
  std::atomic<uint64_t> next_connection_id_{1};
  FrameServerStats stats_;
};

}  // namespace confcom::helper
