#include "helper/frame_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log_limiter.h"

namespace confcom::helper {

using Clock = std::chrono::steady_clock;

const char* RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone: return "none";
    case Refusal::kOverShare: return "over_share";
    case Refusal::kOverloaded: return "overloaded";
  }
  return "?";
}

namespace {

// Lines any client can cause: one limiter per kind.
LogLimiter g_refused_log, g_bad_frame_log, g_timeout_log, g_budget_log, g_peer_log, g_handler_log;
// Out of descriptors, a loop retries 10 times a second: say so a few times a minute at most.
LogLimiter g_fd_log(3, std::chrono::seconds(60));

// How long accepting pauses when the descriptors run out and none is in reserve.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

int Threads(int configured) {
  return configured > 0 ? configured : int(std::max(1u, std::thread::hardware_concurrency()));
}

Peer PeerOf(int fd) {
  Peer p;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred) {
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
  }
  return p;
}

std::string Describe(uint64_t id, const Peer& p) {
  return "conn " + std::to_string(id) + " (pid " + std::to_string(p.pid) + ", uid " +
         std::to_string(p.uid) + ")";
}

}  // namespace

class FrameServer::Loop {
 public:
  explicit Loop(FrameServer* server) : s_(server) {}
  ~Loop() {
    for (auto& [fd, conn] : conns_) ::close(fd);
    if (epfd_ >= 0) ::close(epfd_);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
  }

