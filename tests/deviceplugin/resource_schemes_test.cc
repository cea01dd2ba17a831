// The scheme table: parsing --resource-scheme and what each scheme makes.
#include <gtest/gtest.h>

#include <set>

#include "deviceplugin/sgx/intel_resources.h"
#include "deviceplugin/sgx/resource_schemes.h"

namespace confcom::deviceplugin {
namespace {

std::vector<std::string> Names(const std::vector<std::shared_ptr<Resource>>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r->name());
  return out;
}

SgxDiscovery OneGiB() {
  SgxDiscovery d;
  d.epc_bytes[0] = 1ull << 30;
  return d;
}

TEST(DevicePluginSchemesTest, ParsesListsInTableOrderAndRefusesTheRest) {
  auto both = ParseSchemes("intel,legacy");
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 2u);
  EXPECT_STREQ((*both)[0]->name, "legacy");
  EXPECT_STREQ((*both)[1]->name, "intel");
  EXPECT_TRUE((*both)[1]->epc_as_node_resource);
  EXPECT_FALSE((*both)[0]->epc_as_node_resource);
  for (const char* bad : {"", "legacy,", ",intel", "Intel", "legacy,,intel", "intel,intel"}) {
    EXPECT_FALSE(ParseSchemes(bad).ok()) << bad;
  }
  EXPECT_NE(ParseSchemes("x").status().message().find("choices: legacy, intel"), std::string::npos);
}

TEST(DevicePluginSchemesTest, EachSchemeMakesItsResources) {
  SchemeOptions o;
  o.resource.simulation = true;
  auto legacy = MakeResources(*ParseSchemes("legacy"), OneGiB(), o);
  EXPECT_EQ(Names(legacy), (std::vector<std::string>{kEpcResourceName, kProvisionResourceName}));
  EXPECT_NE(legacy[0]->preferred_allocator(), nullptr);
  auto intel = MakeResources(*ParseSchemes("intel"), OneGiB(), o);
  EXPECT_EQ(Names(intel),
            (std::vector<std::string>{kIntelEnclaveResourceName, kIntelProvisionResourceName}));
  EXPECT_EQ(intel[0]->Inventory()[0].count, 110u);
  EXPECT_EQ(intel[0]->id_prefix(), "sgx-enclave-");
  EXPECT_EQ(intel[1]->id_prefix(), "sgx-provision-");
  EXPECT_EQ(intel[0]->preferred_allocator(), nullptr);
  o.enclave_limit = 3;
  o.provision_limit = 0;
  o.provision_devices = 0;
  auto some = MakeResources(*ParseSchemes("legacy,intel"), OneGiB(), o);
  EXPECT_EQ(Names(some), (std::vector<std::string>{kEpcResourceName, kIntelEnclaveResourceName}));
  EXPECT_EQ(some[1]->Inventory()[0].count, 3u);
  // Endpoints never collide, so two schemes can serve side by side.
  std::set<std::string> endpoints;
  for (const auto& r : MakeResources(*ParseSchemes("legacy,intel"), OneGiB(), SchemeOptions{})) {
    EXPECT_TRUE(endpoints.insert(r->endpoint()).second) << r->endpoint();
  }
}

// The quote helper rolls with maxSurge 1: its old and its new pod each hold one provisioning
// device on the node for a while, so both schemes offer at least two by default.
TEST(DevicePluginSchemesTest, DefaultsFitTwoQuoteHelperPodsPerNode) {
  SchemeOptions o;
  o.resource.simulation = true;
  for (const char* scheme : {"legacy", "intel"}) {
    auto resources = MakeResources(*ParseSchemes(scheme), OneGiB(), o);
    bool found = false;
    for (const auto& r : resources) {
      if (r->name() != kProvisionResourceName && r->name() != kIntelProvisionResourceName) continue;
      found = true;
      uint64_t devices = 0;
      for (const auto& block : r->Inventory()) devices += block.count;
      EXPECT_GE(devices, 2u) << scheme << ": " << r->name();
    }
    EXPECT_TRUE(found) << scheme << " offers no provisioning resource";
  }
  EXPECT_EQ(SchemeOptions{}.provision_devices, 2u);
}

TEST(DevicePluginSchemesTest, IntelIdsAreCountedInTheMessageSize) {
  Layout plan = PlanLayout({DeviceBlock{-1, 110}}, false, kKubeletMaxMessageBytes, "sgx-enclave-");
  DeviceSet set(plan);
  EXPECT_EQ(set.Id(0), "sgx-enclave-0");
  EXPECT_EQ(set.Id(109), "sgx-enclave-109");
  EXPECT_EQ(set.Find("sgx-enclave-42"), 42u);
  EXPECT_FALSE(set.Find("sgx-enclave-110"));
  EXPECT_FALSE(set.Find("42"));
  EXPECT_FALSE(set.Find("sgx-enclave-"));
  EXPECT_FALSE(set.Find("sgx-provision-1"));
  auto m = set.Encode(std::vector<bool>(110, true));
  EXPECT_EQ(m.bytes->size(), plan.healthy_bytes);
  EXPECT_EQ(m.bytes->size(), set.FullSize(std::vector<bool>(110, true)));
}

}  // namespace
}  // namespace confcom::deviceplugin
