#include "deviceplugin/plugin_server.h"

#include <filesystem>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>

#include "common/file_util.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/api.pb.h"
#include "deviceplugin/inotify_watch.h"
#include "deviceplugin/kubelet_requests.h"

namespace confcom::deviceplugin {
namespace {

using Clock = std::chrono::steady_clock;
// How long kubelet may take to open a new stream after a registration or a stream's end.
constexpr std::chrono::milliseconds kStreamGrace{500};

struct Snapshot {
  std::shared_ptr<const std::string> bytes;
  uint64_t version = 0;
};

class ListAndWatchReactor;

// What the gRPC threads and the control thread share: the device set, the current health,
// the current encoded message, the open streams.
struct Hub {
  std::mutex mu;
  std::shared_ptr<const DeviceSet> set;
  std::vector<bool> healthy;
  std::string reason;
  Snapshot message;
  std::set<std::shared_ptr<ListAndWatchReactor>> streams;
  // Called (without locks held) when the peer ended a stream.
  std::function<void(Clock::duration lived)> on_peer_ended;
};

grpc::ByteBuffer ToByteBuffer(const std::shared_ptr<const std::string>& bytes) {
  if (bytes->empty()) {
    // A default ByteBuffer is "no message" to gRPC (an abort); an empty list is zero bytes.
    grpc::Slice empty(std::string{});
    return grpc::ByteBuffer(&empty, 1);
  }
  // The slice borrows the shared string: no copy of up to 4 MiB per stream and message.
  auto* hold = new std::shared_ptr<const std::string>(bytes);
  grpc::Slice slice(const_cast<char*>(bytes->data()), bytes->size(),
                    [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); },
                    hold);
  return grpc::ByteBuffer(&slice, 1);
}

// One ListAndWatch stream. Owned by the Hub's set (shared_ptr) until gRPC calls OnDone.
// Writes one message at a time; a newer message replaces a queued one (each message is the
// whole list, so only the latest matters). gRPC calls are made without our locks held.
class ListAndWatchReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit ListAndWatchReactor(std::shared_ptr<Hub> hub) : hub_(std::move(hub)) {}

  void Begin(const std::shared_ptr<ListAndWatchReactor>& self) {
    Snapshot first;
    {
      std::lock_guard l(hub_->mu);
      hub_->streams.insert(self);
      first = hub_->message;
    }
    Push(first);
  }

  void Push(const Snapshot& s) {
    bool start = false;
    {
      std::lock_guard l(mu_);
      if (finishing_ || s.version <= queued_version_) return;
      queued_version_ = s.version;
      pending_ = s.bytes;
      start = PrepareWriteLocked();
    }
    if (start) StartWrite(&buf_);
  }

