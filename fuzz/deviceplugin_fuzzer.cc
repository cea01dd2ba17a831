// deviceplugin_fuzzer: what kubelet sends the EPC device plugin in Allocate and
// GetPreferredAllocation.
//
// The gRPC handlers (DoAllocate / Preferred in plugin_server.cc) sit in an anonymous namespace
// and are reachable only through a served gRPC socket, so this target fuzzes what they are made
// of, in the same order:
//   1. the zero-copy decoders the handlers use (DecodeAllocateRequest,
//      DecodePreferredAllocationRequest), checked against protobuf's generated parser on every
//      input (each input is decoded as both requests: the wire formats overlap);
//   2. ID lookup: DeviceSet::Find (ParseDeviceId, decimal and compact schemes);
//   3. Allocate: health check, NUMA nodes, EpcResource::Container (simulated, and on a fake host
//      root with /dev/sgx_enclave and the /dev/sgx/enclave symlink), the AllocateResponse;
//   4. GetPreferredAllocation: PreferDevices, IDs of the result.
// Device sets (PlanLayout, made once): 2 NUMA nodes x 1024 MiB (decimal IDs, topology);
// 2 x 256 GiB (compact IDs, and a degraded plan), the second node unhealthy; one node of
// unknown NUMA, 4096 MiB.
//
// Invariants checked:
//  - the decoders agree with protobuf: where protobuf parses, they return the same containers,
//    IDs and sizes; where only they succeed, some ID is invalid UTF-8 (the one documented
//    difference);
//  - ID parsing is canonical: Find(id) = i implies Id(i) == id; ParseDeviceId inverts DeviceId;
//  - an Allocate the handler would accept yields SGX_EPC_MIB = number of IDs and
//    SGX_EPC_NUMA_NODES = exactly the devices' nodes; the response round-trips through protobuf;
//  - PreferDevices returns distinct devices, all of must_include, the rest from available,
//    exactly min(size, |available u must|) of them (never fewer than must), and keeps to one
//    NUMA node whenever must_include is empty and one node has enough free devices.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/stubs/logging.h>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/framework/kubelet_requests.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/framework/resource.h"
#include "deviceplugin/sgx/legacy_resources.h"
#include "fuzz_util.h"

