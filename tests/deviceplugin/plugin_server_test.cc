// The generic PluginServer in-process with a fake Resource, over its real UNIX socket: what
// the framework itself promises, independent of SGX. Not in the TSan run: Debian's gRPC is not
// built for TSan, whose reports on gRPC's internal handoffs would drown ours (sanitizers.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <grpcpp/grpcpp.h>
#include <mutex>
#include <thread>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/grpc_api.h"
#include "kube/kubelet_dial.h"
#include "testing/test_util.h"

namespace confcom::deviceplugin {
namespace {

using namespace std::chrono_literals;
using confcom::testing::TempDir;

// A policy that returns what the test tells it, to check the server's checks of its answer.
class ScriptedPolicy final : public PreferredAllocator {
 public:
  std::vector<uint64_t> Prefer(const DeviceSet& set, const std::vector<uint64_t>& available,
                               const std::vector<uint64_t>& must, size_t size) const override {
    std::lock_guard l(mu);
    calls++;
    if (!answer.empty()) return answer;
    return PreferDevices(set, available, must, size);
  }
  mutable std::mutex mu;
  mutable int calls = 0;
  std::vector<uint64_t> answer;
};

class FakeResource final : public Resource {
 public:
  explicit FakeResource(std::string watch_dir, bool with_policy)
      : watch_dir_(std::move(watch_dir)) {
    if (with_policy) policy_ = std::make_shared<ScriptedPolicy>();
  }
  std::string name() const override { return "example.com/widget"; }
  std::string endpoint() const override { return "widget.sock"; }
  std::string id_prefix() const override { return "w-"; }
  std::vector<DeviceBlock> Inventory() const override { return {{0, 3}, {1, 2}}; }
  bool want_topology() const override { return true; }
  std::shared_ptr<const PreferredAllocator> preferred_allocator() const override { return policy_; }
  std::vector<std::string> WatchDirs() const override { return {watch_dir_}; }
  Health CheckHealth() const override {
    Health h;
    bool ok = !std::filesystem::exists(watch_dir_ + "/broken");
    h.blocks = {true, ok};
    if (!ok) h.reason = "block 1 broken";
    return h;
  }
  Result<ContainerConfig> Container(const Allocation& a) const override {
    std::lock_guard l(mu_);
    last_ = a;
    ContainerConfig c;
    c.envs["WIDGETS"] = std::to_string(a.devices.size());
    c.devices.push_back({"/dev/widget", "/dev/widget0", "rw"});
    return c;
  }
  Allocation last() const {
    std::lock_guard l(mu_);
    return last_;
  }
  ScriptedPolicy* policy() { return policy_.get(); }