  Status Init() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) return Status::FromErrno("epoll_create1", errno);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = s_->listen_fd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, s_->listen_fd_, &ev) != 0) {
      return Status::FromErrno("epoll_ctl(listen)", errno);
    }
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.fd = s_->shutdown_fd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, s_->shutdown_fd_, &sev) != 0) {
      return Status::FromErrno("epoll_ctl(eventfd)", errno);
    }
    // A spare descriptor to give up when accept() hits EMFILE, so the pending connection can
    // be accepted and closed instead of waking us forever.
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return Status::Ok();
  }

  void Run() {
    epoll_event events[64];
    Clock::time_point drain_deadline{};
    for (;;) {
      if (draining_) {
        auto now = Clock::now();
        if (handing_over_ && !handover_accept_done_ && now >= accept_until_) {
          if (!accept_paused_) AcceptAll();  // what is queued now came before the grace ended
          if (!accept_paused_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
          handover_accept_done_ = true;
        }
        if ((conns_.empty() && (!handing_over_ || handover_accept_done_)) || now >= drain_deadline) break;
      }
      if (accept_paused_ && (!draining_ || (handing_over_ && !handover_accept_done_)) &&
          Clock::now() >= accept_resume_) {
        ResumeAccept();
      }
      int n = ::epoll_wait(epfd_, events, 64,
                           conns_.empty() && !draining_ && !accept_paused_ ? -1 : handing_over_ ? 20 : 100);
      if (n < 0) {
        if (errno == EINTR) continue;
        spdlog::error("epoll_wait: {}", std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == s_->listen_fd_) {
          if ((!draining_ || (handing_over_ && !handover_accept_done_)) && !accept_paused_) AcceptAll();
        } else if (fd == s_->shutdown_fd_) {
          if (!draining_) {
            draining_ = true;
            drain_deadline = Clock::now() + s_->options_.drain_timeout;
            if (s_->handover_.load()) {
              handing_over_ = true;
              accept_until_ = Clock::now() + s_->options_.handover_accept_grace;
              ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->shutdown_fd_, nullptr);
            } else {
              StartDrain();
            }
          }
        } else {
          OnEvent(fd, events[i].events);
        }
      }
      SweepDeadlines();
    }
    if (!conns_.empty()) {
      spdlog::warn("shutdown: closing {} connection(s) still unfinished after the drain period",
                   conns_.size());
      // Through Close(), so that their budget bytes and shares are given back.
      std::vector<int> left;
      for (auto& [fd, conn] : conns_) left.push_back(fd);
      for (int fd : left) Close(fd);
    }
  }

 private:
  struct Conn {
    uint64_t id;
    aesm::FrameReader reader;
    Peer peer;
    Refusal share = Refusal::kNone;  // kOverShare: in a refusal slot
    std::string out;
    size_t out_done = 0;
    size_t charged = 0;  // bytes charged to the memory budget
    bool writing = false;
    bool registered = false;  // in the epoll set
    Clock::time_point deadline;
  };

  void AcceptAll() {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(s_->listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // A failed reopen left no reserve: try again now, some descriptors may be free.
          if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          if (reserve_fd_ >= 0) {
            LimitedWarn(g_fd_log, "out of file descriptors: refusing a connection ({} open)",
                        s_->stats_.open.load());
            ::close(reserve_fd_);
            int victim = ::accept(s_->listen_fd_, nullptr, nullptr);
            if (victim >= 0) ::close(victim);
            reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            ++s_->stats_.refused;
          } else {
            // The listener is level-triggered: with nothing to close the connection with, it
            // would wake us at once, forever. Stop watching it for a moment.
            LimitedWarn(g_fd_log, "out of file descriptors, none in reserve: not accepting for {} ms ({} open)",
                        kAcceptBackoff.count(), s_->stats_.open.load());
            PauseAccept();
          }
        }
        return;  // EAGAIN (another loop took it), or an error for this one connection
      }
      // Take the slot first (loops accept concurrently): check-then-increment would let
      // two loops both take the last one.
      if (size_t(++s_->stats_.open) > s_->options_.max_connections) {
        --s_->stats_.open;
        ++s_->stats_.refused;
        LimitedWarn(g_refused_log, "refusing a connection: {} connections open (--max-connections)",
                    s_->stats_.open.load());
        ::close(fd);
        continue;
      }
      Peer peer = PeerOf(fd);
      Refusal share = Refusal::kNone;
      if (!s_->Admit(peer.uid, &share)) {
        --s_->stats_.open;
        ++s_->stats_.refused;
        ++s_->stats_.over_share;
        LimitedWarn(g_refused_log,
                    "refusing a connection from pid {} uid {}: it holds its share of {} connection(s) "
                    "and {} more waiting for BUSY (--max-connections-per-client)",
                    peer.pid, peer.uid, s_->options_.max_connections_per_client,
                    s_->options_.refusal_slots_per_client);
        ::close(fd);
        continue;
      }
      ++s_->stats_.accepted;
      auto timeout = s_->options_.io_timeout;
      if (share == Refusal::kOverShare) {
        ++s_->stats_.over_share;
        timeout = std::min(timeout, s_->options_.refusal_timeout);
      }
      Conn conn{s_->next_connection_id_++, aesm::FrameReader(s_->options_.max_frame_size), peer,
                share, {}, 0, 0, false, false, Clock::now() + timeout};
      auto [it, inserted] = conns_.emplace(fd, std::move(conn));
      // Clients write their request right after connecting, so it has often arrived by now:
      // try it before paying for epoll registration.
      ReadRequest(fd, it->second);
    }
  }

  // Makes epoll wait for `events` on a connection, registering it on first use.
  void Watch(int fd, Conn& c, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("conn {}: epoll_ctl: {}", c.id, std::strerror(errno));
      return Close(fd);
    }
    c.registered = true;
  }

  void Close(int fd) {
    ::close(fd);  // also removes it from the epoll set: we never duplicate connection fds
    auto it = conns_.find(fd);
    if (it != conns_.end()) {
      s_->Unreserve(it->second.charged);
      s_->Release(it->second.peer.uid, it->second.share);
      conns_.erase(it);
    }
    --s_->stats_.open;
  }

  void OnEvent(int fd, uint32_t events) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    if (c.writing) {
      if (events & (EPOLLERR | EPOLLHUP)) {
        spdlog::debug("conn {}: peer went away before reading the reply", c.id);
        return Close(fd);
      }
      return Flush(fd, c);
    }
    ReadRequest(fd, c);
  }

  void ReadRequest(int fd, Conn& c) {
    while (!c.reader.complete()) {
      auto buf = c.reader.NextBuffer();
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (!c.registered) Watch(fd, c, EPOLLIN | EPOLLRDHUP);
          return;
        }
        spdlog::debug("conn {}: recv: {}", c.id, std::strerror(errno));
        ++s_->stats_.peer_closed;
        return Close(fd);
      }
      if (n == 0) {
        if (c.reader.started()) {
          LimitedWarn(g_peer_log, "{}: client closed the connection in the middle of a request",
                      Describe(c.id, c.peer));
        }
        ++s_->stats_.peer_closed;
        return Close(fd);
      }
      bool had_header = c.reader.declared_size() != 0;
      if (Status st = c.reader.Commit(size_t(n)); !st.ok()) {
        LimitedWarn(g_bad_frame_log, "{}: rejecting request: {}", Describe(c.id, c.peer), st.message());
        ++s_->stats_.bad_frames;
        return Close(fd);
      }
      if (!had_header && c.reader.declared_size() != 0) {
        // The header is in: charge the body it announces before any of it is read.
        if (!s_->Reserve(c.reader.declared_size())) {
          ++s_->stats_.over_budget;
          LimitedWarn(g_budget_log,
                      "{}: closing: its {}-byte request does not fit the memory budget of {} bytes "
                      "(--max-buffered-mib) now",
                      Describe(c.id, c.peer), c.reader.declared_size(), s_->options_.max_buffered_bytes);
          return Close(fd);
        }
        c.charged += c.reader.declared_size();
      }
    }
    RequestContext context{c.id, c.peer, c.share};
    size_t reply_room = s_->options_.max_reply_size + aesm::kFrameHeaderSize;
    if (s_->Reserve(reply_room)) {
      c.charged += reply_room;
    } else {
      ++s_->stats_.over_budget;
      if (context.refusal == Refusal::kNone) context.refusal = Refusal::kOverloaded;
      reply_room = 0;
    }
    std::optional<std::string> reply;
    bool failed = false;
    std::string why;
    try {
      reply = s_->handler_(c.reader.payload(), context);
    } catch (const std::exception& e) {
      failed = true;
      why = e.what();
    } catch (...) {
      failed = true;
      why = "unknown exception";
    }
    if (failed) {
      ++s_->stats_.handler_failed;
      LimitedWarn(g_handler_log, "{}: closing without a reply: internal error handling its request: {}",
                  Describe(c.id, c.peer), why);
      return Close(fd);
    }
    // The request is no longer needed: give its bytes back now.
    s_->Unreserve(c.charged - reply_room);
    c.charged = reply_room;
    (void)c.reader.TakePayload();
    if (!reply) {
      ++s_->stats_.closed_unanswered;
      return Close(fd);
    }
    if (reply->size() > s_->options_.max_reply_size) {
      spdlog::error("{}: dropping a {}-byte reply, over the {}-byte limit", Describe(c.id, c.peer),
                    reply->size(), s_->options_.max_reply_size);
      ++s_->stats_.closed_unanswered;
      return Close(fd);
    }
    c.out = aesm::EncodeFrame(*reply);
    if (reply_room == 0) {
      // Refused for the budget: the short BUSY reply is charged as is (it may overdraw by a
      // few bytes; that is what answering instead of dropping costs).
      s_->ForceReserve(c.out.size());
    } else {
      s_->Unreserve(reply_room - c.out.size());  // keep the charge to what the reply weighs
    }
    c.charged = c.out.size();
    c.writing = true;
    c.deadline = Clock::now() + s_->options_.io_timeout;
    Flush(fd, c);
  }

  void Flush(int fd, Conn& c) {
    while (c.out_done < c.out.size()) {
      ssize_t n = ::send(fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Watch(fd, c, EPOLLOUT);
        spdlog::debug("conn {}: send: {}", c.id, std::strerror(errno));
        ++s_->stats_.peer_closed;
        return Close(fd);
      }
      c.out_done += size_t(n);
    }
    ++s_->stats_.answered;
    Close(fd);
  }

  void PauseAccept() {
    if (accept_paused_) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
    accept_paused_ = true;
    accept_resume_ = Clock::now() + kAcceptBackoff;
  }

  void ResumeAccept() {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = s_->listen_fd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, s_->listen_fd_, &ev) != 0) {
      LimitedWarn(g_fd_log, "cannot watch the listening socket again: {}; retrying", std::strerror(errno));
      accept_resume_ = Clock::now() + kAcceptBackoff;
      return;
    }
    accept_paused_ = false;
  }

  void StartDrain() {
    if (!accept_paused_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->shutdown_fd_, nullptr);
    std::vector<int> idle;
    for (auto& [fd, c] : conns_) {
      if (!c.writing && !c.reader.started()) idle.push_back(fd);
    }
    for (int fd : idle) Close(fd);
  }

  void SweepDeadlines() {
    auto now = Clock::now();
    if (now < next_sweep_) return;
    next_sweep_ = now + std::chrono::milliseconds(100);
    std::vector<int> expired;
    for (auto& [fd, c] : conns_) {
      if (now >= c.deadline) expired.push_back(fd);
    }
    for (int fd : expired) {
      const Conn& c = conns_.at(fd);
      LimitedWarn(g_timeout_log, "{}: closing after its I/O deadline of {} ms ({})", Describe(c.id, c.peer),
                   c.share == Refusal::kOverShare ? std::min(s_->options_.io_timeout, s_->options_.refusal_timeout).count()
                                                  : s_->options_.io_timeout.count(),
                   c.writing ? "client did not read the reply"
                   : c.reader.started() ? "request incomplete"
                                        : "client sent nothing");
      ++s_->stats_.timed_out;
      Close(fd);
    }
  }

  FrameServer* s_;
  int epfd_ = -1;
  int reserve_fd_ = -1;
  bool draining_ = false;
  bool handing_over_ = false;  // draining for a successor: accepting until accept_until_
  bool handover_accept_done_ = false;
  Clock::time_point accept_until_{};
  bool accept_paused_ = false;  // the listener is out of the epoll set until accept_resume_
  Clock::time_point accept_resume_{};
  Clock::time_point next_sweep_{};
  std::unordered_map<int, Conn> conns_;
};

