// The kubelet emulator as a library (emulator/kubelet_emulator.h), in one process with the
// generic PluginServer and a fake resource: what a test of any plugin can do without spawning
// processes. Not in the TSan run, like plugin_server_test.cc (Debian's gRPC).
#include "deviceplugin/emulator/kubelet_emulator.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "deviceplugin/framework/plugin_server.h"
#include "testing/test_util.h"

namespace confcom::deviceplugin {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class Gadgets final : public Resource {
 public:
  std::string name() const override { return "example.com/gadget"; }
  std::string endpoint() const override { return "gadget.sock"; }
  std::string id_prefix() const override { return "g-"; }
  std::vector<DeviceBlock> Inventory() const override { return {{-1, 4}}; }
  bool want_topology() const override { return false; }
  Health CheckHealth() const override { return {{true}, ""}; }
  Result<ContainerConfig> Container(const Allocation& a) const override {
    ContainerConfig c;
    c.envs["GADGETS"] = std::to_string(a.devices.size());
    c.devices.push_back({"/dev/gadget", "/dev/gadget0", "rw"});
    return c;
  }
};

// Collects the emulator's events.
class Events {
 public:
  void Add(const json& e) {
    std::lock_guard l(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  // The first event named `name`, waiting up to 20 s for it.
  std::optional<json> First(const std::string& name) {
    std::unique_lock l(mu_);
    std::optional<json> found;
    cv_.wait_for(l, 20s, [&] {
      for (const auto& e : events_) {
        if (e["event"] == name) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> events_;
};

TEST(KubeletEmulatorLibraryTest, RegistersFollowsAndAllocatesFromAPluginInProcess) {
  confcom::testing::TempDir dir;
  Events events;
  KubeletEmulatorOptions o;
  o.dir = dir.path() + "/dp";
  o.resource = "example.com/gadget";
  o.allocate_count = 2;
  KubeletEmulator kubelet(o, [&](const json& e) { events.Add(e); });
  ASSERT_TRUE(kubelet.Start().ok());
  ASSERT_TRUE(events.First("serving"));
  PluginOptions popt;
  popt.dir = o.dir;
  PluginServer plugin(std::make_shared<Gadgets>(), popt);
  ASSERT_TRUE(plugin.Start().ok());

  EXPECT_TRUE(kubelet.Wait(30s, /*until_allocated=*/true));
  EXPECT_FALSE(kubelet.allocate_failed());
  auto reg = events.First("registered");
  ASSERT_TRUE(reg);
  EXPECT_EQ((*reg)["resource"], "example.com/gadget");
  EXPECT_EQ((*reg)["endpoint"], "gadget.sock");
  EXPECT_EQ((*reg)["preferred_allocation"], false);
  auto list = events.First("list");
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)["devices"], 4);
  EXPECT_EQ((*list)["healthy"], 4);
  EXPECT_EQ((*list)["first_id"], "g-0");
  auto alloc = events.First("allocate");
  ASSERT_TRUE(alloc);
  EXPECT_EQ((*alloc)["ids"], json::array({"g-0", "g-1"}));
  EXPECT_EQ((*alloc)["envs"]["GADGETS"], "2");
  EXPECT_EQ((*alloc)["devices"][0]["host_path"], "/dev/gadget0");
  EXPECT_EQ(plugin.stats().allocations.load(), 1u);

  plugin.Stop();
  kubelet.Stop();
  EXPECT_FALSE(std::filesystem::exists(kubelet.socket_path()));
}

TEST(KubeletEmulatorLibraryTest, InterruptEndsAWaitAndTooFewDevicesFailTheAllocation) {
  confcom::testing::TempDir dir;
  Events events;
  KubeletEmulatorOptions o;
  o.dir = dir.path() + "/dp";
  o.resource = "example.com/gadget";
  o.allocate_count = 5;  // one more than the plugin has
  KubeletEmulator kubelet(o, [&](const json& e) { events.Add(e); });
  ASSERT_TRUE(kubelet.Start().ok());
  PluginOptions popt;
  popt.dir = o.dir;
  PluginServer plugin(std::make_shared<Gadgets>(), popt);
  ASSERT_TRUE(plugin.Start().ok());
  auto err = events.First("allocate_error");
  ASSERT_TRUE(err);
  EXPECT_EQ((*err)["message"], "only 4 healthy devices");
  EXPECT_TRUE(kubelet.allocate_failed());

  kubelet.Interrupt();
  EXPECT_TRUE(kubelet.Wait(0ms, false));  // ends at once; the result was reported
  plugin.Stop();
}

}  // namespace
}  // namespace confcom::deviceplugin
