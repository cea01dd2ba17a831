// The real sgx-device-plugin process against the real sgx-kubelet-emulator process, over
// real UNIX sockets in a temporary device-plugins folder, with a fake --host-root tree.
#include <signal.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/fake_host.h"
#include "deviceplugin/plugin_node.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/sgx/intel_resources.h"
#include "deviceplugin/sgx/legacy_resources.h"
#include "deviceplugin/json_events.h"
#include "kube/kube_api_double.h"
#include "kube/kubelet_dial.h"
#include "kube/node_fixture.h"
#include "testing/test_util.h"

namespace confcom::deviceplugin {
namespace {

using confcom::testing::Process;
using confcom::testing::TempDir;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

using Events = confcom::testing::JsonEvents;
using confcom::testing::EventIs;

using Node = testing::PluginNode;

TEST(KubeletEmulatorTest, RegistersAndListsBothResourcesWithTopology) {
  Node node;
  node.SgxHost(2, 4);
  auto kubelet = node.Emulator();
  Events ev(node.Log("emulator.log"));
  ASSERT_TRUE(ev.Wait([](const json& j) { return j["event"] == "serving"; }));
  auto plugin = node.Plugin();
  auto reg = ev.Wait(EventIs("registered"));
  ASSERT_TRUE(reg) << plugin->Log();
  EXPECT_EQ((*reg)["endpoint"], "confcom-sgx-epc.sock");
  EXPECT_EQ((*reg)["version"], "v1beta1");
  EXPECT_EQ((*reg)["preferred_allocation"], true);
  auto list = ev.Wait(EventIs("list"));
  ASSERT_TRUE(list) << plugin->Log();
  EXPECT_EQ((*list)["devices"], 8192);
  EXPECT_EQ((*list)["healthy"], 8192);
  EXPECT_EQ((*list)["with_topology"], 8192);
  EXPECT_EQ((*list)["numa_nodes"], json::array({0, 1}));
  Events ev2(node.Log("emulator.log"));
  auto prov = ev2.Wait(EventIs("list", kProvisionResourceName));
  ASSERT_TRUE(prov);
  EXPECT_EQ((*prov)["devices"], 2);  // two quote helper pods during its rolling update
  EXPECT_EQ((*prov)["healthy"], 2);
}

TEST(KubeletEmulatorTest, AllocateGivesEnclaveDeviceAndEpcEnvOnOneNumaNode) {
  Node node;
  node.SgxHost(2, 4);
  auto plugin = node.Plugin();
  auto kubelet = node.Emulator({"--allocate-mib", "10", "--exit-after-allocate"});
  ASSERT_EQ(kubelet->Wait(15s), 0) << kubelet->Log() << plugin->Log();
  Events ev(node.Log("emulator.log"));
  auto alloc = ev.Wait(EventIs("allocate"), 1s);
  ASSERT_TRUE(alloc) << kubelet->Log();
  EXPECT_EQ((*alloc)["envs"]["SGX_EPC_MIB"], "10");
  EXPECT_EQ((*alloc)["envs"]["SGX_EPC_NUMA_NODES"], "0");  // preferred: one node
  EXPECT_EQ((*alloc)["preferred_allocation_used"], true);
  ASSERT_EQ((*alloc)["devices"].size(), 1u);
  EXPECT_EQ((*alloc)["devices"][0]["container_path"], "/dev/sgx_enclave");
  EXPECT_EQ((*alloc)["devices"][0]["host_path"], "/dev/sgx_enclave");  // host path, no root
  EXPECT_EQ((*alloc)["devices"][0]["permissions"], "rw");
}

// Calls a unary method of the plugin with raw request bytes, as a client that does not go
// through generated code.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request_bytes, grpc::ByteBuffer* response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, response,
                 [&](grpc::Status st) { done.set_value(std::move(st)); });
  return done.get_future().get();
}

TEST(DevicePluginProcessTest, MalformedOrUnknownAllocateIsRefusedAndTheNextCallServed) {
  Node node;
  node.SgxHost(1, 1);
  auto plugin = node.Plugin();
  std::string socket = node.dp() + "/" + kEpcEndpoint;
  ASSERT_TRUE(confcom::testing::WaitForSocket(socket)) << plugin->Log();
  auto channel = kube::DialUnixSocket(socket);
  const std::string method = "/v1beta1.DevicePlugin/Allocate";

  // A string field whose length runs past the end of the message.
  grpc::ByteBuffer response;
  grpc::Status st = RawCall(channel, method, std::string("\x0a\x7f", 2), &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("malformed AllocateRequest at byte"), std::string::npos)
      << st.error_message();

  // An ID that is not UTF-8: refused as unknown, and the log shows it printable.
  v1beta1::AllocateRequest bad;
  bad.add_container_requests()->add_devices_ids("7\xff\n");
  st = RawCall(channel, method, bad.SerializeAsString(), &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("unknown device ID '7?"
                                    "?'"),
            std::string::npos)
      << st.error_message();

  // Too many container requests (kubelet sends one per call).
  std::string many;
  for (int i = 0; i < 1025; ++i)
    many += std::string(
        "\x0a\x03\x0a\x01"
        "0",
        5);
  st = RawCall(channel, method, many, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("more than 1024 container requests"), std::string::npos)
      << st.error_message();

  // The same connection then serves a good request.
  v1beta1::AllocateRequest good;
  auto* c = good.add_container_requests();
  for (int i = 0; i < 10; ++i) c->add_devices_ids(std::to_string(i));
  st = RawCall(channel, method, good.SerializeAsString(), &response);
  ASSERT_TRUE(st.ok()) << st.error_message() << plugin->Log();
  grpc::Slice flat;
  ASSERT_TRUE(response.DumpToSingleSlice(&flat).ok());
  v1beta1::AllocateResponse parsed;
  ASSERT_TRUE(parsed.ParseFromArray(flat.begin(), int(flat.size())));
  ASSERT_EQ(parsed.container_responses_size(), 1);
  EXPECT_EQ(parsed.container_responses(0).envs().at("SGX_EPC_MIB"), "10");
  EXPECT_TRUE(plugin->running());
  EXPECT_NE(plugin->Log().find("Allocate for kubernetes.azure.com/sgx_epc_mem_in_MiB refused: "
                               "malformed AllocateRequest"),
            std::string::npos)
      << plugin->Log();
}

