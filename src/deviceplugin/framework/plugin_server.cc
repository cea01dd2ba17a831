#include "deviceplugin/framework/plugin_server.h"

#include <filesystem>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <mutex>
#include <functional>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/file_util.h"
#include "deviceplugin/api.pb.h"
#include "deviceplugin/framework/device_plugin_service.h"
#include "deviceplugin/framework/health_publisher.h"
#include "deviceplugin/framework/inotify_watch.h"
#include "deviceplugin/framework/list_and_watch.h"
#include "deviceplugin/grpc_api.h"
#include "kube/kubelet_dial.h"

namespace confcom::deviceplugin {
namespace {

// How long kubelet may take to open a new stream after a registration or a stream's end.
constexpr std::chrono::milliseconds kStreamGrace{500};

}  // namespace

struct PluginServer::Impl {
  std::shared_ptr<Resource> resource;
  PluginOptions opt;
  PluginStats stats;
  std::shared_ptr<Hub> hub = std::make_shared<Hub>();
  std::string socket_path, kubelet_path;

  std::thread control;
  int wake_fd = -1;
  std::mutex mu;  // guards the fields below
  bool stopping = false;
  bool register_requested = false;
  Clock::duration stream_backoff{};
  grpc::ClientContext* register_ctx = nullptr;

  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<grpc::Service> service;
  std::array<int64_t, 4> registered_kubelet{};
  Clock::time_point last_registered{};

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  void StopServer() {
    std::vector<std::shared_ptr<ListAndWatchReactor>> streams;
    {
      std::lock_guard l(hub->mu);
      streams.assign(hub->streams.begin(), hub->streams.end());
    }
    for (auto& s : streams) s->Stop();
    if (server) {
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      server->Wait();
      server.reset();
    }
    service.reset();
  }

  Status Serve() {
    // Stop the old server before binding: its shutdown may unlink the path we bind.
    StopServer();
    ::unlink(socket_path.c_str());
    service = MakeDevicePluginService(hub, resource, &stats);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + std::filesystem::absolute(socket_path).string(),
                             grpc::InsecureServerCredentials());
    builder.RegisterService(service.get());
    server = builder.BuildAndStart();
    if (!server) {
      service.reset();
      return Status::Unavailable("cannot serve gRPC on " + socket_path);
    }
    stats.serves++;
    spdlog::info("{}: serving the device plugin API on {}", resource->name(), socket_path);
    return Status::Ok();
  }