 private:
  std::string watch_dir_;
  std::shared_ptr<ScriptedPolicy> policy_;
  mutable std::mutex mu_;
  mutable Allocation last_;
};

class DevicePluginServerTest : public ::testing::Test {
 protected:
  void StartServer(bool with_policy) {
    std::filesystem::create_directories(dir_.path() + "/watched");
    resource_ = std::make_shared<FakeResource>(dir_.path() + "/watched", with_policy);
    PluginOptions o;
    o.dir = dir_.path() + "/dp";
    o.recheck = 200ms;
    server_ = std::make_unique<PluginServer>(resource_, o);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(confcom::testing::WaitForSocket(o.dir + "/widget.sock", 10s));
    channel_ = kube::DialUnixSocket(o.dir + "/widget.sock");
    stub_ = v1beta1::DevicePlugin::NewStub(channel_);
  }
  grpc::Status Allocate(std::vector<std::vector<std::string>> containers,
                        v1beta1::AllocateResponse* out) {
    v1beta1::AllocateRequest req;
    for (auto& ids : containers) {
      auto* c = req.add_container_requests();
      for (auto& id : ids) c->add_devices_ids(id);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    return stub_->Allocate(&ctx, req, out);
  }
  grpc::Status Prefer(std::vector<std::string> available, std::vector<std::string> must, int size,
                      v1beta1::PreferredAllocationResponse* out) {
    v1beta1::PreferredAllocationRequest req;
    auto* c = req.add_container_requests();
    for (auto& id : available) c->add_available_deviceids(id);
    for (auto& id : must) c->add_must_include_deviceids(id);
    c->set_allocation_size(size);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    return stub_->GetPreferredAllocation(&ctx, req, out);
  }

  TempDir dir_;
  std::shared_ptr<FakeResource> resource_;
  std::unique_ptr<PluginServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub_;
};

TEST_F(DevicePluginServerTest, OptionsFollowTheOptionalPreferredAllocationInterface) {
  StartServer(false);
  grpc::ClientContext ctx;
  v1beta1::DevicePluginOptions options;
  ASSERT_TRUE(stub_->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options).ok());
  EXPECT_FALSE(options.get_preferred_allocation_available());
  EXPECT_FALSE(options.pre_start_required());
  v1beta1::PreferredAllocationResponse out;
  EXPECT_EQ(Prefer({"w-0"}, {}, 1, &out).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(DevicePluginServerTest, ListAndWatchFollowsHealthWithPrefixedIdsAndTopology) {
  StartServer(true);
  grpc::ClientContext ctx;
  auto reader = stub_->ListAndWatch(&ctx, v1beta1::Empty());
  v1beta1::ListAndWatchResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_EQ(msg.devices_size(), 5);
  EXPECT_EQ(msg.devices(0).id(), "w-0");
  EXPECT_EQ(msg.devices(4).id(), "w-4");
  EXPECT_EQ(msg.devices(4).topology().nodes(0).id(), 1);
  for (const auto& d : msg.devices()) EXPECT_EQ(d.health(), "Healthy");
  // The resource's watched folder changes: the server re-checks and pushes a new message.
  std::ofstream(dir_.path() + "/watched/broken") << "x";
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_EQ(msg.devices(0).health(), "Healthy");
  EXPECT_EQ(msg.devices(3).health(), "Unhealthy");
  EXPECT_EQ(msg.devices(4).health(), "Unhealthy");
  EXPECT_EQ(server_->stats().unhealthy.load(), 2u);
  // Unhealthy devices are refused, healthy ones given with the resource's config.
  v1beta1::AllocateResponse resp;
  grpc::Status st = Allocate({{"w-3"}}, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("block 1 broken"), std::string::npos) << st.error_message();
  std::filesystem::remove(dir_.path() + "/watched/broken");
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_EQ(msg.devices(3).health(), "Healthy");
  ctx.TryCancel();
}

TEST_F(DevicePluginServerTest, AllocateHandsTheResourceDistinctKnownDevicesWithTheirNodes) {
  StartServer(true);
  v1beta1::AllocateResponse resp;
  ASSERT_TRUE(Allocate({{"w-1", "w-4"}}, &resp).ok());
  ASSERT_EQ(resp.container_responses_size(), 1);
  EXPECT_EQ(resp.container_responses(0).envs().at("WIDGETS"), "2");
  EXPECT_EQ(resp.container_responses(0).devices(0).host_path(), "/dev/widget0");
  Allocation a = resource_->last();
  EXPECT_EQ(a.devices, (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(a.numa_nodes, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(server_->stats().allocated_devices.load(), 2u);

  EXPECT_EQ(Allocate({{"w-1", "w-1"}}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Allocate({{"w-1"}, {"w-1"}}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Allocate({{"1"}}, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // no prefix
  EXPECT_EQ(Allocate({{"w-5"}}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Allocate({{}}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Refused calls count nothing.
  EXPECT_EQ(server_->stats().allocated_devices.load(), 2u);
  EXPECT_EQ(server_->stats().allocations.load(), 1u);
  EXPECT_EQ(server_->stats().refused.load(), 5u);
}

TEST_F(DevicePluginServerTest, PreferredAllocationAnswersAreCheckedBeforeKubeletSeesThem) {
  StartServer(true);
  v1beta1::PreferredAllocationResponse out;
  ASSERT_TRUE(Prefer({"w-0", "w-1", "w-2", "w-3", "w-4"}, {}, 2, &out).ok());
  ASSERT_EQ(out.container_responses(0).deviceids_size(), 2);
  // The policy packs on one NUMA node: node 1 (w-3, w-4) is the tightest fit.
  EXPECT_EQ(out.container_responses(0).deviceids(0), "w-3");
  EXPECT_EQ(out.container_responses(0).deviceids(1), "w-4");

  // A policy that answers too many, an unoffered device or a repeat is not passed on.
  for (std::vector<uint64_t> bad :
       {std::vector<uint64_t>{0, 1, 3}, std::vector<uint64_t>{0, 2}, std::vector<uint64_t>{0, 0}}) {
    {
      std::lock_guard l(resource_->policy()->mu);
      resource_->policy()->answer = bad;
    }
    v1beta1::PreferredAllocationResponse o;
    grpc::Status st = Prefer({"w-0", "w-1", "w-3", "w-4"}, {}, 2, &o);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL) << st.error_message();
  }
}

TEST_F(DevicePluginServerTest, ConcurrentCallsWhileHealthChanges) {
  StartServer(true);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      while (!stop) {
        v1beta1::AllocateResponse resp;
        if (Allocate({{"w-" + std::to_string(t % 3)}}, &resp).ok()) ok++;
        v1beta1::PreferredAllocationResponse out;
        (void)Prefer({"w-0", "w-1", "w-2"}, {}, 1, &out);
      }
    });
  }
  grpc::ClientContext ctx;
  auto reader = stub_->ListAndWatch(&ctx, v1beta1::Empty());
  v1beta1::ListAndWatchResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  for (int i = 0; i < 6; ++i) {
    if (i % 2 == 0) {
      std::ofstream(dir_.path() + "/watched/broken") << "x";
    } else {
      std::filesystem::remove(dir_.path() + "/watched/broken");
    }
    ASSERT_TRUE(reader->Read(&msg));
  }
  // Let the callers get some calls through before stopping them (they may start late on a
  // loaded machine).
  for (int i = 0; i < 3000 && ok.load() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& t : callers) t.join();
  EXPECT_GT(ok.load(), 0);
  ctx.TryCancel();
  server_->Stop();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/dp/widget.sock"));
}

}  // namespace
}  // namespace confcom::deviceplugin