FrameServer::FrameServer(int listen_fd, FrameServerOptions options, Handler handler)
    : listen_fd_(listen_fd), options_(options), handler_(std::move(handler)) {
  options_.threads = Threads(options_.threads);
  shutdown_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

FrameServer::~FrameServer() {
  if (shutdown_fd_ >= 0) ::close(shutdown_fd_);
}

Status CheckMemoryBudget(const FrameServerOptions& o) {
  const uint64_t requests = uint64_t(o.max_connections) * (uint64_t(o.max_frame_size) + aesm::kFrameHeaderSize);
  const uint64_t replies = uint64_t(Threads(o.threads)) * (uint64_t(o.max_reply_size) + aesm::kFrameHeaderSize);
  if (requests + replies <= o.max_buffered_bytes) return Status::Ok();
  const uint64_t mib = 1u << 20;
  return Status::InvalidArgument(
      "the memory budget of " + std::to_string(o.max_buffered_bytes / mib) + " MiB (--max-buffered-mib) is smaller "
      "than " + std::to_string(o.max_connections) + " connections (--max-connections) x " +
      std::to_string(o.max_frame_size) + "-byte requests (--max-frame-size) + " + std::to_string(Threads(o.threads)) +
      " thread(s) x " + std::to_string(o.max_reply_size) + "-byte replies = " +
      std::to_string((requests + replies + mib - 1) / mib) +
      " MiB: clients sending only request headers could fill it and lock everyone out. Raise "
      "--max-buffered-mib or lower --max-connections or --max-frame-size");
}

bool FrameServer::Admit(int64_t uid, Refusal* refusal) {
  std::lock_guard<std::mutex> lock(shares_mu_);
  ClientShare& share = shares_[uid];
  if (share.held < options_.max_connections_per_client) {
    ++share.held;
    *refusal = Refusal::kNone;
    return true;
  }
  if (share.refusing < options_.refusal_slots_per_client) {
    ++share.refusing;
    *refusal = Refusal::kOverShare;
    return true;
  }
  return false;
}

void FrameServer::Release(int64_t uid, Refusal refusal) {
  std::lock_guard<std::mutex> lock(shares_mu_);
  auto it = shares_.find(uid);
  if (it == shares_.end()) return;
  if (refusal == Refusal::kOverShare) {
    --it->second.refusing;
  } else {
    --it->second.held;
  }
  if (it->second.held == 0 && it->second.refusing == 0) shares_.erase(it);
}

bool FrameServer::Reserve(size_t bytes) {
  int64_t now = stats_.buffered_bytes.load();
  do {
    if (size_t(now) + bytes > options_.max_buffered_bytes) return false;
  } while (!stats_.buffered_bytes.compare_exchange_weak(now, now + int64_t(bytes)));
  UpdatePeak(now + int64_t(bytes));
  return true;
}

void FrameServer::ForceReserve(size_t bytes) { UpdatePeak(stats_.buffered_bytes += int64_t(bytes)); }

void FrameServer::UpdatePeak(int64_t value) {
  int64_t peak = stats_.buffered_bytes_peak.load();
  while (value > peak && !stats_.buffered_bytes_peak.compare_exchange_weak(peak, value)) {
  }
}

void FrameServer::Unreserve(size_t bytes) { stats_.buffered_bytes -= int64_t(bytes); }

void FrameServer::Shutdown() {
  uint64_t one = 1;
  // write(2) on an eventfd is async-signal-safe; the result is irrelevant once set.
  [[maybe_unused]] ssize_t n = ::write(shutdown_fd_, &one, sizeof one);
}

void FrameServer::HandOver() {
  handover_.store(true);
  Shutdown();
}

Status FrameServer::Run() {
  if (shutdown_fd_ < 0) return Status::FromErrno("eventfd", errno);
  // spdlog creates its registry on first use; do that here, before the loops race to it.
  spdlog::default_logger_raw();
  std::vector<std::unique_ptr<Loop>> loops;
  for (int i = 0; i < options_.threads; ++i) {
    loops.push_back(std::make_unique<Loop>(this));
    CONFCOM_RETURN_IF_ERROR(loops.back()->Init());
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < loops.size(); ++i) {
    threads.emplace_back([&loops, i] { loops[i]->Run(); });
  }
  loops[0]->Run();
  for (auto& t : threads) t.join();
  return Status::Ok();
}

}  // namespace confcom::helper