TEST(KubeletEmulatorTest, ProvisionResourceGivesProvisionDeviceAndSymlinksResolve) {
  Node node;
  node.SgxHost(1, 4);
  node.host().Symlink("/dev/sgx/enclave", "../sgx_enclave");  // udev's compatibility link
  auto plugin = node.Plugin();
  auto kubelet = node.Emulator(
      {"--resource", kProvisionResourceName, "--allocate-mib", "1", "--exit-after-allocate"});
  ASSERT_EQ(kubelet->Wait(15s), 0) << kubelet->Log();
  Events ev(node.Log("emulator.log"));
  auto alloc = ev.Wait(EventIs("allocate", kProvisionResourceName), 1s);
  ASSERT_TRUE(alloc) << kubelet->Log();
  std::map<std::string, std::string> devices;
  for (const auto& d : (*alloc)["devices"]) devices[d["container_path"]] = d["host_path"];
  EXPECT_EQ(devices["/dev/sgx_provision"], "/dev/sgx_provision");
  EXPECT_EQ(devices["/dev/sgx_enclave"], "/dev/sgx_enclave");
  EXPECT_EQ(devices["/dev/sgx/enclave"], "/dev/sgx_enclave");

  // EPC allocations never carry the provisioning device.
  auto kubelet2 = node.Emulator({"--allocate-mib", "3", "--exit-after-allocate"}, "e2.log");
  ASSERT_EQ(kubelet2->Wait(15s), 0) << kubelet2->Log();
  auto epc = Events(node.Log("e2.log")).Wait(EventIs("allocate"), 1s);
  ASSERT_TRUE(epc);
  for (const auto& d : (*epc)["devices"]) EXPECT_NE(d["host_path"], "/dev/sgx_provision");
  EXPECT_EQ((*epc)["devices"].size(), 2u);
  EXPECT_EQ((*epc)["envs"]["SGX_EPC_NUMA_NODES"], "0");  // known, though not advertised
}

TEST(KubeletEmulatorTest, UnknownIdsFailTheWholeAllocate) {
  Node node;
  node.SgxHost(1, 1);
  auto plugin = node.Plugin();
  auto kubelet = node.Emulator({"--allocate-ids", "0,5,1024", "--exit-after-allocate"});
  // Kubelet would fail the pod: the emulator's exit code says so.
  ASSERT_EQ(kubelet->Wait(15s), 1) << kubelet->Log();
  auto err = Events(node.Log("emulator.log")).Wait(EventIs("allocate_error"), 1s);
  ASSERT_TRUE(err) << kubelet->Log();
  EXPECT_EQ((*err)["code_name"], "INVALID_ARGUMENT");
  EXPECT_NE((*err)["message"].get<std::string>().find("unknown device ID '1024'"),
            std::string::npos)
      << (*err)["message"];
}

// 0 success, 1 failure, 2 usage; --version names the component.
TEST(KubeletEmulatorTest, ExitCodesAndVersionOfThePluginAndTheEmulator) {
  using confcom::testing::RunCommand;
  auto v1 = RunCommand(std::string(DP_PLUGIN_BIN) + " --version");
  EXPECT_EQ(v1.status, 0);
  EXPECT_EQ(v1.output, "sgx-device-plugin " CONFCOM_VERSION "\n");
  auto v2 = RunCommand(std::string(DP_EMULATOR_BIN) + " --version");
  EXPECT_EQ(v2.status, 0);
  EXPECT_EQ(v2.output, "sgx-kubelet-emulator " CONFCOM_VERSION "\n");
  EXPECT_EQ(RunCommand(std::string(DP_PLUGIN_BIN) + " --no-such-flag").status, 2);
  EXPECT_EQ(RunCommand(std::string(DP_EMULATOR_BIN) + " --no-such-flag").status, 2);
  EXPECT_EQ(RunCommand(std::string(DP_EMULATOR_BIN)).status, 2);  // --device-plugin-dir is required
  TempDir dir;
  auto missing =
      RunCommand(std::string(DP_PLUGIN_BIN) + " --discover --host-root " + dir.File("host"));
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("no such path: " + dir.File("host")), std::string::npos)
      << missing.output;
  EXPECT_EQ(missing.output.find("no SGX"), std::string::npos) << missing.output;
}