  Status Register() {
    if (!PathExists(kubelet_path)) {
      return Status::Unavailable(kubelet_path + " does not exist (kubelet not running yet?)");
    }
    // A fresh channel each time (kube/kubelet_dial.h: with a subchannel of its own, so no
    // reconnect backoff from a previous kubelet.sock delays reaching the new one).
    auto stub = v1beta1::Registration::NewStub(kube::DialUnixSocket(kubelet_path));
    v1beta1::RegisterRequest req;
    req.set_version(kApiVersion);
    req.set_endpoint(resource->endpoint());
    req.set_resource_name(resource->name());
    req.mutable_options()->set_pre_start_required(false);
    req.mutable_options()->set_get_preferred_allocation_available(resource->preferred_allocator() !=
                                                                  nullptr);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + opt.register_timeout);
    {
      std::lock_guard l(mu);
      if (stopping) return Status::Unavailable("stopping");
      register_ctx = &ctx;
    }
    struct stat before {};
    ::stat(kubelet_path.c_str(), &before);
    v1beta1::Empty empty;
    grpc::Status st = stub->Register(&ctx, req, &empty);
    {
      std::lock_guard l(mu);
      register_ctx = nullptr;
    }
    if (!st.ok()) {
      return Status::Unavailable(fmt::format("Register with {}: {} ({})", kubelet_path,
                                             st.error_message(), int(st.error_code())));
    }
    stats.registrations++;
    registered_kubelet = Identity(before);
    last_registered = Clock::now();
    return Status::Ok();
  }

  // Whether kubelet.sock is the very socket we last registered with (an IN_CREATE for it
  // can arrive after we already registered, when kubelet started just before us).
  bool SameKubelet() {
    struct stat now {};
    if (::stat(kubelet_path.c_str(), &now) != 0) return false;
    return registered_kubelet == Identity(now);
  }
  // Inode numbers are reused at once after a delete; the change time tells sockets apart.
  static std::array<int64_t, 4> Identity(const struct stat& st) {
    return {int64_t(st.st_dev), int64_t(st.st_ino), int64_t(st.st_ctim.tv_sec),
            int64_t(st.st_ctim.tv_nsec)};
  }

  // The control loop's state: what has to happen next and when. Events (inotify, the recheck
  // timer, a stream ended by the peer) set it; the Try*/Check* steps act on it.
  struct Loop {
    bool need_serve = true, need_register = true, health_dirty = false;
    Clock::time_point next_try, next_recheck;
    Clock::duration backoff;
    int failures = 0;
    std::optional<Clock::time_point> stream_check;

    void RetryLater(const PluginOptions& o) {
      next_try = Clock::now() + backoff;
      backoff = std::min<Clock::duration>(backoff * 2, o.backoff_max);
    }
    void Now(const PluginOptions& o) {
      next_try = Clock::now();
      backoff = o.backoff_initial;
    }
  };

  Clock::time_point StreamCheckAt(const Loop& s) const {
    return std::max(*s.stream_check, last_registered + kStreamGrace);
  }

  void TryServe(Loop& s) {
    if (!s.need_serve || Clock::now() < s.next_try) return;
    Status st = Serve();
    if (st.ok()) {
      s.need_serve = false;
      s.need_register = true;
    } else {
      spdlog::error("{}: {}; retrying", resource->name(), st.ToString());
      s.RetryLater(opt);
    }
  }

  void TryRegister(Loop& s) {
    if (s.need_serve || !s.need_register || Clock::now() < s.next_try) return;
    Status st = Register();
    if (st.ok()) {
      spdlog::info("{}: registered with kubelet ({} devices advertised, endpoint {})",
                   resource->name(), hub->set->size(), resource->endpoint());
      s.need_register = false;
      s.failures = 0;
      s.backoff = opt.backoff_initial;
      return;
    }
    stats.register_failures++;
    if (s.failures++ == 0) {
      spdlog::warn(
          "{}: cannot register: {}; retrying with backoff up to {} ms, and at once "
          "when kubelet.sock appears",
          resource->name(), st.message(),
          std::chrono::duration_cast<std::chrono::milliseconds>(opt.backoff_max).count());
    } else {
      spdlog::debug("{}: register attempt {} failed: {}", resource->name(), s.failures,
                    st.message());
    }
    s.RetryLater(opt);
  }

  // Kubelet ended a stream. If it opened another (it replaces streams when we register again),
  // all is well; if none is open after a grace period, the resource is not advertised any more
  // and only a new registration brings it back.
  void CheckStreams(Loop& s) {
    if (!s.stream_check || Clock::now() < StreamCheckAt(s)) return;
    s.stream_check.reset();
    if (!hub->Streams().empty() || s.need_register || s.need_serve) return;
    Clock::duration wait;
    {
      std::lock_guard l(mu);
      wait = stream_backoff;
    }
    spdlog::warn(
        "{}: kubelet ended the ListAndWatch stream and opened none: registering "
        "again in {} ms",
        resource->name(), std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    s.need_register = true;
    s.next_try = Clock::now() + wait;
  }

  void OnDirEvent(Loop& s, const InotifyWatch::Event& e) {
    const bool created = e.mask & (IN_CREATE | IN_MOVED_TO);
    if (e.name == resource->endpoint() && (e.mask & (IN_DELETE | IN_MOVED_FROM))) {
      spdlog::warn(
          "{}: our socket {} was removed (kubelet restarting?): serving again and "
          "re-registering",
          resource->name(), socket_path);
      s.need_serve = true;
      s.Now(opt);
    } else if (e.name == kKubeletSocket && created && SameKubelet()) {
      spdlog::debug("{}: {} appeared, but we are registered with it already", resource->name(),
                    kubelet_path);
    } else if (e.name == kKubeletSocket && created) {
      spdlog::info("{}: {} appeared: registering", resource->name(), kubelet_path);
      s.need_register = true;
      s.Now(opt);
      std::lock_guard l(mu);
      stream_backoff = Clock::duration::zero();
    } else if (e.name.empty() && (e.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
      s.need_serve = true;
    }
  }

  // The safety net for lost events: re-watch, re-check health and our socket.
  void OnRecheck(Loop& s, const std::function<void()>& watch_all) {
    auto now = Clock::now();
    if (now < s.next_recheck) return;
    s.next_recheck = now + opt.recheck;
    watch_all();
    s.health_dirty = true;
    if (!s.need_serve && !PathExists(socket_path)) {
      spdlog::warn("{}: our socket {} is gone: serving again", resource->name(), socket_path);
      s.need_serve = true;
      s.next_try = now;
    }
  }

  void Run() {
    InotifyWatch watch;
    if (!watch.ok()) spdlog::warn("inotify unavailable: falling back to periodic checks");
    auto watch_all = [&] {
      if (!watch.Watching(opt.dir)) (void)watch.Add(opt.dir);
      for (const auto& d : resource->WatchDirs()) {
        if (!watch.Watching(d)) (void)watch.Add(d);
      }
    };
    watch_all();
    Loop s;
    s.next_try = Clock::now();
    s.next_recheck = s.next_try + opt.recheck;
    s.backoff = opt.backoff_initial;
    for (;;) {
      {
        std::lock_guard l(mu);
        if (stopping) break;
        if (register_requested) {
          register_requested = false;
          s.stream_check = Clock::now() + kStreamGrace;
        }
      }
      TryServe(s);
      TryRegister(s);
      CheckStreams(s);
      if (s.health_dirty) {
        s.health_dirty = false;
        PublishHealth(*hub, resource->name(), resource->CheckHealth(), stats);
      }

      auto now = Clock::now();
      Clock::time_point wake_at = s.next_recheck;
      if (s.need_serve || s.need_register) wake_at = std::min(wake_at, s.next_try);
      if (s.stream_check) wake_at = std::min(wake_at, StreamCheckAt(s));
      int timeout = int(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count(), 0, 60000));
      pollfd fds[2] = {{wake_fd, POLLIN, 0}, {watch.fd(), POLLIN, 0}};
      ::poll(fds, watch.ok() ? 2 : 1, timeout);
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        [[maybe_unused]] ssize_t n = ::read(wake_fd, &v, sizeof v);
      }
      for (const auto& e : watch.Read()) {
        if (e.dir == opt.dir) {
          OnDirEvent(s, e);
        } else {
          s.health_dirty = true;
        }
      }
      OnRecheck(s, watch_all);
      if (!watch.Watching(opt.dir) && MakeDirs(opt.dir, 0755).ok()) watch_all();
    }
  }

  void OnPeerEnded(Clock::duration lived) {
    std::lock_guard l(mu);
    if (stopping) return;
    // A stream kubelet keeps for long is normal; one it drops at once repeatedly is not:
    // back off so that a misbehaving peer does not make us register in a tight loop.
    if (lived > std::chrono::seconds(10)) {
      stream_backoff = Clock::duration::zero();
    } else {
      stream_backoff =
          std::clamp<Clock::duration>(stream_backoff * 2, opt.backoff_initial, opt.backoff_max);
    }
    spdlog::info("{}: the peer ended a ListAndWatch stream", resource->name());
    register_requested = true;
    Wake();
  }
};