  // Our side ends the stream (server stopping).
  void Stop() {
    bool finish = false;
    {
      std::lock_guard l(mu_);
      stop_requested_ = true;
      finish = PrepareFinishLocked();
    }
    if (finish) Finish(grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override {
    bool start = false, finish = false;
    {
      std::lock_guard l(mu_);
      writing_ = false;
      if (!ok) broken_ = true;
      if (!broken_ && !cancelled_ && !stop_requested_) start = PrepareWriteLocked();
      if (!start) finish = PrepareFinishLocked();
    }
    if (start) StartWrite(&buf_);
    if (finish) Finish(broken_ ? grpc::Status::CANCELLED : grpc::Status::OK);
  }

  void OnCancel() override {
    bool finish = false;
    {
      std::lock_guard l(mu_);
      cancelled_ = true;
      finish = PrepareFinishLocked();
    }
    if (finish) Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    bool by_peer;
    {
      std::lock_guard l(mu_);
      by_peer = !stop_requested_;
    }
    auto hub = hub_;  // `this` may be deleted by the erase below
    Clock::duration lived = Clock::now() - started_;
    {
      std::lock_guard l(hub->mu);
      for (auto it = hub->streams.begin(); it != hub->streams.end(); ++it) {
        if (it->get() == this) {
          hub->streams.erase(it);
          break;
        }
      }
    }
    if (by_peer && hub->on_peer_ended) hub->on_peer_ended(lived);
  }

 private:
  bool PrepareWriteLocked() {
    if (writing_ || finishing_ || !pending_) return false;
    writing_ = true;
    buf_ = ToByteBuffer(pending_);
    pending_.reset();
    return true;
  }
  bool PrepareFinishLocked() {
    if (writing_ || finishing_) return false;
    if (!broken_ && !cancelled_ && !stop_requested_) return false;
    finishing_ = true;
    return true;
  }

  std::shared_ptr<Hub> hub_;
  Clock::time_point started_ = Clock::now();
  std::mutex mu_;
  std::shared_ptr<const std::string> pending_;
  uint64_t queued_version_ = 0;
  grpc::ByteBuffer buf_;
  bool writing_ = false, finishing_ = false, stop_requested_ = false, cancelled_ = false,
       broken_ = false;
};

// ListAndWatch writes bytes we encode ourselves (DeviceSet::Encode); Allocate and
// GetPreferredAllocation read their ID lists with the zero-copy decoders of kubelet_requests.h.
using DevicePluginBase = v1beta1::DevicePlugin::WithRawCallbackMethod_ListAndWatch<
    v1beta1::DevicePlugin::WithRawCallbackMethod_GetPreferredAllocation<
        v1beta1::DevicePlugin::WithRawCallbackMethod_Allocate<
            v1beta1::DevicePlugin::CallbackService>>>;

// Kubelet asks for one container per Allocate; the bound keeps a request of millions of empty
// container entries from costing memory before it is refused.
constexpr size_t kMaxContainersPerAllocate = 1024;

// The bytes of a received message, flattened into one slice if gRPC split it.
bool Flatten(const grpc::ByteBuffer& buffer, grpc::Slice* slice) {
  return buffer.TrySingleSlice(slice).ok() || buffer.DumpToSingleSlice(slice).ok();
}

template <typename Message>
grpc::Status Reply(const Message& message, grpc::ByteBuffer* out) {
  bool own_buffer = false;
  return grpc::SerializationTraits<Message>::Serialize(message, out, &own_buffer);
}

// An ID as it may appear in a log line or error: printable ASCII, at most 64 characters.
std::string Printable(std::string_view id) {
  std::string out(id.substr(0, 64));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

class DevicePluginService final : public DevicePluginBase {
 public:
  DevicePluginService(std::shared_ptr<Hub> hub, std::shared_ptr<Resource> resource,
                      PluginStats* stats)
      : hub_(std::move(hub)), resource_(std::move(resource)), stats_(stats) {}

  grpc::ServerUnaryReactor* GetDevicePluginOptions(grpc::CallbackServerContext* ctx,
                                                   const v1beta1::Empty*,
                                                   v1beta1::DevicePluginOptions* out) override {
    out->set_pre_start_required(false);
    out->set_get_preferred_allocation_available(resource_->preferred_allocation());
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* ListAndWatch(grpc::CallbackServerContext*,
                                                           const grpc::ByteBuffer*) override {
    auto r = std::make_shared<ListAndWatchReactor>(hub_);
    r->Begin(r);
    return r.get();
  }

  grpc::ServerUnaryReactor* GetPreferredAllocation(grpc::CallbackServerContext* ctx,
                                                   const grpc::ByteBuffer* req,
                                                   grpc::ByteBuffer* out) override {
    return Answer<v1beta1::PreferredAllocationResponse>(
        ctx, *req, out, "GetPreferredAllocation",
        [this](std::string_view wire, auto* response) { return Preferred(wire, response); });
  }

  grpc::ServerUnaryReactor* Allocate(grpc::CallbackServerContext* ctx,
                                     const grpc::ByteBuffer* req,
                                     grpc::ByteBuffer* out) override {
    return Answer<v1beta1::AllocateResponse>(
        ctx, *req, out, "Allocate",
        [this](std::string_view wire, auto* response) { return DoAllocate(wire, response); });
  }

  grpc::ServerUnaryReactor* PreStartContainer(grpc::CallbackServerContext* ctx,
                                              const v1beta1::PreStartContainerRequest*,
                                              v1beta1::PreStartContainerResponse*) override {
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

 private:
  // Runs handle(request bytes, &response) for a raw unary method, serialises the response,
  // logs a refusal and finishes the call.
  template <typename Response, typename Handle>
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer& req,
                                   grpc::ByteBuffer* out, const char* method, Handle handle) {
    auto* r = ctx->DefaultReactor();
    grpc::Slice wire;
    grpc::Status st = Flatten(req, &wire)
                          ? grpc::Status::OK
                          : grpc::Status(grpc::StatusCode::INTERNAL, "cannot read the request");
    Response response;
    if (st.ok()) {
      st = handle(std::string_view(reinterpret_cast<const char*>(wire.begin()), wire.size()),
                  &response);
    }
    if (st.ok()) st = Reply(response, out);
    if (!st.ok()) {
      spdlog::warn("{} for {} refused: {}", method, resource_->name(), st.error_message());
    }
    r->Finish(st);
    return r;
  }

  grpc::Status UnknownId(const DeviceSet& set, std::string_view id) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("unknown device ID '{}' for {} (this node advertises {} "
                                    "devices, {} IDs)",
                                    Printable(id), resource_->name(), set.size(),
                                    IdSchemeName(set.layout().ids)));
  }

  grpc::Status Lookup(const DeviceSet& set, const std::vector<std::string_view>& ids,
                      std::vector<uint64_t>* out) {
    out->reserve(out->size() + ids.size());
    for (std::string_view id : ids) {
      auto index = set.Find(id);
      if (!index) return UnknownId(set, id);
      out->push_back(*index);
    }
    return grpc::Status::OK;
  }

  grpc::Status DoAllocate(std::string_view wire, v1beta1::AllocateResponse* out) {
    // Two walks over the request: the first checks it and counts the IDs of each container,
    // the second looks them up into vectors of exactly that size (no regrowth, no copies).
    std::vector<size_t> counts;
    Status walked = WalkAllocateRequest(
        wire,
        [&](size_t) {
          counts.push_back(0);
          return counts.size() <= kMaxContainersPerAllocate;
        },
        [&](size_t k, std::string_view) {
          ++counts[k];
          return true;
        });
    if (!walked.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, walked.message());
    if (counts.size() > kMaxContainersPerAllocate) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          fmt::format("more than {} container requests in one Allocate",
                                      kMaxContainersPerAllocate));
    }
    std::shared_ptr<const DeviceSet> set;
    {
      std::lock_guard l(hub_->mu);
      set = hub_->set;
    }
    std::vector<std::vector<uint64_t>> containers(counts.size());
    for (size_t k = 0; k < counts.size(); ++k) containers[k].reserve(counts[k]);
    grpc::Status unknown = grpc::Status::OK;
    (void)WalkAllocateRequest(
        wire, [](size_t) { return true; },
        [&](size_t k, std::string_view id) {
          auto index = set->Find(id);
          if (!index) {
            unknown = UnknownId(*set, id);
            return false;
          }
          containers[k].push_back(*index);
          return true;
        });
    if (!unknown.ok()) return unknown;
    for (auto& devices : containers) {
      if (devices.empty()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "a container request with no device IDs");
      }
      {
        std::lock_guard l(hub_->mu);
        for (size_t k = 0; k < devices.size(); ++k) {
          if (!hub_->healthy[devices[k]]) {
            return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                fmt::format("device '{}' of {} is Unhealthy: {}",
                                            set->Id(devices[k]), resource_->name(),
                                            hub_->reason));
          }
        }
      }
      Allocation a;
      int64_t last = -2;  // devices of one node are mostly adjacent: skip repeats cheaply
      for (uint64_t i : devices) {
        int64_t n = set->NumaOf(i);
        if (n != last && std::find(a.numa_nodes.begin(), a.numa_nodes.end(), n) ==
                             a.numa_nodes.end()) {
          a.numa_nodes.push_back(n);
        }
        last = n;
      }
      std::sort(a.numa_nodes.begin(), a.numa_nodes.end());
      a.devices = std::move(devices);
      auto config = resource_->Container(a);
      if (!config.ok()) {
        return grpc::Status(grpc::StatusCode::INTERNAL, config.status().ToString());
      }
      auto* c = out->add_container_responses();
      for (const auto& [k, v] : config->envs) (*c->mutable_envs())[k] = v;
      for (const auto& d : config->devices) {
        auto* spec = c->add_devices();
        spec->set_container_path(d.container_path);
        spec->set_host_path(d.host_path);
        spec->set_permissions(d.permissions);
      }
    }
    stats_->allocations++;
    for (size_t n : counts) stats_->allocated_devices += n;
    return grpc::Status::OK;
  }

  grpc::Status Preferred(std::string_view wire, v1beta1::PreferredAllocationResponse* out) {
    auto req = DecodePreferredAllocationRequest(wire);
    if (!req.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, req.status().message());
    }
    std::shared_ptr<const DeviceSet> set;
    {
      std::lock_guard l(hub_->mu);
      set = hub_->set;
    }
    for (const auto& creq : *req) {
      std::vector<uint64_t> available, must;
      grpc::Status st = Lookup(*set, creq.available, &available);
      if (st.ok()) st = Lookup(*set, creq.must_include, &must);
      if (!st.ok()) return st;
      if (creq.allocation_size < 0) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "negative allocation_size");
      }
      auto* c = out->add_container_responses();
      for (uint64_t i : PreferDevices(*set, available, must, size_t(creq.allocation_size))) {
        c->add_deviceids(set->Id(i));
      }
    }
    return grpc::Status::OK;
  }

  std::shared_ptr<Hub> hub_;
  std::shared_ptr<Resource> resource_;
  PluginStats* stats_;
};

}  // namespace