// --resource-scheme intel: 110 shared devices of each of Intel's names, with Intel's IDs; a
// container gets exactly the one device node of the resource it asked for.
TEST(KubeletEmulatorTest, IntelSchemeAdvertises110OfEachAndGivesOnlyThatDeviceNode) {
  Node node;
  node.SgxHost(2, 4);
  auto plugin = node.Plugin({"--resource-scheme", "intel"});
  auto kubelet = node.Emulator(
      {"--resource", kIntelEnclaveResourceName, "--allocate", "1", "--exit-after-allocate"});
  ASSERT_EQ(kubelet->Wait(15s), 0) << kubelet->Log() << plugin->Log();
  Events ev(node.Log("emulator.log"));
  auto list = ev.Wait(EventIs("list", kIntelEnclaveResourceName), 1s);
  ASSERT_TRUE(list) << kubelet->Log();
  EXPECT_EQ((*list)["devices"], 110);
  EXPECT_EQ((*list)["healthy"], 110);
  EXPECT_EQ((*list)["with_topology"], 0);
  EXPECT_EQ((*list)["first_id"], "sgx-enclave-0");
  EXPECT_EQ((*list)["last_id"], "sgx-enclave-109");
  auto reg =
      Events(node.Log("emulator.log")).Wait(EventIs("registered", kIntelEnclaveResourceName), 1s);
  ASSERT_TRUE(reg);
  EXPECT_EQ((*reg)["preferred_allocation"], false);
  auto alloc =
      Events(node.Log("emulator.log")).Wait(EventIs("allocate", kIntelEnclaveResourceName), 1s);
  ASSERT_TRUE(alloc) << kubelet->Log();
  EXPECT_EQ((*alloc)["ids"], json::array({"sgx-enclave-0"}));
  ASSERT_EQ((*alloc)["devices"].size(), 1u) << (*alloc).dump();
  EXPECT_EQ((*alloc)["devices"][0]["container_path"], "/dev/sgx_enclave");
  EXPECT_EQ((*alloc)["devices"][0]["host_path"], "/dev/sgx_enclave");
  EXPECT_EQ((*alloc)["devices"][0]["permissions"], "rw");
  EXPECT_TRUE((*alloc)["envs"].empty()) << (*alloc).dump();
  EXPECT_EQ((*alloc)["mounts"], json::array());  // no --aesmd-socket-dir

  auto kubelet2 = node.Emulator(
      {"--resource", kIntelProvisionResourceName, "--allocate", "1", "--exit-after-allocate"},
      "e2.log");
  ASSERT_EQ(kubelet2->Wait(15s), 0) << kubelet2->Log();
  Events ev2(node.Log("e2.log"));
  auto plist = ev2.Wait(EventIs("list", kIntelProvisionResourceName), 1s);
  ASSERT_TRUE(plist);
  EXPECT_EQ((*plist)["devices"], 110);
  EXPECT_EQ((*plist)["last_id"], "sgx-provision-109");
  auto palloc =
      Events(node.Log("e2.log")).Wait(EventIs("allocate", kIntelProvisionResourceName), 1s);
  ASSERT_TRUE(palloc) << kubelet2->Log();
  ASSERT_EQ((*palloc)["devices"].size(), 1u) << (*palloc).dump();
  EXPECT_EQ((*palloc)["devices"][0]["container_path"], "/dev/sgx_provision");
  EXPECT_EQ((*palloc)["devices"][0]["host_path"], "/dev/sgx_provision");
  // Nothing of the legacy names in this scheme.
  EXPECT_FALSE(Events(node.Log("e2.log")).Wait(EventIs("registered", kEpcResourceName), 300ms));
  EXPECT_FALSE(std::filesystem::exists(node.dp() + "/" + kEpcEndpoint));
}

// The emulator shows the socket folder mount of --aesmd-socket-dir in the allocation, as kubelet
// would pass it to the runtime; and the plugin says once what it does.
TEST(KubeletEmulatorTest, AesmdSocketDirIsMountedReadOnlyWithTheEnclaveShare) {
  Node node;
  node.SgxHost(1, 4);
  std::filesystem::create_directories(node.host().Path("/var/run/aesmd"));
  auto plugin = node.Plugin({"--resource-scheme", "intel", "--aesmd-socket-dir", "/var/run/aesmd"});
  auto kubelet = node.Emulator(
      {"--resource", kIntelEnclaveResourceName, "--allocate", "1", "--exit-after-allocate"});
  ASSERT_EQ(kubelet->Wait(15s), 0) << kubelet->Log() << plugin->Log();
  auto alloc =
      Events(node.Log("emulator.log")).Wait(EventIs("allocate", kIntelEnclaveResourceName), 1s);
  ASSERT_TRUE(alloc) << kubelet->Log();
  EXPECT_EQ((*alloc)["mounts"], json::parse(R"([{"container_path":"/var/run/aesmd",
      "host_path":"/var/run/aesmd","read_only":true}])"))
      << (*alloc).dump();
  EXPECT_EQ((*alloc)["devices"].size(), 1u);
  EXPECT_NE(plugin->Log().find("--aesmd-socket-dir /var/run/aesmd: containers given the enclave "
                               "device also get it read-only at /var/run/aesmd while it exists "
                               "on the host (now: present)"),
            std::string::npos)
      << plugin->Log();
}

TEST(KubeletEmulatorTest, IntelLimitsAndBothSchemesTogether) {
  Node node;
  node.SgxHost(1, 4);
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin(
      {"--resource-scheme", "legacy,intel", "--enclave-limit", "7", "--provision-limit", "0"});
  for (const char* name : {kEpcResourceName, kProvisionResourceName, kIntelEnclaveResourceName}) {
    ASSERT_TRUE(Events(node.Log("emulator.log")).Wait(EventIs("list", name), 10s))
        << name << plugin->Log();
  }
  auto enclave =
      Events(node.Log("emulator.log")).Wait(EventIs("list", kIntelEnclaveResourceName), 1s);
  EXPECT_EQ((*enclave)["devices"], 7);
  auto epc = Events(node.Log("emulator.log")).Wait(EventIs("list", kEpcResourceName), 1s);
  EXPECT_EQ((*epc)["devices"], 4096);
  EXPECT_FALSE(Events(node.Log("emulator.log"))
                   .Wait(EventIs("registered", kIntelProvisionResourceName), 300ms));
  // The probe checks every socket of the schemes it is told.
  auto probe =
      confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) + " --probe " +
                                   "--resource-scheme legacy,intel --provision-limit 0 " +
                                   "--probe-timeout-ms 20000 --device-plugin-dir " + node.dp());
  EXPECT_EQ(probe.status, 0) << probe.output;
  EXPECT_NE(probe.output.find(kIntelEnclaveEndpoint), std::string::npos) << probe.output;
  auto probe2 =
      confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) + " --probe " +
                                   "--resource-scheme intel --device-plugin-dir " + node.dp());
  EXPECT_EQ(probe2.status, 1) << probe2.output;  // no provision socket: not serving it
}

