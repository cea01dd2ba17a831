// sgx-kubelet-emulator: the kubelet side of the device plugin API, for tests and for people
// debugging a node's plugin without a kubelet.
//
// Like kubelet at start it deletes every socket in --device-plugin-dir (--keep-sockets to
// skip), then serves v1beta1.Registration on <dir>/kubelet.sock. For each Register it dials
// the plugin back exactly as kubelet does (authority "localhost", 4,194,304-byte receive
// limit, so an oversize ListAndWatch message fails here as it would there), asks
// GetDevicePluginOptions, returns, and follows ListAndWatch, printing every registration and
// every message (devices, healthy, unhealthy, topology, bytes). A new registration of the
// same resource replaces the old stream, as in kubelet. With --allocate-mib N it allocates
// N devices of --resource after the first message (asking GetPreferredAllocation first when
// the plugin offers it) and prints the container config; --allocate-ids sends exact IDs.
// --allocate-per-registration allocates again after each new registration of --resource (a
// plugin restart). List events carry "ids_hash" (all IDs and their health) and, for up to 16
// healthy devices, "healthy_ids".
// Output is text, or one JSON object per line with --json. Runs --watch-seconds (0 = until
// SIGTERM/SIGINT), or until the allocation is printed with --exit-after-allocate. Exits 1 when
// the allocation failed (allocate_error), 2 on usage errors, 0 otherwise.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <grpcpp/grpcpp.h>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/cli_main.h"
#include "common/signals.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {
namespace {

using nlohmann::json;

struct Flags {
  std::string dir;
  std::string resource = kEpcResourceName;
  uint64_t allocate_mib = 0;
  std::string allocate_ids;
  bool json = false;
  bool keep_sockets = false;
  bool exit_after_allocate = false;
  bool allocate_per_registration = false;
  double watch_seconds = 0;
};

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

class Emulator {
 public:
  explicit Emulator(Flags f) : f_(std::move(f)) {}

  void Print(const json& event) {
    std::lock_guard l(print_mu_);
    if (f_.json) {
      std::printf("%s\n", event.dump().c_str());
    } else {
      std::string line = event.value("event", "?");
      for (auto it = event.begin(); it != event.end(); ++it) {
        if (it.key() == "event") continue;
        line += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
      }
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
  }

  // The Register handler: dial back, GetDevicePluginOptions, then follow ListAndWatch.
  grpc::Status OnRegister(const v1beta1::RegisterRequest& req) {
    json ev = {{"event", "registered"}, {"resource", req.resource_name()},
               {"endpoint", req.endpoint()}, {"version", req.version()},
               {"preferred_allocation", req.options().get_preferred_allocation_available()}};
    // A plugin that restarted registers again: allocate anew from the new registration's
    // first message, as kubelet does for pods admitted after the restart.
    if (f_.allocate_per_registration && req.resource_name() == f_.resource) allocated_ = false;
    if (req.version() != kApiVersion) {
      ev["event"] = "register_refused";
      Print(ev);
      return grpc::Status(grpc::INVALID_ARGUMENT, "unsupported version " + req.version());
    }
    auto channel = Dial(req.endpoint());
    auto stub = v1beta1::DevicePlugin::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1beta1::DevicePluginOptions options;
    grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options);
    if (!st.ok()) {
      ev["event"] = "register_failed";
      ev["message"] = st.error_message();
      Print(ev);
      return grpc::Status(grpc::UNAVAILABLE, "cannot dial the plugin: " + st.error_message());
    }
    ev["n"] = ++registrations_;
    Print(ev);
    Follow(req.resource_name(), req.endpoint(), options.get_preferred_allocation_available());
    return grpc::Status::OK;
  }

