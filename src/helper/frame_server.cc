#include "helper/frame_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
// A client whose pod cannot be told (no hostPID, a process that exited): a few lines a minute.
LogLimiter g_identity_log(3, std::chrono::seconds(60));
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

// "pid 12 uid 0", then the share's key unless it is that uid: " (pod 0a1b...)", " (exited
// peers)".
std::string PeerText(const Peer& p) {
  return "pid " + std::to_string(p.pid) + " uid " + std::to_string(p.uid) +
         (p.client.kind == ClientKey::Kind::kUid ? "" : " (" + p.client.ToString() + ")");
}

// "conn 7 (pid 12, uid 0, pod 0a1b...)", or without the pod when keyed by uid.
std::string Describe(uint64_t id, const Peer& p) {
  return "conn " + std::to_string(id) + " (pid " + std::to_string(p.pid) + ", uid " +
         std::to_string(p.uid) +
         (p.client.kind == ClientKey::Kind::kUid ? "" : ", " + p.client.ToString()) + ")";
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
      if (phase_ != Phase::kServing) {
        auto now = Clock::now();
        if (phase_ == Phase::kHandOverAccepting && now >= accept_until_) {
          if (!accept_resume_) AcceptAll();  // what is queued now came before the grace ended
          if (!accept_resume_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
          phase_ = Phase::kHandOverDraining;
        }
        if ((conns_.empty() && phase_ != Phase::kHandOverAccepting) || now >= drain_deadline) break;
      }
      if (accept_resume_ && Accepting() && Clock::now() >= *accept_resume_) ResumeAccept();
      // Idle: sleep until something happens. Handing over: look at the clock every 20 ms (the
      // grace is 250 ms); otherwise every 100 ms (deadlines, the drain period, accept back-off).
      int timeout_ms = conns_.empty() && phase_ == Phase::kServing && !accept_resume_ ? -1
                       : HandingOver()                                                ? 20
                                                                                      : 100;
      int n = ::epoll_wait(epfd_, events, 64, timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        spdlog::error("epoll_wait: {}", std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == s_->listen_fd_) {
          if (Accepting() && !accept_resume_) AcceptAll();
        } else if (fd == s_->shutdown_fd_) {
          if (phase_ == Phase::kServing) {
            drain_deadline = Clock::now() + s_->options_.drain_timeout;
            if (s_->handover_.load()) {
              phase_ = Phase::kHandOverAccepting;
              accept_until_ = Clock::now() + s_->options_.handover_accept_grace;
              ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->shutdown_fd_, nullptr);
            } else {
              phase_ = Phase::kShutdownDraining;
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
  // What a loop does; it only moves down this list (kServing straight to kShutdownDraining, or
  // through the two hand-over phases).
  enum class Phase {
    kServing,            // accepting, serving
    kHandOverAccepting,  // HandOver(): still accepting until accept_until_, keeping idle connections
    kHandOverDraining,   // HandOver(), grace over: not accepting, finishing every connection
    kShutdownDraining,   // Shutdown(): not accepting, idle connections closed, finishing requests
  };
  // A connection reads one request, then writes one reply.
  enum class Stage { kReadingRequest, kWritingReply };
  struct Conn {
    uint64_t id;
    aesm::FrameReader reader;
    Peer peer;
    ShareAdmission admission = ShareAdmission::kWithinShare;  // kRefusalSlot: answered BUSY
    Stage stage = Stage::kReadingRequest;
    std::string out;
    size_t out_done = 0;
    size_t charged = 0;       // bytes charged to the memory budget
    bool registered = false;  // in the epoll set
    Clock::time_point deadline;
  };

  bool Accepting() const {
    return phase_ == Phase::kServing || phase_ == Phase::kHandOverAccepting;
  }
  bool HandingOver() const {
    return phase_ == Phase::kHandOverAccepting || phase_ == Phase::kHandOverDraining;
  }
  Refusal RefusalOf(const Conn& c) const {
    return c.admission == ShareAdmission::kRefusalSlot ? Refusal::kOverShare : Refusal::kNone;
  }
  std::chrono::milliseconds TimeoutOf(ShareAdmission admission) const {
    return admission == ShareAdmission::kRefusalSlot
               ? std::min(s_->options_.io_timeout, s_->options_.refusal_timeout)
               : s_->options_.io_timeout;
  }

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
            LimitedWarn(
                g_fd_log,
                "out of file descriptors, none in reserve: not accepting for {} ms ({} open)",
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
      Identification id = s_->identifier_.Identify(peer.pid, peer.uid);
      peer.client = id.key;
      ++s_->stats_.identified_by[size_t(id.by)];
      if (id.by == IdentifiedBy::kUidPidNotVisible || id.by == IdentifiedBy::kUidUnreadable) {
        LimitedWarn(g_identity_log,
                    "cannot tell the pod of pid {} uid {} ({}{}{}): its connections share uid "
                    "{}'s allowance{}",
                    peer.pid, peer.uid, IdentifiedByName(id.by), id.error != 0 ? ": " : "",
                    id.error != 0 ? std::strerror(id.error) : "", peer.uid,
                    id.by == IdentifiedBy::kUidPidNotVisible
                        ? " (the helper needs hostPID to see the pods of its clients)"
                        : "");
      } else if (id.by == IdentifiedBy::kExited) {
        LimitedWarn(g_identity_log,
                    "pid {} uid {} exited before its connection was accepted (its connection "
                    "is held by another process): it shares one allowance with every such peer",
                    peer.pid, peer.uid);
      }
      ShareAdmission admission = s_->shares_.Admit(peer.client);
      if (admission == ShareAdmission::kClosed) {
        --s_->stats_.open;
        ++s_->stats_.refused;
        ++s_->stats_.over_share;
        LimitedWarn(
            g_refused_log,
            "refusing a connection from {}: it holds its share of {} connection(s) and {} more "
            "waiting for BUSY (--max-connections-per-client)",
            PeerText(peer), s_->options_.max_connections_per_client,
            s_->options_.refusal_slots_per_client);
        ::close(fd);
        continue;
      }
      ++s_->stats_.accepted;
      if (admission == ShareAdmission::kRefusalSlot) ++s_->stats_.over_share;
      Conn conn{s_->next_connection_id_++,
                aesm::FrameReader(s_->options_.max_frame_size),
                peer,
                admission,
                Stage::kReadingRequest,
                {},
                0,
                0,
                false,
                Clock::now() + TimeoutOf(admission)};
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
      s_->budget_.Release(it->second.charged);
      s_->shares_.Release(it->second.peer.client, it->second.admission);
      conns_.erase(it);
    }
    --s_->stats_.open;
  }

  void OnEvent(int fd, uint32_t events) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    if (c.stage == Stage::kWritingReply) {
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
        LimitedWarn(g_bad_frame_log, "{}: rejecting request: {}", Describe(c.id, c.peer),
                    st.message());
        ++s_->stats_.bad_frames;
        return Close(fd);
      }
      if (!had_header && c.reader.declared_size() != 0) {
        // The header is in: charge the body it announces before any of it is read.
        if (!s_->budget_.TryCharge(c.reader.declared_size())) {
          ++s_->stats_.over_budget;
          LimitedWarn(g_budget_log,
                      "{}: closing: its {}-byte request does not fit the memory budget of {} bytes "
                      "(--max-buffered-mib) now",
                      Describe(c.id, c.peer), c.reader.declared_size(),
                      s_->options_.max_buffered_bytes);
          return Close(fd);
        }
        c.charged += c.reader.declared_size();
      }
    }
    RequestContext context{c.id, c.peer, RefusalOf(c)};
    size_t reply_room = s_->options_.max_reply_size + aesm::kFrameHeaderSize;
    if (s_->budget_.TryCharge(reply_room)) {
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
      LimitedWarn(g_handler_log,
                  "{}: closing without a reply: internal error handling its request: {}",
                  Describe(c.id, c.peer), why);
      return Close(fd);
    }
    // The request is no longer needed: give its bytes back now.
    s_->budget_.Release(c.charged - reply_room);
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
      s_->budget_.ForceCharge(c.out.size());
    } else {
      s_->budget_.Release(reply_room - c.out.size());  // keep the charge to what the reply weighs
    }
    c.charged = c.out.size();
    c.stage = Stage::kWritingReply;
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
    if (accept_resume_) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
    accept_resume_ = Clock::now() + kAcceptBackoff;
  }

  void ResumeAccept() {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = s_->listen_fd_;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, s_->listen_fd_, &ev) != 0) {
      LimitedWarn(g_fd_log, "cannot watch the listening socket again: {}; retrying",
                  std::strerror(errno));
      accept_resume_ = Clock::now() + kAcceptBackoff;
      return;
    }
    accept_resume_.reset();
  }

  void StartDrain() {
    if (!accept_resume_) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->listen_fd_, nullptr);
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, s_->shutdown_fd_, nullptr);
    std::vector<int> idle;
    for (auto& [fd, c] : conns_) {
      if (c.stage == Stage::kReadingRequest && !c.reader.started()) idle.push_back(fd);
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
      LimitedWarn(g_timeout_log, "{}: closing after its I/O deadline of {} ms ({})",
                  Describe(c.id, c.peer), TimeoutOf(c.admission).count(),
                  c.stage == Stage::kWritingReply ? "client did not read the reply"
                  : c.reader.started()            ? "request incomplete"
                                                  : "client sent nothing");
      ++s_->stats_.timed_out;
      Close(fd);
    }
  }

  FrameServer* s_;
  int epfd_ = -1;
  int reserve_fd_ = -1;
  Phase phase_ = Phase::kServing;
  Clock::time_point accept_until_{};  // kHandOverAccepting ends then
  // Set while accepting is paused (out of descriptors): the listener is out of the epoll set
  // until then.
  std::optional<Clock::time_point> accept_resume_;
  Clock::time_point next_sweep_{};
  std::unordered_map<int, Conn> conns_;
};

FrameServer::FrameServer(int listen_fd, FrameServerOptions options, Handler handler)
    : listen_fd_(listen_fd),
      options_(options),
      handler_(std::move(handler)),
      identifier_(options.client_identity, options.proc_root),
      shares_(options.max_connections_per_client, options.refusal_slots_per_client),
      budget_(options.max_buffered_bytes, &stats_.buffered_bytes, &stats_.buffered_bytes_peak) {
  options_.threads = Threads(options_.threads);
  shutdown_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

FrameServer::~FrameServer() {
  if (shutdown_fd_ >= 0) ::close(shutdown_fd_);
}

Status CheckMemoryBudget(const FrameServerOptions& o) {
  return MemoryBudget::CheckHolds(o.max_buffered_bytes, o.max_connections, o.max_frame_size,
                                  Threads(o.threads), o.max_reply_size);
}

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