TEST(KubeletEmulatorTest, IntelDeviceNodeMissingMakesOnlyThatResourceUnhealthy) {
  Node node;
  node.SgxHost(1, 4);
  node.host().RemoveDevice("/dev/sgx_provision");
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin({"--resource-scheme", "intel", "--recheck-ms", "200"});
  auto prov =
      Events(node.Log("emulator.log")).Wait(EventIs("list", kIntelProvisionResourceName), 10s);
  ASSERT_TRUE(prov) << plugin->Log();
  EXPECT_EQ((*prov)["unhealthy"], 110);
  auto encl = Events(node.Log("emulator.log")).Wait(EventIs("list", kIntelEnclaveResourceName), 1s);
  ASSERT_TRUE(encl);
  EXPECT_EQ((*encl)["healthy"], 110);
  node.host().AddDevice("/dev/sgx_provision");
  Events later(node.Log("emulator.log"));
  auto back = later.Wait(
      [](const json& j) {
        return j["event"] == "list" && j["resource"] == kIntelProvisionResourceName &&
               j["healthy"] == 110;
      },
      10s);
  EXPECT_TRUE(back) << plugin->Log();
}

TEST(DevicePluginProcessTest, BadResourceSchemeIsAClearError) {
  Node node;
  auto r = confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) +
                                        " --resource-scheme legacy,nvidia --device-plugin-dir " +
                                        node.dp() + " 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("'nvidia' is not a scheme (choices: legacy, intel"), std::string::npos)
      << r.output;
  auto twice = confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) +
                                            " --resource-scheme intel,intel --device-plugin-dir " +
                                            node.dp() + " 2>&1");
  EXPECT_EQ(twice.status, 2) << twice.output;
  EXPECT_NE(twice.output.find("given twice"), std::string::npos) << twice.output;
}

// Issue 11: an ID given twice is refused (it would count one MiB twice), in Allocate and in
// GetPreferredAllocation, and GetPreferredAllocation's answer stays within what was asked.
TEST(DevicePluginProcessTest, DuplicateAndUnofferedIdsAreRefused) {
  Node node;
  node.SgxHost(2, 1);
  auto plugin = node.Plugin();
  std::string socket = node.dp() + "/" + kEpcEndpoint;
  ASSERT_TRUE(confcom::testing::WaitForSocket(socket)) << plugin->Log();
  auto channel = kube::DialUnixSocket(socket);
  grpc::ByteBuffer response;

  v1beta1::AllocateRequest dup;
  auto* c = dup.add_container_requests();
  for (int i = 0; i < 390000; ++i) c->add_devices_ids("5");
  grpc::Status st =
      RawCall(channel, "/v1beta1.DevicePlugin/Allocate", dup.SerializeAsString(), &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("device ID '5' of kubernetes.azure.com/sgx_epc_mem_in_MiB "
                                    "appears more than once"),
            std::string::npos)
      << st.error_message();
  // The same ID in two containers of one call is a duplicate too.
  v1beta1::AllocateRequest across;
  across.add_container_requests()->add_devices_ids("1");
  across.add_container_requests()->add_devices_ids("1");
  st = RawCall(channel, "/v1beta1.DevicePlugin/Allocate", across.SerializeAsString(), &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();

  const std::string pref = "/v1beta1.DevicePlugin/GetPreferredAllocation";
  auto ask = [&](std::vector<std::string> available, std::vector<std::string> must, int size,
                 v1beta1::PreferredAllocationResponse* out) {
    v1beta1::PreferredAllocationRequest req;
    auto* r = req.add_container_requests();
    for (auto& a : available) r->add_available_deviceids(a);
    for (auto& m : must) r->add_must_include_deviceids(m);
    r->set_allocation_size(size);
    grpc::ByteBuffer buf;
    grpc::Status s = RawCall(channel, pref, req.SerializeAsString(), &buf);
    if (s.ok() && out) {
      grpc::Slice flat;
      EXPECT_TRUE(buf.DumpToSingleSlice(&flat).ok());
      EXPECT_TRUE(out->ParseFromArray(flat.begin(), int(flat.size())));
    }
    return s;
  };
  st = ask({"1", "2", "2"}, {}, 2, nullptr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("appears more than once in available_deviceIDs"),
            std::string::npos)
      << st.error_message();
  st = ask({"1", "2"}, {"3"}, 2, nullptr);  // must_include outside available
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("not in available_deviceIDs"), std::string::npos);
  st = ask({"1", "2", "3", "4"}, {"1", "2", "3"}, 2, nullptr);  // more must than size
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st = ask({"1", "2"}, {}, 3, nullptr);  // more than available
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st = ask({"1", "99999"}, {}, 1, nullptr);  // not offered by the plugin
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("unknown device ID '99999'"), std::string::npos);

  // A valid request: exactly allocation_size distinct IDs, all from available, with must.
  v1beta1::PreferredAllocationResponse ok;
  std::vector<std::string> available;
  for (int i = 0; i < 2048; i += 3) available.push_back(std::to_string(i));
  st = ask(available, {"3"}, 5, &ok);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(ok.container_responses_size(), 1);
  std::set<std::string> got(ok.container_responses(0).deviceids().begin(),
                            ok.container_responses(0).deviceids().end());
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(ok.container_responses(0).deviceids_size(), 5);
  EXPECT_TRUE(got.count("3"));
  for (const auto& id : got) {
    EXPECT_NE(std::find(available.begin(), available.end(), id), available.end()) << id;
  }
  EXPECT_TRUE(plugin->running());
}