std::vector<uint64_t> PreferDevices(const DeviceSet& set, const std::vector<uint64_t>& available,
                                    const std::vector<uint64_t>& must, size_t size) {
  std::vector<uint64_t> out(must.begin(), must.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() >= size) return out;
  size_t needed = size - out.size();
  std::set<uint64_t> taken(out.begin(), out.end());
  std::map<int64_t, std::vector<uint64_t>> free;  // NUMA node -> free devices
  for (uint64_t i : available) {
    if (!taken.count(i)) free[set.NumaOf(i)].push_back(i);
  }
  for (auto& [n, v] : free) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  std::set<int64_t> must_nodes;
  for (uint64_t i : out) must_nodes.insert(set.NumaOf(i));

  auto take = [&](int64_t node, size_t n) {
    auto& v = free[node];
    n = std::min(n, v.size());
    out.insert(out.end(), v.begin(), v.begin() + long(n));
    v.erase(v.begin(), v.begin() + long(n));
    needed -= n;
  };
  // One node: the must-include node if there is exactly one, else the best fit.
  if (must_nodes.size() <= 1) {
    std::optional<int64_t> best;
    for (const auto& [node, v] : free) {
      if (!must_nodes.empty() && node != *must_nodes.begin()) continue;
      if (v.size() >= needed && (!best || v.size() < free[*best].size())) best = node;
    }
    if (best) {
      take(*best, needed);
      return out;
    }
  }
  // Fewest nodes: the must-include nodes first, then the largest free nodes.
  std::vector<int64_t> order(must_nodes.begin(), must_nodes.end());
  std::vector<int64_t> rest;
  for (const auto& [node, v] : free) {
    if (!must_nodes.count(node)) rest.push_back(node);
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [&](int64_t a, int64_t b) { return free[a].size() > free[b].size(); });
  order.insert(order.end(), rest.begin(), rest.end());
  for (int64_t node : order) {
    if (needed == 0) break;
    take(node, needed);
  }
  return out;
}

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
  std::unique_ptr<DevicePluginService> service;
  std::array<int64_t, 4> registered_kubelet{};
  Clock::time_point last_registered{};

  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  void PublishHealth(const Health& h) {
    const DeviceSet& set = *hub->set;
    std::vector<bool> healthy(set.size(), true);
    uint64_t i = 0;
    const auto& blocks = set.layout().blocks;
    for (size_t b = 0; b < blocks.size(); ++b) {
      bool ok = b < h.blocks.size() ? h.blocks[b] : true;
      for (uint64_t k = 0; k < blocks[b].count; ++k) healthy[i++] = ok;
    }
    {
      std::lock_guard l(hub->mu);
      if (hub->message.bytes && healthy == hub->healthy) return;
    }
    auto t0 = Clock::now();
    DeviceSet::Message m = set.Encode(healthy);
    auto ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::vector<std::shared_ptr<ListAndWatchReactor>> streams;
    Snapshot snap;
    {
      std::lock_guard l(hub->mu);
      hub->healthy = std::move(healthy);
      hub->reason = h.reason;
      hub->message.bytes = m.bytes;
      hub->message.version++;
      snap = hub->message;
      streams.assign(hub->streams.begin(), hub->streams.end());
    }
    stats.messages++;
    uint64_t unhealthy = m.unhealthy_listed + m.unhealthy_omitted;
    stats.healthy = m.healthy;
    stats.unhealthy = unhealthy;
    stats.message_bytes = m.bytes->size();
    if (unhealthy == 0) {
      spdlog::info("{}: ListAndWatch message v{}: {} devices, all Healthy, {} bytes ({:.1f} ms)",
                   resource->name(), snap.version, m.listed, m.bytes->size(), ms);
    } else {
      spdlog::warn("{}: ListAndWatch message v{}: {} of {} devices Unhealthy ({}), {} listed as "
                   "Unhealthy, {} left out; {} bytes of {} allowed",
                   resource->name(), snap.version, unhealthy, set.size(), h.reason,
                   m.unhealthy_listed, m.unhealthy_omitted, m.bytes->size(),
                   set.layout().limit);
    }
    for (auto& s : streams) s->Push(snap);
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
    service = std::make_unique<DevicePluginService>(hub, resource, &stats);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + std::filesystem::absolute(socket_path).string(), grpc::InsecureServerCredentials());
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
    // A subchannel of its own: gRPC otherwise shares subchannels between channels to the same
    // address, and one that failed against the previous kubelet.sock carries that failure's
    // reconnect backoff (1 s by default) into our attempts to reach the new kubelet.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(
        "unix:" + std::filesystem::absolute(kubelet_path).string(),
        grpc::InsecureChannelCredentials(), args);
    auto stub = v1beta1::Registration::NewStub(channel);
    v1beta1::RegisterRequest req;
    req.set_version(kApiVersion);
    req.set_endpoint(resource->endpoint());
    req.set_resource_name(resource->name());
    req.mutable_options()->set_pre_start_required(false);
    req.mutable_options()->set_get_preferred_allocation_available(resource->preferred_allocation());
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
    bool need_serve = true, need_register = true, health_dirty = false;
    auto now = Clock::now();
    Clock::time_point next_try = now, next_recheck = now + opt.recheck;
    Clock::duration backoff = opt.backoff_initial;
    int failures = 0;
    std::optional<Clock::time_point> stream_check;
    for (;;) {
      {
        std::lock_guard l(mu);
        if (stopping) break;
        if (register_requested) {
          register_requested = false;
          stream_check = Clock::now() + kStreamGrace;
        }
      }
      now = Clock::now();
      if (need_serve && now >= next_try) {
        Status st = Serve();
        if (st.ok()) {
          need_serve = false;
          need_register = true;
        } else {
          spdlog::error("{}: {}; retrying", resource->name(), st.ToString());
          next_try = now + backoff;
          backoff = std::min<Clock::duration>(backoff * 2, opt.backoff_max);
        }
      }
      if (!need_serve && need_register && Clock::now() >= next_try) {
        Status st = Register();
        if (st.ok()) {
          spdlog::info("{}: registered with kubelet ({} devices advertised, endpoint {})",
                       resource->name(), hub->set->size(), resource->endpoint());
          need_register = false;
          failures = 0;
          backoff = opt.backoff_initial;
        } else {
          stats.register_failures++;
          if (failures++ == 0) {
            spdlog::warn("{}: cannot register: {}; retrying with backoff up to {} ms, and at "
                         "once when kubelet.sock appears",
                         resource->name(), st.message(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(opt.backoff_max)
                             .count());
          } else {
            spdlog::debug("{}: register attempt {} failed: {}", resource->name(), failures,
                          st.message());
          }
          next_try = Clock::now() + backoff;
          backoff = std::min<Clock::duration>(backoff * 2, opt.backoff_max);
        }
      }
      // Kubelet ended a stream. If it opened another (it replaces streams when we register
      // again), all is well; if none is open after a grace period, the resource is not
      // advertised any more and only a new registration brings it back.
      if (stream_check && Clock::now() >= std::max(*stream_check, last_registered + kStreamGrace)) {
        stream_check.reset();
        bool open;
        {
          std::lock_guard l(hub->mu);
          open = !hub->streams.empty();
        }
        if (!open && !need_register && !need_serve) {
          Clock::duration wait;
          {
            std::lock_guard l(mu);
            wait = stream_backoff;
          }
          spdlog::warn("{}: kubelet ended the ListAndWatch stream and opened none: registering "
                       "again in {} ms",
                       resource->name(),
                       std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
          need_register = true;
          next_try = Clock::now() + wait;
        }
      }
      if (health_dirty) {
        health_dirty = false;
        PublishHealth(resource->CheckHealth());
      }

      now = Clock::now();
      Clock::time_point wake_at = next_recheck;
      if (need_serve || need_register) wake_at = std::min(wake_at, next_try);
      if (stream_check) {
        wake_at = std::min(wake_at, std::max(*stream_check, last_registered + kStreamGrace));
      }
      int timeout = int(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count(), 0,
          60000));
      pollfd fds[2] = {{wake_fd, POLLIN, 0}, {watch.fd(), POLLIN, 0}};
      ::poll(fds, watch.ok() ? 2 : 1, timeout);
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        [[maybe_unused]] ssize_t n = ::read(wake_fd, &v, sizeof v);
      }
      for (const auto& e : watch.Read()) {
        if (e.dir == opt.dir) {
          if (e.name == resource->endpoint() && (e.mask & (IN_DELETE | IN_MOVED_FROM))) {
            spdlog::warn("{}: our socket {} was removed (kubelet restarting?): serving again "
                         "and re-registering",
                         resource->name(), socket_path);
            need_serve = true;
            next_try = Clock::now();
            backoff = opt.backoff_initial;
          } else if (e.name == kKubeletSocket && (e.mask & (IN_CREATE | IN_MOVED_TO)) &&
                     SameKubelet()) {
            spdlog::debug("{}: {} appeared, but we are registered with it already",
                          resource->name(), kubelet_path);
          } else if (e.name == kKubeletSocket && (e.mask & (IN_CREATE | IN_MOVED_TO))) {
            spdlog::info("{}: {} appeared: registering", resource->name(), kubelet_path);
            need_register = true;
            next_try = Clock::now();
            backoff = opt.backoff_initial;
            std::lock_guard l(mu);
            stream_backoff = Clock::duration::zero();
          } else if (e.name.empty() && (e.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
            need_serve = true;
          }
        } else {
          health_dirty = true;
        }
      }
      now = Clock::now();
      if (now >= next_recheck) {
        next_recheck = now + opt.recheck;
        watch_all();
        health_dirty = true;
        if (!need_serve && !PathExists(socket_path)) {
          spdlog::warn("{}: our socket {} is gone: serving again", resource->name(),
                       socket_path);
          need_serve = true;
          next_try = now;
        }
      }
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
      stream_backoff = std::clamp<Clock::duration>(stream_backoff * 2, opt.backoff_initial,
                                                   opt.backoff_max);
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
const PluginStats& PluginServer::stats() const { return impl_->stats; }

Status PluginServer::Start() {
  Impl& m = *impl_;
  if (m.control.joinable()) return Status::Internal("already started");
  Layout plan = PlanLayout(m.resource->Inventory(), m.resource->want_topology(),
                           m.opt.max_message_bytes);
  for (const auto& w : plan.warnings) spdlog::warn("{}: {}", m.resource->name(), w);
  spdlog::info("{}: {} devices ({} IDs, topology {}, unhealthy devices {}), all-Healthy "
               "message {} bytes, limit {}",
               m.resource->name(), plan.advertised, IdSchemeName(plan.ids),
               plan.topology ? "on" : "off",
               plan.unhealthy_always_listed ? "always listed" : "left out when they do not fit",
               plan.healthy_bytes, plan.limit);
  m.hub->set = std::make_shared<const DeviceSet>(std::move(plan));
  m.hub->on_peer_ended = [impl = impl_.get()](Clock::duration lived) {
    impl->OnPeerEnded(lived);
  };
  m.PublishHealth(m.resource->CheckHealth());
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
