// The Allocate rules of the gRPC service (framework/device_plugin_service.h), on an in-process
// channel with no socket, no PluginServer and no kubelet: which device IDs are answered with
// what (envs, device specs), and the errors for unknown, repeated and Unhealthy IDs. The SGX
// legacy resources' container configs are checked through the same service.
#include "deviceplugin/framework/device_plugin_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <grpcpp/grpcpp.h>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/fake_host.h"
#include "deviceplugin/framework/health_publisher.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/sgx/intel_resources.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {
namespace {

using namespace std::chrono_literals;

// Three devices on NUMA node 0 and two on node 1 ("w-0" ... "w-4"); block 1 may be broken.
class Widgets final : public Resource {
 public:
  std::string name() const override { return "example.com/widget"; }
  std::string endpoint() const override { return "widget.sock"; }
  std::string id_prefix() const override { return "w-"; }
  std::vector<DeviceBlock> Inventory() const override { return {{0, 3}, {1, 2}}; }
  bool want_topology() const override { return true; }
  Health CheckHealth() const override { return {{true, true}, ""}; }
  Result<ContainerConfig> Container(const Allocation& a) const override {
    if (fail) return Status::Unavailable("the widget driver is gone");
    ContainerConfig c;
    c.envs["WIDGETS"] = std::to_string(a.devices.size());
    std::string nodes;
    for (int64_t n : a.numa_nodes) nodes += std::to_string(n) + ";";
    c.envs["WIDGET_NODES"] = nodes;
    c.devices.push_back({"/dev/widget", "/dev/widget0", "rw"});
    return c;
  }
  bool fail = false;
};

// The service for `resource`, served in-process with every device Healthy.
class ServiceUnderTest {
 public:
  explicit ServiceUnderTest(std::shared_ptr<Resource> resource) : resource_(std::move(resource)) {
    hub_->set = std::make_shared<const DeviceSet>(
        PlanLayout(resource_->Inventory(), resource_->want_topology(), kKubeletMaxMessageBytes,
                   resource_->id_prefix()));
    SetHealth(resource_->CheckHealth());
    service_ = MakeDevicePluginService(hub_, resource_, &stats_);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1beta1::DevicePlugin::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  ~ServiceUnderTest() {
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
    server_->Wait();
  }

  void SetHealth(const Health& h) { PublishHealth(*hub_, resource_->name(), h, stats_); }

  grpc::Status Allocate(const std::vector<std::vector<std::string>>& containers,
                        v1beta1::AllocateResponse* out) {
    v1beta1::AllocateRequest req;
    for (const auto& ids : containers) {
      auto* c = req.add_container_requests();
      for (const auto& id : ids) c->add_devices_ids(id);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    return stub_->Allocate(&ctx, req, out);
  }

  const PluginStats& stats() const { return stats_; }

 private:
  std::shared_ptr<Resource> resource_;
  std::shared_ptr<Hub> hub_ = std::make_shared<Hub>();
  PluginStats stats_;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub_;
};

TEST(DevicePluginServiceTest, EachContainerGetsTheResourcesConfigForItsDevicesAndNodes) {
  auto widgets = std::make_shared<Widgets>();
  ServiceUnderTest s(widgets);
  v1beta1::AllocateResponse resp;
  ASSERT_TRUE(s.Allocate({{"w-4", "w-0"}, {"w-1"}}, &resp).ok());
  ASSERT_EQ(resp.container_responses_size(), 2);  // one answer per container, in order
  const auto& first = resp.container_responses(0);
  EXPECT_EQ(first.envs().at("WIDGETS"), "2");
  EXPECT_EQ(first.envs().at("WIDGET_NODES"), "0;1;");  // sorted, whatever the ID order
  ASSERT_EQ(first.devices_size(), 1);
  EXPECT_EQ(first.devices(0).container_path(), "/dev/widget");
  EXPECT_EQ(first.devices(0).host_path(), "/dev/widget0");
  EXPECT_EQ(first.devices(0).permissions(), "rw");
  EXPECT_EQ(resp.container_responses(1).envs().at("WIDGETS"), "1");
  EXPECT_EQ(resp.container_responses(1).envs().at("WIDGET_NODES"), "0;");
  EXPECT_EQ(first.mounts_size(), 0);  // device nodes only, never mounts
  EXPECT_EQ(s.stats().allocations.load(), 1u);
  EXPECT_EQ(s.stats().allocated_devices.load(), 3u);
}

TEST(DevicePluginServiceTest, UnknownOrRepeatedIdsFailTheWholeCallAsInvalidArgument) {
  ServiceUnderTest s(std::make_shared<Widgets>());
  v1beta1::AllocateResponse resp;
  struct Case {
    std::vector<std::vector<std::string>> containers;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{{"w-0", "w-5"}},
            "unknown device ID 'w-5' for example.com/widget (this node "
            "advertises 5 devices"},
           {{{"0"}}, "unknown device ID '0'"},  // the prefix is part of the ID
           {{{"w-00"}}, "unknown device ID 'w-00'"},
           {{{"w-1", "w-1"}},
            "device ID 'w-1' of example.com/widget appears more than once in "
            "one Allocate request"},
           {{{"w-1"}, {"w-2", "w-1"}}, "appears more than once"},  // across containers too
           {{{"w-1"}, {}}, "a container request with no device IDs"},
       }) {
    grpc::Status st = s.Allocate(c.containers, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_NE(st.error_message().find(c.message), std::string::npos) << st.error_message();
  }
  std::vector<std::vector<std::string>> many(kMaxContainersPerAllocate + 1, {"w-0"});
  grpc::Status st = s.Allocate(many, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("more than 1024 container requests"), std::string::npos);
  // Refused calls hand out nothing and count as refused.
  EXPECT_EQ(s.stats().allocations.load(), 0u);
  EXPECT_EQ(s.stats().allocated_devices.load(), 0u);
  EXPECT_EQ(s.stats().refused.load(), 7u);
}

TEST(DevicePluginServiceTest, UnhealthyIdsAreAFailedPreconditionWithTheReason) {
  ServiceUnderTest s(std::make_shared<Widgets>());
  s.SetHealth({{true, false}, "block 1 broken"});
  v1beta1::AllocateResponse resp;
  grpc::Status st = s.Allocate({{"w-0", "w-3"}}, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("device 'w-3' of example.com/widget is Unhealthy: block 1 "
                                    "broken"),
            std::string::npos)
      << st.error_message();
  EXPECT_TRUE(s.Allocate({{"w-0", "w-2"}}, &resp).ok());  // the healthy block still serves
  s.SetHealth({{true, true}, ""});
  EXPECT_TRUE(s.Allocate({{"w-3"}}, &resp).ok());
}

TEST(DevicePluginServiceTest, AResourceThatCannotConfigureTheContainerIsInternal) {
  auto widgets = std::make_shared<Widgets>();
  widgets->fail = true;
  ServiceUnderTest s(widgets);
  v1beta1::AllocateResponse resp;
  grpc::Status st = s.Allocate({{"w-0"}}, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(st.error_message().find("the widget driver is gone"), std::string::npos);
}

// The legacy resources through the service: EPC gives SGX_EPC_MIB, the NUMA nodes and the
// enclave device; provision gives the provisioning device and the enclave device.
TEST(DevicePluginServiceTest, LegacyEpcAndProvisionContainers) {
  testing::FakeHost host;
  host.InTreeDriver();
  SgxDiscovery d;
  d.host_root = host.root();
  d.epc_bytes = {{0, 4ull << 20}, {1, 4ull << 20}};
  d.device_nodes = {"/dev/sgx_enclave", "/dev/sgx_provision"};
  SgxResourceOptions o;
  o.host_root = host.root();
  ServiceUnderTest epc(MakeEpcResource(d, o));
  v1beta1::AllocateResponse resp;
  ASSERT_TRUE(epc.Allocate({{"0", "1", "5"}}, &resp).ok());
  const auto& c = resp.container_responses(0);
  EXPECT_EQ(c.envs().at("SGX_EPC_MIB"), "3");
  EXPECT_EQ(c.envs().at("SGX_EPC_NUMA_NODES"), "0,1");
  ASSERT_EQ(c.devices_size(), 1);
  EXPECT_EQ(c.devices(0).container_path(), "/dev/sgx_enclave");
  EXPECT_EQ(c.devices(0).host_path(), "/dev/sgx_enclave");
  EXPECT_EQ(c.devices(0).permissions(), "rw");
  EXPECT_EQ(epc.Allocate({{"8"}}, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  ServiceUnderTest provision(MakeProvisionResource(d, o, 2));
  v1beta1::AllocateResponse p;
  ASSERT_TRUE(provision.Allocate({{"1"}}, &p).ok());
  std::vector<std::string> paths;
  for (const auto& dev : p.container_responses(0).devices()) paths.push_back(dev.container_path());
  EXPECT_EQ(paths, (std::vector<std::string>{"/dev/sgx_provision", "/dev/sgx_enclave"}));
  EXPECT_TRUE(p.container_responses(0).envs().empty());
  EXPECT_EQ(provision.Allocate({{"2"}}, &p).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// --aesmd-socket-dir: the resources that give the enclave device (legacy EPC, Intel's enclave
// share) also give the socket folder read-only at /var/run/aesmd, so app pods need no hostPath
// (Pod Security baseline refuses one); only while the folder exists on the host, since the
// runtime fails a container whose mount source is missing. Provisioning resources never do.
TEST(DevicePluginServiceTest, EnclaveResourcesGiveTheAesmdSocketFolderWhileItExists) {
  testing::FakeHost host;
  host.InTreeDriver();
  SgxDiscovery d;
  d.host_root = host.root();
  d.epc_bytes = {{0, 4ull << 20}};
  d.device_nodes = {"/dev/sgx_enclave", "/dev/sgx_provision"};
  SgxResourceOptions o;
  o.host_root = host.root();
  o.aesmd_socket_dir = "/var/run/aesmd";
  auto mounts = [](const v1beta1::ContainerAllocateResponse& c) {
    std::vector<std::string> out;
    for (const auto& m : c.mounts()) {
      out.push_back(m.container_path() + "<-" + m.host_path() + (m.read_only() ? " ro" : " rw"));
    }
    return out;
  };
  using Mounts = std::vector<std::string>;
  ServiceUnderTest epc(MakeEpcResource(d, o));
  ServiceUnderTest enclave(MakeIntelEnclaveResource(o, 4));
  ServiceUnderTest provision(MakeProvisionResource(d, o, 2));
  ServiceUnderTest intel_provision(MakeIntelProvisionResource(o, 4));
  v1beta1::AllocateResponse resp;
  // The folder is missing on this host yet: nothing to mount.
  ASSERT_TRUE(epc.Allocate({{"0"}}, &resp).ok());
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{});
  std::filesystem::create_directories(host.Path("/var/run/aesmd"));
  ASSERT_TRUE(epc.Allocate({{"0"}, {"1"}}, &resp).ok());
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{"/var/run/aesmd<-/var/run/aesmd ro"});
  EXPECT_EQ(mounts(resp.container_responses(1)), Mounts{"/var/run/aesmd<-/var/run/aesmd ro"});
  ASSERT_TRUE(enclave.Allocate({{"sgx-enclave-0"}}, &resp).ok());
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{"/var/run/aesmd<-/var/run/aesmd ro"});
  ASSERT_TRUE(provision.Allocate({{"0"}}, &resp).ok());
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{});
  ASSERT_TRUE(intel_provision.Allocate({{"sgx-provision-0"}}, &resp).ok());
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{});

  // Simulation: no device node, the socket folder all the same (the simulated helper serves it).
  o.simulation = true;
  ServiceUnderTest sim(MakeIntelEnclaveResource(o, 4));
  ASSERT_TRUE(sim.Allocate({{"sgx-enclave-1"}}, &resp).ok());
  EXPECT_EQ(resp.container_responses(0).devices_size(), 0);
  EXPECT_EQ(mounts(resp.container_responses(0)), Mounts{"/var/run/aesmd<-/var/run/aesmd ro"});
  // A file where the folder should be is not a folder to mount.
  testing::FakeHost other;
  other.AddDevice("/var/run/aesmd");
  o.host_root = other.root();
  EXPECT_TRUE(AesmdSocketMounts(o).empty());
  o.aesmd_socket_dir.clear();
  o.host_root = host.root();
  EXPECT_TRUE(AesmdSocketMounts(o).empty());
}

}  // namespace
}  // namespace confcom::deviceplugin