// What a pod with a service account sees, for a plugin run --register-epc in cluster against
// `api`: the token "pod-token" and the double's CA in <dir>/sa (returned), and the environment
// (NODE_NAME sgx-node-0, KUBERNETES_SERVICE_HOST/PORT).
std::string WriteServiceAccount(const TempDir& dir, const confcom::testing::TlsFiles& tls) {
  std::filesystem::create_directories(dir.File("sa"));
  std::filesystem::copy_file(tls.ca_crt, dir.File("sa/ca.crt"));
  std::ofstream(dir.File("sa/token")) << "pod-token\n";
  return dir.File("sa");
}
std::vector<std::string> InClusterEnv(const confcom::testing::KubeApiDouble& api) {
  return {"NODE_NAME=sgx-node-0", "KUBERNETES_SERVICE_HOST=127.0.0.1",
          "KUBERNETES_SERVICE_PORT=" + std::to_string(api.port())};
}

// Whether `p`'s log comes to contain `text` within 60 s (generous: under ASan on a loaded
// machine the plugin's start, a retry and the double's patches take seconds; it returns as
// soon as the text is there).
bool LogShows(const Process& p, const std::string& text) {
  for (int i = 0; i < 1200 && p.Log().find(text) == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  return p.Log().find(text) != std::string::npos;
}

// --register-epc in cluster: the service account's token and CA, KUBERNETES_SERVICE_HOST/PORT
// and NODE_NAME, against the strict HTTPS double that patches its Node as the API server does.
TEST(KubeletEmulatorTest, RegisterEpcSetsTheNodeCapacityInBytesBesideIntelDevices) {
  Node node;
  node.SgxHost(2, 4);  // 8 GiB
  TempDir api_dir;
  std::string err;
  auto tls = confcom::testing::MakeTlsFiles(api_dir.path(), "cluster-ca", &err);
  ASSERT_FALSE(tls.ca_crt.empty()) << err;
  const std::string node_json = confcom::testing::NodeJson("sgx-node-0");
  confcom::testing::KubeApiDouble api(tls, "pod-token", "sgx-node-0", node_json, api_dir.path());
  const std::string sa = WriteServiceAccount(api_dir, tls);
  api.FailNext(1, 503);

  auto kubelet = node.Emulator();
  Process plugin({DP_PLUGIN_BIN, "--device-plugin-dir", node.dp(), "--host-root",
                  node.host().root(), "--resource-scheme", "intel", "--register-epc",
                  "--serviceaccount-dir", sa, "--metrics-address", "off"},
                 node.Log("plugin.log"), InClusterEnv(api));
  std::string epc;
  // Generous deadlines (60 s): under ASan on a loaded machine the plugin's start, a retry and
  // the double's patches take seconds; the loops end as soon as the condition holds.
  for (int i = 0; i < 1200 && epc.empty(); ++i) {
    auto n = json::parse(api.node());
    epc = n["status"]["capacity"].value("sgx.intel.com/epc", "");
    if (epc.empty()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(epc, "8589934592") << plugin.Log() << api.last_patch_error();
  auto reqs = api.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs.back().method, "PATCH");
  EXPECT_EQ(reqs.back().path, "/api/v1/nodes/sgx-node-0/status");
  EXPECT_EQ(reqs.back().content_type, "application/json-patch+json");
  EXPECT_EQ(reqs.back().authorization, "Bearer pod-token");
  EXPECT_EQ(json::parse(api.node())["status"]["capacity"]["cpu"], "2");
  auto list =
      Events(node.Log("emulator.log")).Wait(EventIs("list", kIntelEnclaveResourceName), 60s);
  ASSERT_TRUE(list) << plugin.Log();
  EXPECT_EQ((*list)["devices"], 110);
  // The double stores the patched Node before its answer reaches the plugin: wait for the
  // plugin to have seen the answer.
  EXPECT_TRUE(LogShows(plugin, "status.capacity[sgx.intel.com/epc] = 8589934592 bytes"))
      << plugin.Log();
  plugin.Signal(SIGTERM);
  EXPECT_EQ(plugin.Wait(30s), 0) << plugin.Log();
}

// Uninstall (issue 21): with --owner-daemonset, SIGTERM keeps sgx.intel.com/epc while the
// DaemonSet exists (a restart or rolling update) and removes it when the DaemonSet is gone.
TEST(KubeletEmulatorTest, SigtermRemovesTheEpcCapacityOnlyWhenTheDaemonSetIsGone) {
  Node node;
  node.SgxHost(1, 4);  // 4 GiB
  TempDir api_dir;
  std::string err;
  auto tls = confcom::testing::MakeTlsFiles(api_dir.path(), "cluster-ca", &err);
  ASSERT_FALSE(tls.ca_crt.empty()) << err;
  confcom::testing::KubeApiDouble api(tls, "pod-token", "sgx-node-0",
                                      confcom::testing::NodeJson("sgx-node-0"), api_dir.path());
  api.PutObject("/apis/apps/v1/namespaces/kube-system/daemonsets/sgx-plugin",
                R"({"apiVersion":"apps/v1","kind":"DaemonSet",)"
                R"("metadata":{"name":"sgx-plugin","namespace":"kube-system"}})");
  const std::string sa = WriteServiceAccount(api_dir, tls);
  auto kubelet = node.Emulator();
  auto run = [&](const std::string& owner, const std::string& log) {
    return std::make_unique<Process>(
        std::vector<std::string>{DP_PLUGIN_BIN, "--device-plugin-dir", node.dp(), "--host-root",
                                 node.host().root(), "--resource-scheme", "intel", "--register-epc",
                                 "--owner-daemonset", owner, "--serviceaccount-dir", sa,
                                 "--metrics-address", "off"},
        node.Log(log), InClusterEnv(api));
  };
  auto epc = [&] {
    return json::parse(api.node())["status"]["capacity"].value("sgx.intel.com/epc", "");
  };
  auto plugin = run("kube-system/sgx-plugin", "plugin1.log");
  ASSERT_TRUE(LogShows(*plugin, "status.capacity[sgx.intel.com/epc] = 4294967296 bytes"))
      << plugin->Log() << api.last_patch_error();
  plugin->Signal(SIGTERM);
  EXPECT_EQ(plugin->Wait(30s), 0) << plugin->Log();
  EXPECT_EQ(epc(), "4294967296") << plugin->Log();
  EXPECT_NE(plugin->Log().find("exists (a restart or an update)"), std::string::npos)
      << plugin->Log();

  // The double cannot delete: a DaemonSet name it never had is one that is gone (404).
  plugin = run("kube-system/sgx-plugin-gone", "plugin2.log");
  // Already registered: the plugin only confirms it; wait for its GET of the Node.
  LogShows(*plugin, "keeping Node");
  std::this_thread::sleep_for(500ms);
  plugin->Signal(SIGTERM);
  EXPECT_EQ(plugin->Wait(30s), 0) << plugin->Log();
  EXPECT_EQ(epc(), "") << plugin->Log() << api.last_patch_error();
  EXPECT_NE(plugin->Log().find("(an uninstall): removed sgx.intel.com/epc = 4294967296"),
            std::string::npos)
      << plugin->Log();
  EXPECT_EQ(json::parse(api.node())["status"]["capacity"]["cpu"], "2");
}

TEST(DevicePluginProcessTest, RegisterEpcWithoutNodeNameOrCredentialsIsAClearError) {
  Node node;
  node.SgxHost(1, 1);
  auto r = confcom::testing::RunCommand(
      "env -u NODE_NAME -u KUBERNETES_SERVICE_HOST " + std::string(DP_PLUGIN_BIN) +
      " --resource-scheme intel --register-epc --metrics-address off --device-plugin-dir " +
      node.dp() + " --host-root " + node.host().root() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("set NODE_NAME"), std::string::npos) << r.output;
  r = confcom::testing::RunCommand(
      "env -u KUBERNETES_SERVICE_HOST NODE_NAME=n1 " + std::string(DP_PLUGIN_BIN) +
      " --resource-scheme intel --register-epc --metrics-address off --device-plugin-dir " +
      node.dp() + " --host-root " + node.host().root() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("give --kubeconfig FILE"), std::string::npos) << r.output;
}

TEST(KubeletEmulatorTest, KubeletRestartReRegistersWithinASecond) {
  Node node;
  node.SgxHost(1, 2);
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin();
  ASSERT_TRUE(Events(node.Log("emulator.log")).Wait(EventIs("list")));
  kubelet->Signal(SIGKILL);
  kubelet->Wait(5s);
  // The new kubelet deletes every socket, ours included, and serves a new kubelet.sock.
  auto t0 = Clock::now();
  auto kubelet2 = node.Emulator({}, "emulator2.log");
  Events ev(node.Log("emulator2.log"));
  ASSERT_TRUE(ev.Wait(EventIs("registered"), 5s)) << plugin->Log();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_LT(took.count(), 1500) << "re-registration took " << took.count() << " ms";
  std::printf("re-registered %lld ms after the new kubelet started\n",
              static_cast<long long>(took.count()));
  EXPECT_TRUE(ev.Wait(EventIs("list")));
  EXPECT_TRUE(
      Events(node.Log("emulator2.log")).Wait(EventIs("registered", kProvisionResourceName), 5s));
}

// The plugin's own upgrade (its DaemonSet pod replaced) while kubelet runs: the new process
// registers again and must advertise the very IDs the old one did, Healthy — pods hold some
// of them, and kubelet's checkpoint names them — and Allocate of those same IDs must work.
TEST(KubeletEmulatorTest, PluginRestartAdvertisesTheSameIdsAndAllocatesThemAgain) {
  Node node;
  node.SgxHost(1, 1);
  auto kubelet = node.Emulator({"--allocate-ids", "3,7", "--allocate-per-registration"});
  auto plugin = node.Plugin();
  Events ev(node.Log("emulator.log"));
  Events prov(node.Log("emulator.log"));
  auto list1 = ev.Wait(EventIs("list"), 10s);
  ASSERT_TRUE(list1) << plugin->Log();
  auto alloc1 = ev.Wait(EventIs("allocate"), 10s);
  ASSERT_TRUE(alloc1) << kubelet->Log();
  auto prov1 = prov.Wait(EventIs("list", kProvisionResourceName), 10s);
  ASSERT_TRUE(prov1) << kubelet->Log();
  EXPECT_EQ((*prov1)["healthy"], 2u) << "two quote helper pods need two provisioning devices";

  plugin->Signal(SIGTERM);
  ASSERT_EQ(plugin->Wait(10s), 0) << plugin->Log();
  auto plugin2 = node.Plugin({}, "plugin2.log");
  ASSERT_TRUE(ev.Wait(EventIs("registered"), 10s)) << plugin2->Log();
  auto list2 = ev.Wait(EventIs("list"), 10s);
  ASSERT_TRUE(list2) << plugin2->Log();
  for (const char* key : {"devices", "healthy", "unhealthy", "first_id", "last_id", "ids_hash"}) {
    EXPECT_EQ((*list2)[key], (*list1)[key]) << key;
  }
  EXPECT_EQ((*list2)["unhealthy"], 0u);
  auto alloc2 = ev.Wait(EventIs("allocate"), 10s);
  ASSERT_TRUE(alloc2) << kubelet->Log();
  EXPECT_EQ((*alloc2)["ids"], (*alloc1)["ids"]);
  EXPECT_EQ((*alloc2)["devices"], (*alloc1)["devices"]);
  EXPECT_EQ((*alloc2)["envs"], (*alloc1)["envs"]);
  ASSERT_TRUE(prov.Wait(EventIs("registered", kProvisionResourceName), 10s));
  auto prov2 = prov.Wait(EventIs("list", kProvisionResourceName), 10s);
  ASSERT_TRUE(prov2) << kubelet->Log();
  EXPECT_EQ((*prov2)["ids_hash"], (*prov1)["ids_hash"]);
  EXPECT_EQ((*prov2)["healthy_ids"], (*prov1)["healthy_ids"]);
}

TEST(KubeletEmulatorTest, PluginWaitsForKubeletAndRegistersWhenItAppears) {
  Node node;
  node.SgxHost(1, 2);
  auto plugin = node.Plugin();
  std::this_thread::sleep_for(1500ms);  // several failed attempts with backoff
  EXPECT_TRUE(plugin->running());
  auto t0 = Clock::now();
  auto kubelet = node.Emulator();
  ASSERT_TRUE(Events(node.Log("emulator.log")).Wait(EventIs("registered"), 5s)) << plugin->Log();
  EXPECT_LT(Clock::now() - t0, 1500ms);
  EXPECT_NE(plugin->Log().find("cannot register"), std::string::npos);
}

TEST(KubeletEmulatorTest, DeviceNodeRemovedMakesDevicesUnhealthyAndBack) {
  Node node;
  node.SgxHost(1, 2);
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin();
  Events ev(node.Log("emulator.log"));
  ASSERT_TRUE(ev.Wait(EventIs("list")));
  node.host().RemoveDevice("/dev/sgx_enclave");
  auto down = ev.Wait(EventIs("list"), 3s);
  ASSERT_TRUE(down) << plugin->Log();
  EXPECT_EQ((*down)["devices"], 2048);  // small EPC: listed as Unhealthy
  EXPECT_EQ((*down)["unhealthy"], 2048);
  node.host().AddDevice("/dev/sgx_enclave");
  auto up = ev.Wait(EventIs("list"), 3s);
  ASSERT_TRUE(up) << plugin->Log();
  EXPECT_EQ((*up)["healthy"], 2048);
  // The stream stayed up: no re-registration was needed.
  EXPECT_EQ(Events(node.Log("emulator.log"))
                .Wait([](const json& j) { return j["event"] == "stream_ended"; }, 100ms),
            std::nullopt)
      << plugin->Log() << kubelet->Log();
}

TEST(KubeletEmulatorTest, Epc256GiBFitsKubeletLimitHealthyAndUnhealthy) {
  Node node;
  node.SgxHost(1, 256);
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin({"--provision-devices", "0"});
  Events ev(node.Log("emulator.log"));
  auto list = ev.Wait(EventIs("list"), 15s);
  ASSERT_TRUE(list) << plugin->Log() << kubelet->Log();
  EXPECT_EQ((*list)["devices"], 262144);
  EXPECT_EQ((*list)["bytes"], 4190080);
  node.host().RemoveDevice("/dev/sgx_enclave");
  auto down = ev.Wait(EventIs("list"), 5s);
  ASSERT_TRUE(down) << plugin->Log();
  EXPECT_EQ((*down)["devices"], 0);  // listing 262,144 Unhealthy would not fit: left out
  node.host().AddDevice("/dev/sgx_enclave");
  auto up = ev.Wait(EventIs("list"), 5s);
  ASSERT_TRUE(up);
  EXPECT_EQ((*up)["healthy"], 262144);
  EXPECT_FALSE(ev.Wait([](const json& j) { return j["event"] == "stream_ended"; }, 100ms));
  EXPECT_NE(plugin->Log().find("LEFT OUT"), std::string::npos);
}

TEST(KubeletEmulatorTest, OneTiBIsCappedWithAWarningAndStillReceived) {
  Node node;
  node.host().NoSgxCpu();
  node.host().InTreeDriver();
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin({"--epc-mib", "1048576", "--provision-devices", "0"});
  auto list = Events(node.Log("emulator.log")).Wait(EventIs("list"), 15s);
  ASSERT_TRUE(list) << plugin->Log() << kubelet->Log();
  EXPECT_EQ((*list)["devices"], 262408);
  EXPECT_LE((*list)["bytes"].get<int64_t>(), 4194304);
  EXPECT_NE(plugin->Log().find("advertising only 262408 of 1048576"), std::string::npos);
  EXPECT_NE(plugin->Log().find("EPC SET BY --epc-mib"), std::string::npos);
}

// The emulator enforces kubelet's limit for real: with the plugin's own limit raised, the
// stream fails, and the plugin registers again, as it must when kubelet drops it.
TEST(KubeletEmulatorTest, OversizeMessageEndsStreamAndPluginReRegisters) {
  Node node;
  node.host().NoSgxCpu();
  node.host().InTreeDriver();
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin(
      {"--epc-mib", "400000", "--provision-devices", "0", "--max-message-bytes", "16777216"});
  Events ev(node.Log("emulator.log"));
  auto ended = ev.Wait(EventIs("stream_ended"), 15s);
  ASSERT_TRUE(ended) << kubelet->Log();
  EXPECT_EQ((*ended)["code_name"], "RESOURCE_EXHAUSTED");
  auto again = ev.Wait(EventIs("registered"), 5s);
  ASSERT_TRUE(again) << plugin->Log();
  EXPECT_GE((*again)["n"].get<int>(), 2);
}

TEST(KubeletEmulatorTest, SigtermRemovesSocketsAndExitsZero) {
  Node node;
  node.SgxHost(1, 1);
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin();
  ASSERT_TRUE(Events(node.Log("emulator.log")).Wait(EventIs("list", kProvisionResourceName)));
  EXPECT_TRUE(std::filesystem::exists(node.dp() + "/confcom-sgx-epc.sock"));
  plugin->Signal(SIGTERM);
  EXPECT_EQ(plugin->Wait(5s), 0) << plugin->Log();
  EXPECT_FALSE(std::filesystem::exists(node.dp() + "/confcom-sgx-epc.sock"));
  EXPECT_FALSE(std::filesystem::exists(node.dp() + "/confcom-sgx-provision.sock"));
}

TEST(DevicePluginProcessTest, NoSgxIdlesWithoutSocketsUntilSigterm) {
  Node node;
  node.host().NoSgxCpu();
  auto kubelet = node.Emulator();
  auto plugin = node.Plugin();
  // Signal only once it idles (its SIGTERM handling is set up before it logs this line): a
  // fixed sleep raced a slow start under ASan on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (plugin->Log().find("no SGX EPC on this node") == std::string::npos && plugin->running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(plugin->Log().find("no SGX EPC on this node"), std::string::npos) << plugin->Log();
  std::this_thread::sleep_for(200ms);  // still idle a moment later: no socket, still running
  EXPECT_TRUE(plugin->running());
  EXPECT_FALSE(std::filesystem::exists(node.dp() + "/confcom-sgx-epc.sock"));
  plugin->Signal(SIGTERM);
  EXPECT_EQ(plugin->Wait(5s), 0);
}

// --probe (the DaemonSet's readiness/liveness check) dials our own socket as kubelet does.
TEST(DevicePluginProcessTest, ProbeFailsBeforeThePluginServesAndSucceedsWhileItServes) {
  Node node;
  node.SgxHost(1, 1);
  const std::string probe =
      std::string(DP_PLUGIN_BIN) + " --probe --device-plugin-dir " + node.dp();
  auto before = confcom::testing::RunCommand(probe);
  EXPECT_EQ(before.status, 1) << before.output;
  EXPECT_NE(before.output.find("confcom-sgx-epc.sock"), std::string::npos) << before.output;

  // A stale file in the socket's place is not a serving plugin either.
  confcom::testing::WriteAll(node.dp() + "/confcom-sgx-epc.sock", "");
  auto stale = confcom::testing::RunCommand(probe);
  EXPECT_EQ(stale.status, 1) << stale.output;
  std::filesystem::remove(node.dp() + "/confcom-sgx-epc.sock");

  auto kubelet = node.Emulator();
  auto plugin = node.Plugin();
  ASSERT_TRUE(Events(node.Log("emulator.log")).Wait(EventIs("list"))) << plugin->Log();
  auto serving = confcom::testing::RunCommand(probe);
  EXPECT_EQ(serving.status, 0) << serving.output << plugin->Log();
  EXPECT_NE(serving.output.find("ok: "), std::string::npos) << serving.output;

  // Also without kubelet: the plugin serves before it registers.
  kubelet->Signal(SIGKILL);
  kubelet->Wait(5s);
  EXPECT_EQ(confcom::testing::RunCommand(probe).status, 0);

  plugin->Signal(SIGTERM);
  ASSERT_EQ(plugin->Wait(5s), 0) << plugin->Log();
  auto after = confcom::testing::RunCommand(probe);
  EXPECT_EQ(after.status, 1) << after.output;
}

TEST(DevicePluginProcessTest, DiscoverPrintsJson) {
  Node node;
  node.SgxHost(2, 8);
  TempDir out;
  auto r = confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) + " --discover --json " +
                                        "--host-root " + node.host().root() + " 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["epc"]["total_mib"], 16384);
  EXPECT_EQ(j["epc"]["source"], "sysfs");
  EXPECT_EQ(j["cpuid"]["epc_sections"].size(), 2u);
  EXPECT_EQ(j["device_nodes"], json::array({"/dev/sgx_enclave", "/dev/sgx_provision"}));
  auto text = confcom::testing::RunCommand(std::string(DP_PLUGIN_BIN) + " --discover " +
                                           "--host-root " + node.host().root());
  EXPECT_NE(text.output.find("16384 MiB from sysfs"), std::string::npos) << text.output;
}

TEST(DevicePluginMetricsTest, ReportCapacityAllocationsAndRegistrations) {
  Node node;
  auto kubelet = node.Emulator({"--allocate-mib", "7"});
  auto plugin = node.Plugin({"--epc-mib", "64"});
  int port = testing::MetricsPort(*plugin);
  ASSERT_GT(port, 0) << plugin->Log();
  std::string metrics;
  for (int i = 0; i < 100; ++i) {  // until the emulator's Allocate has happened
    auto r = confcom::testing::RunCommand(
        "python3 -c \"import urllib.request;print(urllib.request.urlopen("
        "'http://127.0.0.1:" +
        std::to_string(port) + "/metrics').read().decode())\"");
    metrics = r.output;
    if (metrics.find(
            "confcom_device_plugin_allocated_devices_total{resource=\"kubernetes.azure.com/sgx_epc_mem_in_MiB\"} 7") !=
        std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(
      metrics.find(
          "confcom_device_plugin_allocated_devices_total{resource=\"kubernetes.azure.com/sgx_epc_mem_in_MiB\"} 7"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          "confcom_device_plugin_advertised_devices{resource=\"kubernetes.azure.com/sgx_epc_mem_in_MiB\"} 64"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          "confcom_device_plugin_devices{resource=\"kubernetes.azure.com/sgx_epc_mem_in_MiB\",health=\"Healthy\"} 64"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          "confcom_device_plugin_registrations_total{resource=\"kubernetes.azure.com/sgx_epc_mem_in_MiB\"} 1"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("simulated=\"true\""), std::string::npos) << metrics;
}

}  // namespace
}  // namespace confcom::deviceplugin