PluginServer::PluginServer(std::shared_ptr<Resource> resource, PluginOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->resource = std::move(resource);
  impl_->opt = std::move(options);
  impl_->socket_path = impl_->opt.dir + "/" + impl_->resource->endpoint();
  impl_->kubelet_path = impl_->opt.dir + "/" + kKubeletSocket;
}

PluginServer::~PluginServer() { Stop(); }

const DeviceSet& PluginServer::devices() const { return *impl_->hub->set; }
std::string PluginServer::resource_name() const { return impl_->resource->name(); }
const PluginStats& PluginServer::stats() const { return impl_->stats; }

Status PluginServer::Start() {
  Impl& m = *impl_;
  if (m.control.joinable()) return Status::Internal("already started");
  Layout plan = PlanLayout(m.resource->Inventory(), m.resource->want_topology(),
                           m.opt.max_message_bytes, m.resource->id_prefix());
  for (const auto& w : plan.warnings) spdlog::warn("{}: {}", m.resource->name(), w);
  spdlog::info(
      "{}: {} devices ({} IDs, topology {}, unhealthy devices {}), all-Healthy "
      "message {} bytes, limit {}",
      m.resource->name(), plan.advertised, IdSchemeName(plan.ids), plan.topology ? "on" : "off",
      plan.unhealthy_always_listed ? "always listed" : "left out when they do not fit",
      plan.healthy_bytes, plan.limit);
  m.hub->set = std::make_shared<const DeviceSet>(std::move(plan));
  m.hub->on_peer_ended = [impl = impl_.get()](Clock::duration lived) { impl->OnPeerEnded(lived); };
  PublishHealth(*m.hub, m.resource->name(), m.resource->CheckHealth(), m.stats);
  CONFCOM_RETURN_IF_ERROR(MakeDirs(m.opt.dir, 0755));
  m.wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (m.wake_fd < 0) return Status::FromErrno("eventfd", errno);
  m.control = std::thread([&m] { m.Run(); });
  return Status::Ok();
}

void PluginServer::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard l(m.mu);
    if (m.stopping) return;
    m.stopping = true;
    if (m.register_ctx) m.register_ctx->TryCancel();
  }
  if (m.wake_fd >= 0) m.Wake();
  if (m.control.joinable()) m.control.join();
  m.StopServer();
  if (m.wake_fd >= 0) {
    ::unlink(m.socket_path.c_str());
    ::close(m.wake_fd);
    m.wake_fd = -1;
  }
  m.hub->on_peer_ended = nullptr;
}

}  // namespace confcom::deviceplugin
