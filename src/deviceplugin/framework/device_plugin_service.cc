#include "deviceplugin/framework/device_plugin_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/framework/kubelet_requests.h"

namespace confcom::deviceplugin {
namespace {

// ListAndWatch writes bytes we encode ourselves (DeviceSet::Encode); Allocate and
// GetPreferredAllocation read their ID lists with the zero-copy decoders of kubelet_requests.h.
using DevicePluginBase = v1beta1::DevicePlugin::WithRawCallbackMethod_ListAndWatch<
    v1beta1::DevicePlugin::WithRawCallbackMethod_GetPreferredAllocation<
        v1beta1::DevicePlugin::WithRawCallbackMethod_Allocate<
            v1beta1::DevicePlugin::CallbackService>>>;

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
    out->set_get_preferred_allocation_available(resource_->preferred_allocator() != nullptr);
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

  grpc::ServerUnaryReactor* Allocate(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
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
      stats_->refused++;
      spdlog::warn("{} for {} refused: {}", method, resource_->name(), st.error_message());
    }
    r->Finish(st);
    return r;
  }

  grpc::Status UnknownId(const DeviceSet& set, std::string_view id) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        fmt::format("unknown device ID '{}' for {} (this node advertises {} "
                    "devices, {} IDs)",
                    Printable(id), resource_->name(), set.size(), IdSchemeName(set.layout().ids)));
  }

  grpc::Status Duplicate(const DeviceSet& set, uint64_t index, const char* where) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("device ID '{}' of {} appears more than once in {}",
                                    set.Id(index), resource_->name(), where));
  }

  // Looks `ids` up; each must be advertised and not yet marked in `seen` (which it marks).
  grpc::Status Lookup(const DeviceSet& set, const std::vector<std::string_view>& ids,
                      const char* where, std::vector<bool>* seen, std::vector<uint64_t>* out) {
    out->reserve(out->size() + ids.size());
    for (std::string_view id : ids) {
      auto index = set.Find(id);
      if (!index) return UnknownId(set, id);
      if ((*seen)[*index]) return Duplicate(set, *index, where);
      (*seen)[*index] = true;
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
    std::shared_ptr<const DeviceSet> set = hub_->Set();
    std::vector<std::vector<uint64_t>> containers(counts.size());
    for (size_t k = 0; k < counts.size(); ++k) {
      containers[k].reserve(std::min<size_t>(counts[k], set->size()));
    }
    // An ID twice (in one container or two) would count one device twice: SGX_EPC_MIB and
    // the metrics would claim EPC nobody has.
    std::vector<bool> seen(set->size(), false);
    grpc::Status unknown = grpc::Status::OK;
    (void)WalkAllocateRequest(
        wire, [](size_t) { return true; },
        [&](size_t k, std::string_view id) {
          auto index = set->Find(id);
          if (!index) {
            unknown = UnknownId(*set, id);
            return false;
          }
          if (seen[*index]) {
            unknown = Duplicate(*set, *index, "one Allocate request");
            return false;
          }
          seen[*index] = true;
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
                                            set->Id(devices[k]), resource_->name(), hub_->reason));
          }
        }
      }
      Allocation a;
      int64_t last = -2;  // devices of one node are mostly adjacent: skip repeats cheaply
      for (uint64_t i : devices) {
        int64_t n = set->NumaOf(i);
        if (n != last &&
            std::find(a.numa_nodes.begin(), a.numa_nodes.end(), n) == a.numa_nodes.end()) {
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
      for (const auto& m : config->mounts) {
        auto* mount = c->add_mounts();
        mount->set_container_path(m.container_path);
        mount->set_host_path(m.host_path);
        mount->set_read_only(m.read_only);
      }
    }
    stats_->allocations++;
    for (size_t n : counts) stats_->allocated_devices += n;
    return grpc::Status::OK;
  }

  grpc::Status Preferred(std::string_view wire, v1beta1::PreferredAllocationResponse* out) {
    auto policy = resource_->preferred_allocator();
    if (!policy) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          resource_->name() + " offers no preferred allocation");
    }
    auto req = DecodePreferredAllocationRequest(wire);
    if (!req.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, req.status().message());
    }
    if (req->size() > kMaxContainersPerAllocate) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          fmt::format("more than {} container requests in one "
                                      "GetPreferredAllocation",
                                      kMaxContainersPerAllocate));
    }
    std::shared_ptr<const DeviceSet> set = hub_->Set();
    for (const auto& creq : *req) {
      std::vector<uint64_t> available, must;
      std::vector<bool> offered(set->size(), false), required(set->size(), false);
      grpc::Status st = Lookup(*set, creq.available, "available_deviceIDs", &offered, &available);
      if (st.ok()) st = Lookup(*set, creq.must_include, "must_include_deviceIDs", &required, &must);
      if (!st.ok()) return st;
      for (uint64_t i : must) {
        if (!offered[i]) {
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              fmt::format("must_include device '{}' of {} is not in "
                                          "available_deviceIDs",
                                          set->Id(i), resource_->name()));
        }
      }
      if (creq.allocation_size < 0 || size_t(creq.allocation_size) < must.size() ||
          size_t(creq.allocation_size) > available.size()) {
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("allocation_size {} of {} is not between the {} "
                        "must_include and the {} available devices",
                        creq.allocation_size, resource_->name(), must.size(), available.size()));
      }
      const size_t size = size_t(creq.allocation_size);
      std::vector<uint64_t> chosen = policy->Prefer(*set, available, must, size);
      // The policy's answer goes to kubelet only if it keeps the protocol's promises.
      std::vector<bool> taken(set->size(), false);
      bool valid = chosen.size() == size;
      for (uint64_t i : chosen) {
        valid = valid && i < set->size() && offered[i] && !taken[i];
        if (valid) taken[i] = true;
      }
      for (uint64_t i : must) valid = valid && taken[i];
      if (!valid) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            fmt::format("the preferred-allocation policy of {} chose {} devices "
                                        "that are not {} distinct available ones",
                                        resource_->name(), chosen.size(), size));
      }
      auto* c = out->add_container_responses();
      for (uint64_t i : chosen) c->add_deviceids(set->Id(i));
    }
    return grpc::Status::OK;
  }

  std::shared_ptr<Hub> hub_;
  std::shared_ptr<Resource> resource_;
  PluginStats* stats_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeDevicePluginService(std::shared_ptr<Hub> hub,
                                                       std::shared_ptr<Resource> resource,
                                                       PluginStats* stats) {
  return std::make_unique<DevicePluginService>(std::move(hub), std::move(resource), stats);
}

}  // namespace confcom::deviceplugin