  void StopAll() {
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

  bool done() const { return done_; }
  void WaitDone(std::chrono::steady_clock::time_point deadline, bool forever) {
    std::unique_lock l(done_mu_);
    if (forever) {
      done_cv_.wait(l, [&] { return done_.load(); });
    } else {
      done_cv_.wait_until(l, deadline, [&] { return done_.load(); });
    }
  }
  // Kubelet would fail the pod: the exit code says so too.
  bool allocate_failed() const { return allocate_failed_; }

  void SetDone() {
    std::lock_guard l(done_mu_);
    done_ = true;
    done_cv_.notify_all();
  }

 private:
  struct Follower {
    std::shared_ptr<grpc::ClientContext> ctx;
    std::thread thread;
  };

  std::shared_ptr<grpc::Channel> Dial(const std::string& endpoint) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(int(kKubeletMaxMessageBytes));
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
    return grpc::CreateCustomChannel("unix:" + std::filesystem::absolute(f_.dir + "/" + endpoint).string(),
                                     grpc::InsecureChannelCredentials(), args);
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
    std::thread t([this, ctx, resource, endpoint, preferred] {
      Watch(*ctx, resource, endpoint, preferred);
    });
    std::lock_guard l(mu_);
    followers_[resource] = Follower{ctx, std::move(t)};
  }

  void Watch(grpc::ClientContext& ctx, const std::string& resource, const std::string& endpoint,
             bool preferred) {
    auto channel = Dial(endpoint);
    auto stub = v1beta1::DevicePlugin::NewStub(channel);
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
      json ev = {{"event", "list"}, {"resource", resource}, {"seq", ++seq},
                 {"devices", msg.devices_size()}, {"healthy", healthy},
                 {"unhealthy", uint64_t(msg.devices_size()) - healthy}, {"with_topology", topo},
                 {"numa_nodes", nodes}, {"bytes", msg.ByteSizeLong()},
                 {"first_id", msg.devices_size() ? msg.devices(0).id() : ""},
                 {"last_id", msg.devices_size() ? msg.devices(msg.devices_size() - 1).id() : ""},
                 {"ids_hash", ids_hash}};
      if (healthy_ids.size() <= 16) ev["healthy_ids"] = healthy_ids;
      Print(ev);
      if (resource == f_.resource && !allocated_.exchange(true) &&
          (f_.allocate_mib > 0 || !f_.allocate_ids.empty())) {
        Allocate(*stub, resource, preferred, healthy_ids);
      }
    }
    grpc::Status st = reader->Finish();
    Print({{"event", "stream_ended"}, {"resource", resource}, {"code", int(st.error_code())},
           {"code_name", CodeName(st.error_code())}, {"message", st.error_message()}});
  }

  void Allocate(v1beta1::DevicePlugin::Stub& stub, const std::string& resource, bool preferred,
                const std::vector<std::string>& healthy) {
    std::vector<std::string> ids;
    bool used_preferred = false;
    json ev = {{"event", "allocate"}, {"resource", resource}};
    if (!f_.allocate_ids.empty()) {
      std::stringstream in(f_.allocate_ids);
      for (std::string id; std::getline(in, id, ',');) ids.push_back(id);
    } else if (healthy.size() < f_.allocate_mib) {
      ev["event"] = "allocate_error";
      ev["message"] = "only " + std::to_string(healthy.size()) + " healthy devices";
      allocate_failed_ = true;
      Print(ev);
      Finish();
      return;
    } else if (preferred) {
      v1beta1::PreferredAllocationRequest req;
      auto* c = req.add_container_requests();
      for (const auto& id : healthy) c->add_available_deviceids(id);
      c->set_allocation_size(int32_t(f_.allocate_mib));
      v1beta1::PreferredAllocationResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      grpc::Status st = stub.GetPreferredAllocation(&ctx, req, &resp);
      if (st.ok() && resp.container_responses_size() == 1 &&
          uint64_t(resp.container_responses(0).deviceids_size()) == f_.allocate_mib) {
        for (const auto& id : resp.container_responses(0).deviceids()) ids.push_back(id);
        used_preferred = true;
      }
    }
    if (ids.empty()) ids.assign(healthy.begin(), healthy.begin() + long(f_.allocate_mib));
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
      Print(ev);
      Finish();
      return;
    }
    json envs = json::object(), devices = json::array();
    if (resp.container_responses_size() > 0) {
      const auto& cr = resp.container_responses(0);
      std::map<std::string, std::string> sorted(cr.envs().begin(), cr.envs().end());
      for (const auto& [k, v] : sorted) envs[k] = v;
      for (const auto& d : cr.devices()) {
        devices.push_back({{"container_path", d.container_path()},
                           {"host_path", d.host_path()}, {"permissions", d.permissions()}});
      }
    }
    ev["envs"] = envs;
    ev["devices"] = devices;
    Print(ev);
    Finish();
  }

  void Finish() {
    if (f_.exit_after_allocate) SetDone();
  }

  Flags f_;
  std::mutex print_mu_, mu_;
  std::map<std::string, Follower> followers_;
  bool stopping_ = false;
  std::atomic<uint64_t> registrations_{0};
  std::atomic<bool> allocated_{false};
  std::atomic<bool> allocate_failed_{false};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::atomic<bool> done_{false};
};