namespace {

using namespace confcom;
using namespace confcom::deviceplugin;

struct Fixture {
  std::unique_ptr<DeviceSet> set;
  std::vector<bool> healthy;
  std::shared_ptr<Resource> resource;
};

fuzz::TempDir* g_root = nullptr;
std::vector<Fixture>* g_fixtures = nullptr;

Fixture Make(std::map<int64_t, uint64_t> epc_mib, bool simulation, bool second_unhealthy) {
  SgxDiscovery d;
  for (auto [numa, mib] : epc_mib) d.epc_bytes[numa] = mib << 20;
  d.epc_source = "override";
  Fixture f;
  SgxResourceOptions o;
  o.host_root = simulation ? "/nonexistent" : g_root->path();
  o.simulation = simulation;
  f.resource = MakeEpcResource(d, o);
  f.set =
      std::make_unique<DeviceSet>(PlanLayout(f.resource->Inventory(), f.resource->want_topology()));
  f.healthy.assign(f.set->size(), true);
  if (second_unhealthy && f.set->layout().blocks.size() > 1) {
    uint64_t first = f.set->layout().blocks[0].count;
    std::fill(f.healthy.begin() + long(first), f.healthy.end(), false);
  }
  return f;
}

void CheckId(IdScheme scheme, const std::string& id) {
  auto v = ParseDeviceId(scheme, id);
  if (!v) return;
  FUZZ_CHECK(DeviceId(scheme, *v) == id, std::string(IdSchemeName(scheme)) + " ID '" + id +
                                             "' is not canonical (index " + std::to_string(*v) +
                                             ")");
}

// Mirrors Lookup(): all IDs known, or the call fails.
template <typename Ids>
bool Lookup(const DeviceSet& set, const Ids& ids, std::vector<uint64_t>* out) {
  for (const std::string& id : ids) {
    CheckId(IdScheme::kDecimal, id);
    CheckId(IdScheme::kCompact, id);
    auto index = set.Find(id);
    if (!index) return false;
    FUZZ_CHECK(*index < set.size(), "Find returned an index past the set");
    FUZZ_CHECK(set.Id(*index) == id, "Find('" + id + "') = " + std::to_string(*index) +
                                         " whose ID is '" + set.Id(*index) + "'");
    out->push_back(*index);
  }
  return true;
}

// Mirrors DoAllocate().
void Allocate(const Fixture& f, const v1beta1::AllocateRequest& req) {
  v1beta1::AllocateResponse out;
  std::set<uint64_t> seen;  // an ID twice in one call is refused (INVALID_ARGUMENT)
  for (const auto& creq : req.container_requests()) {
    std::vector<uint64_t> devices;
    if (!Lookup(*f.set, creq.devices_ids(), &devices) || devices.empty()) return;
    for (uint64_t i : devices) {
      if (!seen.insert(i).second) return;
    }
    for (uint64_t i : devices) {
      if (!f.healthy[i]) return;  // FAILED_PRECONDITION
    }
    Allocation a;
    for (uint64_t i : devices) a.numa_nodes.push_back(f.set->NumaOf(i));
    std::sort(a.numa_nodes.begin(), a.numa_nodes.end());
    a.numa_nodes.erase(std::unique(a.numa_nodes.begin(), a.numa_nodes.end()), a.numa_nodes.end());
    a.devices = std::move(devices);
    auto config = f.resource->Container(a);
    FUZZ_CHECK(config.ok(),
               "Container() failed on a host with an enclave node: " + config.status().ToString());
    auto mib = config->envs.find("SGX_EPC_MIB");
    FUZZ_CHECK(mib != config->envs.end() && mib->second == std::to_string(a.devices.size()),
               "SGX_EPC_MIB is not the number of devices");
    std::string nodes;
    bool known = true;
    for (int64_t n : a.numa_nodes) {
      known = known && n >= 0;
      nodes += (nodes.empty() ? "" : ",") + std::to_string(n);
    }
    auto env = config->envs.find("SGX_EPC_NUMA_NODES");
    if (known) {
      FUZZ_CHECK(env != config->envs.end() && env->second == nodes,
                 "SGX_EPC_NUMA_NODES is not " + nodes);
    } else {
      FUZZ_CHECK(env == config->envs.end(), "SGX_EPC_NUMA_NODES with an unknown node");
    }
    auto* c = out.add_container_responses();
    for (const auto& [k, v] : config->envs) (*c->mutable_envs())[k] = v;
    for (const auto& d : config->devices) {
      FUZZ_CHECK(d.container_path.rfind("/dev/", 0) == 0 && d.host_path.rfind("/dev/", 0) == 0,
                 "device spec outside /dev: " + d.host_path);
      auto* spec = c->add_devices();
      spec->set_container_path(d.container_path);
      spec->set_host_path(d.host_path);
      spec->set_permissions(d.permissions);
    }
  }
  // Map order on the wire is unspecified: compare the parsed contents.
  std::string wire = out.SerializeAsString();
  v1beta1::AllocateResponse back;
  FUZZ_CHECK(back.ParseFromString(wire), "AllocateResponse does not parse back");
  FUZZ_CHECK(back.container_responses_size() == out.container_responses_size(),
             "AllocateResponse loses containers");
  for (int i = 0; i < out.container_responses_size(); ++i) {
    const auto& x = out.container_responses(i);
    const auto& y = back.container_responses(i);
    using Env = std::map<std::string, std::string>;
    FUZZ_CHECK(Env(x.envs().begin(), x.envs().end()) == Env(y.envs().begin(), y.envs().end()),
               "AllocateResponse envs change in a round trip");
    FUZZ_CHECK(x.devices_size() == y.devices_size(), "AllocateResponse devices change");
  }
}

// Mirrors Preferred(), and checks PreferDevices' contract.
void Prefer(const Fixture& f, const v1beta1::PreferredAllocationRequest& req) {
  for (const auto& creq : req.container_requests()) {
    std::vector<uint64_t> available, must;
    if (!Lookup(*f.set, creq.available_deviceids(), &available)) return;
    if (!Lookup(*f.set, creq.must_include_deviceids(), &must)) return;
    if (creq.allocation_size() < 0) return;  // INVALID_ARGUMENT
    size_t size = size_t(creq.allocation_size());
    std::vector<uint64_t> got = PreferDevices(*f.set, available, must, size);

    std::set<uint64_t> got_set(got.begin(), got.end());
    std::set<uint64_t> must_set(must.begin(), must.end());
    std::set<uint64_t> pool(available.begin(), available.end());
    pool.insert(must_set.begin(), must_set.end());
    FUZZ_CHECK(got_set.size() == got.size(), "preferred devices repeat");
    FUZZ_CHECK(std::includes(got_set.begin(), got_set.end(), must_set.begin(), must_set.end()),
               "preferred devices miss a must-include device");
    FUZZ_CHECK(std::includes(pool.begin(), pool.end(), got_set.begin(), got_set.end()),
               "preferred a device neither available nor must-include");
    size_t want = std::max(must_set.size(), std::min(size, pool.size()));
    FUZZ_CHECK(got.size() == want, "preferred " + std::to_string(got.size()) + " devices, want " +
                                       std::to_string(want));
    if (must_set.empty() && !got.empty()) {
      std::map<int64_t, size_t> free;
      for (uint64_t i : pool) free[f.set->NumaOf(i)]++;
      bool one_fits =
          std::any_of(free.begin(), free.end(), [&](const auto& kv) { return kv.second >= size; });
      std::set<int64_t> used;
      for (uint64_t i : got) used.insert(f.set->NumaOf(i));
      FUZZ_CHECK(!one_fits || used.size() == 1,
                 "a request one NUMA node can hold is spread over " + std::to_string(used.size()));
    }
    v1beta1::PreferredAllocationResponse out;
    auto* c = out.add_container_responses();
    for (uint64_t i : got) c->add_deviceids(f.set->Id(i));
    FUZZ_CHECK(size_t(c->deviceids_size()) == got.size(), "response size");
  }
}

bool Same(const std::vector<std::string_view>& ours,
          const google::protobuf::RepeatedPtrField<std::string>& theirs) {
  return std::equal(ours.begin(), ours.end(), theirs.begin(), theirs.end());
}

bool AnyInvalidUtf8(const std::vector<std::string_view>& ids) {
  return std::any_of(ids.begin(), ids.end(), [](std::string_view id) {
    return !google::protobuf::internal::IsStructurallyValidUTF8(id.data(), int(id.size()));
  });
}

// The decoders against the generated parser, on the same bytes.
void CheckDecoders(std::string_view wire, bool alloc_parsed, const v1beta1::AllocateRequest& alloc,
                   bool pref_parsed, const v1beta1::PreferredAllocationRequest& pref) {
  auto a = DecodeAllocateRequest(wire);
  if (alloc_parsed) {
    FUZZ_CHECK(a.ok(),
               "protobuf parses an AllocateRequest the decoder refuses: " + a.status().ToString());
    FUZZ_CHECK(a->size() == size_t(alloc.container_requests_size()), "container count differs");
    for (size_t k = 0; k < a->size(); ++k) {
      FUZZ_CHECK(Same((*a)[k], alloc.container_requests(int(k)).devices_ids()),
                 "devices_ids differ from protobuf's in container " + std::to_string(k));
    }
  } else if (a.ok()) {
    FUZZ_CHECK(std::any_of(a->begin(), a->end(), AnyInvalidUtf8),
               "the decoder accepts an AllocateRequest protobuf refuses, with valid UTF-8");
  }
  auto p = DecodePreferredAllocationRequest(wire);
  if (pref_parsed) {
    FUZZ_CHECK(p.ok(), "protobuf parses a PreferredAllocationRequest the decoder refuses: " +
                           p.status().ToString());
    FUZZ_CHECK(p->size() == size_t(pref.container_requests_size()), "container count differs");
    for (size_t k = 0; k < p->size(); ++k) {
      const auto& theirs = pref.container_requests(int(k));
      FUZZ_CHECK(Same((*p)[k].available, theirs.available_deviceids()) &&
                     Same((*p)[k].must_include, theirs.must_include_deviceids()) &&
                     (*p)[k].allocation_size == theirs.allocation_size(),
                 "preferred request differs from protobuf's in container " + std::to_string(k));
    }
  } else if (p.ok()) {
    FUZZ_CHECK(std::any_of(p->begin(), p->end(),
                           [](const PreferredIds& c) {
                             return AnyInvalidUtf8(c.available) || AnyInvalidUtf8(c.must_include);
                           }),
               "the decoder accepts a PreferredAllocationRequest protobuf refuses, with valid "
               "UTF-8");
  }
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  // Invalid UTF-8 in a proto3 string fails the parse, with a log line each time: keep quiet.
  google::protobuf::SetLogHandler(nullptr);
  g_root = new fuzz::TempDir();
  namespace fs = std::filesystem;
  fs::create_directories(g_root->File("dev/sgx"));
  Write(g_root->File("dev/sgx_enclave"), "");
  Write(g_root->File("dev/sgx_provision"), "");
  fs::create_symlink("../sgx_enclave", g_root->File("dev/sgx/enclave"));

  g_fixtures = new std::vector<Fixture>();
  g_fixtures->push_back(Make({{0, 1024}, {1, 1024}}, false, false));
  g_fixtures->push_back(Make({{0, 262144}, {1, 262144}}, true, true));
  g_fixtures->push_back(Make({{-1, 4096}}, true, false));
  std::atexit([] {
    delete g_fixtures;
    delete g_root;
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1beta1::AllocateRequest alloc;
  v1beta1::PreferredAllocationRequest pref;
  bool a = alloc.ParseFromArray(data, int(size));
  bool p = pref.ParseFromArray(data, int(size));
  CheckDecoders({reinterpret_cast<const char*>(data), size}, a, alloc, p, pref);
  for (const Fixture& f : *g_fixtures) {
    if (a) Allocate(f, alloc);
    if (p) Prefer(f, pref);
  }
  return 0;
}
