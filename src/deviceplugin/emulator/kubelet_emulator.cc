#include "deviceplugin/emulator/kubelet_emulator.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <grpcpp/grpcpp.h>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/grpc_api.h"
#include "kube/kubelet_dial.h"

namespace confcom::deviceplugin {
namespace {

using nlohmann::json;

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    default: return "OTHER";
  }
}

}  // namespace

class KubeletEmulator::Impl final : public v1beta1::Registration::Service {
 public:
  Impl(KubeletEmulatorOptions o, std::function<void(const json&)> on_event)
      : opt_(std::move(o)), on_event_(std::move(on_event)) {}

  void Report(const json& event) {
    std::lock_guard l(report_mu_);
    on_event_(event);
  }

  // The Register handler: dial back, GetDevicePluginOptions, then follow ListAndWatch.
  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* request,
                        v1beta1::Empty*) override {
    const v1beta1::RegisterRequest& req = *request;
    json ev = {{"event", "registered"},
               {"resource", req.resource_name()},
               {"endpoint", req.endpoint()},
               {"version", req.version()},
               {"preferred_allocation", req.options().get_preferred_allocation_available()}};
    // A plugin that restarted registers again: allocate anew from the new registration's
    // first message, as kubelet does for pods admitted after the restart.
    if (opt_.allocate_per_registration && req.resource_name() == opt_.resource) allocated_ = false;
    if (req.version() != kApiVersion) {
      ev["event"] = "register_refused";
      Report(ev);
      return grpc::Status(grpc::INVALID_ARGUMENT, "unsupported version " + req.version());
    }
    auto stub = v1beta1::DevicePlugin::NewStub(Dial(req.endpoint()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1beta1::DevicePluginOptions options;
    grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options);
    if (!st.ok()) {
      ev["event"] = "register_failed";
      ev["message"] = st.error_message();
      Report(ev);
      return grpc::Status(grpc::UNAVAILABLE, "cannot dial the plugin: " + st.error_message());
    }
    ev["n"] = ++registrations_;
    Report(ev);
    Follow(req.resource_name(), req.endpoint(), options.get_preferred_allocation_available());
    return grpc::Status::OK;
  }

  Status Start() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(opt_.dir, ec);
    if (!opt_.keep_sockets) {
      // What kubelet does at start: plugins must notice and register again.
      for (fs::directory_iterator it(opt_.dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_socket()) fs::remove(it->path(), ec);
      }
    }
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + fs::absolute(socket_path()).string(),
                             grpc::InsecureServerCredentials());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (!server_) return Status::Unavailable("cannot serve on " + socket_path());
    Report({{"event", "serving"}, {"socket", socket_path()}});
    return Status::Ok();
  }

  void Stop() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    StopFollowers();
    server_->Wait();
    server_.reset();
    ::unlink(socket_path().c_str());
  }

  bool Wait(std::chrono::milliseconds timeout, bool until_allocated) {
    std::unique_lock l(wait_mu_);
    auto done = [&] { return interrupted_ || (until_allocated && allocation_reported_); };
    if (timeout.count() <= 0) {
      wait_cv_.wait(l, done);
    } else {
      wait_cv_.wait_for(l, timeout, done);
    }
    return allocation_reported_;
  }

  void Interrupt() {
    std::lock_guard l(wait_mu_);
    interrupted_ = true;
    wait_cv_.notify_all();
  }

  bool allocate_failed() const { return allocate_failed_; }
  std::string socket_path() const { return opt_.dir + "/" + kKubeletSocket; }

 private:
  struct Follower {
    std::shared_ptr<grpc::ClientContext> ctx;
    std::thread thread;
  };

  std::shared_ptr<grpc::Channel> Dial(const std::string& endpoint) {
    return kube::DialUnixSocket(opt_.dir + "/" + endpoint, int(kKubeletMaxMessageBytes));
  }

  void StopFollowers() {
    std::map<std::string, Follower> all;
    {
      std::lock_guard l(mu_);
      stopping_ = true;
      all.swap(followers_);
    }
    for (auto& [name, f] : all) {
      f.ctx->TryCancel();
      f.thread.join();
    }
  }

  void Follow(const std::string& resource, const std::string& endpoint, bool preferred) {
    Follower old;
    {
      std::lock_guard l(mu_);
      if (stopping_) return;
      auto it = followers_.find(resource);
      if (it != followers_.end()) {
        old = std::move(it->second);
        followers_.erase(it);
      }
    }
    if (old.ctx) {
      old.ctx->TryCancel();
      old.thread.join();
    }
    auto ctx = std::make_shared<grpc::ClientContext>();
    std::thread t(
        [this, ctx, resource, endpoint, preferred] { Watch(*ctx, resource, endpoint, preferred); });
    std::lock_guard l(mu_);
    followers_[resource] = Follower{ctx, std::move(t)};
  }

  void Watch(grpc::ClientContext& ctx, const std::string& resource, const std::string& endpoint,
             bool preferred) {
    auto stub = v1beta1::DevicePlugin::NewStub(Dial(endpoint));
    auto reader = stub->ListAndWatch(&ctx, v1beta1::Empty());
    v1beta1::ListAndWatchResponse msg;
    uint64_t seq = 0;
    while (reader->Read(&msg)) {
      uint64_t healthy = 0, topo = 0;
      std::set<int64_t> nodes;
      std::vector<std::string> healthy_ids;
      // Every ID with its health, hashed: tells whether two messages advertise the same devices.
      std::string all;
      for (const auto& d : msg.devices()) all += d.id() + (d.health() == "Healthy" ? "+," : "-,");
      char ids_hash[17];
      std::snprintf(ids_hash, sizeof ids_hash, "%016zx", std::hash<std::string>{}(all));
      for (const auto& d : msg.devices()) {
        if (d.health() == "Healthy") {
          ++healthy;
          healthy_ids.push_back(d.id());
        }
        if (d.has_topology()) {
          ++topo;
          for (const auto& n : d.topology().nodes()) nodes.insert(n.id());
        }
      }
      json ev = {{"event", "list"},
                 {"resource", resource},
                 {"seq", ++seq},
                 {"devices", msg.devices_size()},
                 {"healthy", healthy},
                 {"unhealthy", uint64_t(msg.devices_size()) - healthy},
                 {"with_topology", topo},
                 {"numa_nodes", nodes},
                 {"bytes", msg.ByteSizeLong()},
                 {"first_id", msg.devices_size() ? msg.devices(0).id() : ""},
                 {"last_id", msg.devices_size() ? msg.devices(msg.devices_size() - 1).id() : ""},
                 {"ids_hash", ids_hash}};
      if (healthy_ids.size() <= 16) ev["healthy_ids"] = healthy_ids;
      Report(ev);
      if (resource == opt_.resource && !allocated_.exchange(true) &&
          (opt_.allocate_count > 0 || !opt_.allocate_ids.empty())) {
        Allocate(*stub, resource, preferred, healthy_ids);
      }
    }
    grpc::Status st = reader->Finish();
    Report({{"event", "stream_ended"},
            {"resource", resource},
            {"code", int(st.error_code())},
            {"code_name", CodeName(st.error_code())},
            {"message", st.error_message()}});
  }

  void Allocate(v1beta1::DevicePlugin::Stub& stub, const std::string& resource, bool preferred,
                const std::vector<std::string>& healthy) {
    std::vector<std::string> ids;
    bool used_preferred = false;
    json ev = {{"event", "allocate"}, {"resource", resource}};
    if (!opt_.allocate_ids.empty()) {
      ids = opt_.allocate_ids;
    } else if (healthy.size() < opt_.allocate_count) {
      ev["event"] = "allocate_error";
      ev["message"] = "only " + std::to_string(healthy.size()) + " healthy devices";
      allocate_failed_ = true;
      ReportAllocation(ev);
      return;
    } else if (preferred) {
      v1beta1::PreferredAllocationRequest req;
      auto* c = req.add_container_requests();
      for (const auto& id : healthy) c->add_available_deviceids(id);
      c->set_allocation_size(int32_t(opt_.allocate_count));
      v1beta1::PreferredAllocationResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      grpc::Status st = stub.GetPreferredAllocation(&ctx, req, &resp);
      if (st.ok() && resp.container_responses_size() == 1 &&
          uint64_t(resp.container_responses(0).deviceids_size()) == opt_.allocate_count) {
        for (const auto& id : resp.container_responses(0).deviceids()) ids.push_back(id);
        used_preferred = true;
      }
    }
    if (ids.empty()) ids.assign(healthy.begin(), healthy.begin() + long(opt_.allocate_count));
    v1beta1::AllocateRequest req;
    auto* c = req.add_container_requests();
    for (const auto& id : ids) c->add_devices_ids(id);
    v1beta1::AllocateResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status st = stub.Allocate(&ctx, req, &resp);
    ev["devices_requested"] = ids.size();
    if (ids.size() <= 16) ev["ids"] = ids;
    ev["preferred_allocation_used"] = used_preferred;
    if (!st.ok()) {
      ev["event"] = "allocate_error";
      ev["code"] = int(st.error_code());
      ev["code_name"] = CodeName(st.error_code());
      ev["message"] = st.error_message();
      allocate_failed_ = true;
      ReportAllocation(ev);
      return;
    }
    json envs = json::object(), devices = json::array(), mounts = json::array();
    if (resp.container_responses_size() > 0) {
      const auto& cr = resp.container_responses(0);
      std::map<std::string, std::string> sorted(cr.envs().begin(), cr.envs().end());
      for (const auto& [k, v] : sorted) envs[k] = v;
      for (const auto& d : cr.devices()) {
        devices.push_back({{"container_path", d.container_path()},
                           {"host_path", d.host_path()},
                           {"permissions", d.permissions()}});
      }
      for (const auto& m : cr.mounts()) {
        mounts.push_back({{"container_path", m.container_path()},
                          {"host_path", m.host_path()},
                          {"read_only", m.read_only()}});
      }
    }
    ev["envs"] = envs;
    ev["devices"] = devices;
    ev["mounts"] = mounts;
    ReportAllocation(ev);
  }

  // Marks the allocation reported before the event goes out: whoever sees the event also
  // sees Wait() return true.
  void ReportAllocation(const json& ev) {
    {
      std::lock_guard l(wait_mu_);
      allocation_reported_ = true;
    }
    Report(ev);
    wait_cv_.notify_all();
  }

  KubeletEmulatorOptions opt_;
  std::function<void(const json&)> on_event_;
  std::unique_ptr<grpc::Server> server_;
  std::mutex report_mu_, mu_;
  std::map<std::string, Follower> followers_;  // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::atomic<uint64_t> registrations_{0};
  std::atomic<bool> allocated_{false};
  std::atomic<bool> allocate_failed_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  bool interrupted_ = false, allocation_reported_ = false;  // guarded by wait_mu_
};

KubeletEmulator::KubeletEmulator(KubeletEmulatorOptions options,
                                 std::function<void(const nlohmann::json&)> on_event)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(on_event))) {}
KubeletEmulator::~KubeletEmulator() { Stop(); }
Status KubeletEmulator::Start() { return impl_->Start(); }
void KubeletEmulator::Stop() { impl_->Stop(); }
bool KubeletEmulator::Wait(std::chrono::milliseconds timeout, bool until_allocated) {
  return impl_->Wait(timeout, until_allocated);
}
void KubeletEmulator::Interrupt() { impl_->Interrupt(); }
bool KubeletEmulator::allocate_failed() const { return impl_->allocate_failed(); }
std::string KubeletEmulator::socket_path() const { return impl_->socket_path(); }

}  // namespace confcom::deviceplugin