class RegistrationService final : public v1beta1::Registration::Service {
 public:
  explicit RegistrationService(Emulator* e) : e_(e) {}
  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* req,
                        v1beta1::Empty*) override {
    return e_->OnRegister(*req);
  }

 private:
  Emulator* e_;
};

int Run(const Flags& f) {
  namespace fs = std::filesystem;
  sigset_t signals = BlockTerminationSignals();

  std::error_code ec;
  fs::create_directories(f.dir, ec);
  if (!f.keep_sockets) {
    // What kubelet does at start: plugins must notice and register again.
    for (fs::directory_iterator it(f.dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_socket()) fs::remove(it->path(), ec);
    }
  }
  Emulator emu(f);
  RegistrationService service(&emu);
  std::string sock = f.dir + "/" + kKubeletSocket;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + std::filesystem::absolute(sock).string(), grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "sgx-kubelet-emulator: cannot serve on %s\n", sock.c_str());
    return 1;
  }
  emu.Print({{"event", "serving"}, {"socket", sock}});

  std::thread sig_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    emu.SetDone();
  });
  emu.WaitDone(std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(int64_t(f.watch_seconds * 1000)),
               f.watch_seconds <= 0);
  pthread_kill(sig_thread.native_handle(), SIGTERM);
  sig_thread.join();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  emu.StopAll();
  server->Wait();
  ::unlink(sock.c_str());
  emu.Print({{"event", "exit"}});
  return emu.allocate_failed() ? 1 : 0;
}

}  // namespace
}  // namespace confcom::deviceplugin

int main(int argc, char** argv) {
  using namespace confcom::deviceplugin;
  Flags f;
  CLI::App app{"sgx-kubelet-emulator: kubelet's side of the device plugin API, for tests and "
               "debugging",
               "sgx-kubelet-emulator"};
  confcom::AddVersionFlag(app, "sgx-kubelet-emulator");
  app.add_option("--device-plugin-dir", f.dir, "Folder to serve kubelet.sock in")->required();
  app.add_option("--resource", f.resource, "Resource to allocate from")->capture_default_str();
  app.add_option("--allocate,--allocate-mib", f.allocate_mib,
                 "After the first ListAndWatch message of --resource, allocate this many of its "
                 "devices (MiB for the legacy EPC resource)");
  app.add_option("--allocate-ids", f.allocate_ids, "Allocate these device IDs (comma-separated)");
  app.add_flag("--exit-after-allocate", f.exit_after_allocate,
               "Exit once the allocation result is printed");
  app.add_flag("--allocate-per-registration", f.allocate_per_registration,
               "Allocate again after every new registration of --resource (a restarted plugin)");
  app.add_option("--watch-seconds", f.watch_seconds, "Run this long (0 = until SIGTERM)");
  app.add_flag("--json", f.json, "One JSON object per line");
  app.add_flag("--keep-sockets", f.keep_sockets,
               "Do not delete the sockets in the folder at start (kubelet does)");
  if (int code = confcom::ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Run(f);
}
