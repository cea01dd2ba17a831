#include "deviceplugin/framework/device_set.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "deviceplugin/api.pb.h"
#include "deviceplugin/framework/plugin_server.h"

namespace confcom::deviceplugin {
namespace {

constexpr uint64_t kGiB = 1024;  // devices (MiB) per GiB

// Parses our hand-encoded bytes with the generated protobuf code and checks every device.
void CheckDecodes(const DeviceSet& set, const std::vector<bool>& healthy,
                  const DeviceSet::Message& m) {
  v1beta1::ListAndWatchResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(*m.bytes));
  ASSERT_EQ(parsed.ByteSizeLong(), m.bytes->size());  // canonical encoding
  ASSERT_EQ(uint64_t(parsed.devices_size()), m.listed);
  std::set<std::string> seen;
  uint64_t i = 0;
  for (const auto& d : parsed.devices()) {
    while (i < set.size() && m.unhealthy_omitted && !healthy[i] && m.unhealthy_listed == 0)
      ++i;  // left out
    ASSERT_LT(i, set.size());
    EXPECT_EQ(d.id(), set.Id(i));
    EXPECT_LE(d.id().size(), 63u);
    EXPECT_EQ(d.health(), healthy[i] ? "Healthy" : "Unhealthy");
    EXPECT_TRUE(seen.insert(d.id()).second);
    if (set.layout().topology) {
      ASSERT_EQ(d.topology().nodes_size(), 1);
      EXPECT_EQ(d.topology().nodes(0).id(), set.NumaOf(i));
    } else {
      EXPECT_FALSE(d.has_topology());
    }
    ++i;
  }
}

TEST(DevicePluginIds, CompactIdsAreShortestFirstAndRoundTrip) {
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 0), "0");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 63), "_");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 64), "00");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 64 + 4095), "__");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 64 + 4096), "000");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 64 + 4096 + 262143), "___");
  EXPECT_EQ(DeviceId(IdScheme::kCompact, 64 + 4096 + 262144), "0000");
  for (uint64_t i : {0ull, 1ull, 63ull, 64ull, 4159ull, 4160ull, 262143ull, 266303ull, 266304ull,
                     1048575ull, 20000000ull}) {
    for (auto scheme : {IdScheme::kCompact, IdScheme::kDecimal}) {
      auto back = ParseDeviceId(scheme, DeviceId(scheme, i));
      ASSERT_TRUE(back.has_value());
      EXPECT_EQ(*back, i);
    }
  }
  EXPECT_FALSE(ParseDeviceId(IdScheme::kCompact, "").has_value());
  EXPECT_FALSE(ParseDeviceId(IdScheme::kCompact, "a/b").has_value());
  EXPECT_FALSE(ParseDeviceId(IdScheme::kDecimal, "007").has_value());
  EXPECT_FALSE(ParseDeviceId(IdScheme::kDecimal, "12x").has_value());
}

TEST(DevicePluginLayout, SmallEpcKeepsDecimalIdsTopologyAndUnhealthyListing) {
  Layout plan = PlanLayout({{0, 4 * kGiB}, {1, 4 * kGiB}}, true);
  EXPECT_EQ(plan.step, 1);
  EXPECT_EQ(plan.ids, IdScheme::kDecimal);
  EXPECT_TRUE(plan.topology);
  EXPECT_TRUE(plan.unhealthy_always_listed);
  EXPECT_TRUE(plan.warnings.empty());
  DeviceSet set(plan);
  std::vector<bool> healthy(set.size(), true);
  for (size_t i = 0; i < healthy.size(); i += 3) healthy[i] = false;
  auto m = set.Encode(healthy);
  EXPECT_EQ(m.unhealthy_omitted, 0u);
  CheckDecodes(set, healthy, m);
  EXPECT_EQ(set.Find("8191"), 8191u);
  EXPECT_FALSE(set.Find("8192").has_value());
  EXPECT_EQ(set.NumaOf(4095), 0);
  EXPECT_EQ(set.NumaOf(4096), 1);
}

TEST(DevicePluginLayout, EncodingMatchesProtobufForEveryShape) {
  std::mt19937 rng(7);
  for (auto blocks : std::vector<std::vector<DeviceBlock>>{
           {{0, 100}}, {{0, 70}, {1, 5000}}, {{3, 10}, {200, 300}}, {{-1, 4200}}}) {
    for (bool topo : {false, true}) {
      DeviceSet set(PlanLayout(blocks, topo));
      std::vector<bool> healthy(set.size());
      for (size_t i = 0; i < healthy.size(); ++i) healthy[i] = rng() % 4 != 0;
      auto m = set.Encode(healthy);
      CheckDecodes(set, healthy, m);
      EXPECT_EQ(set.FullSize(healthy), m.bytes->size());
    }
  }
}

// The target: 256 GiB on one NUMA node, every state within 4 MiB.
TEST(DevicePluginLayout, Epc256GiBFitsInEveryState) {
  Layout plan = PlanLayout({{0, 256 * kGiB}}, false);
  ASSERT_EQ(plan.advertised, 262144u);
  EXPECT_EQ(plan.ids, IdScheme::kCompact);
  EXPECT_EQ(plan.step, 3);
  EXPECT_FALSE(plan.unhealthy_always_listed);
  EXPECT_EQ(plan.healthy_bytes, 4190080u);
  EXPECT_LE(plan.healthy_bytes, kKubeletMaxMessageBytes);
  EXPECT_FALSE(plan.warnings.empty());
  DeviceSet set(plan);
  const size_t spare = (kKubeletMaxMessageBytes - plan.healthy_bytes) / 2;  // 2112

  std::vector<bool> all(set.size(), true);
  auto healthy = set.Encode(all);
  EXPECT_EQ(healthy.bytes->size(), 4190080u);
  EXPECT_EQ(healthy.listed, 262144u);

  std::vector<bool> none(set.size(), false);
  auto unhealthy = set.Encode(none);
  EXPECT_LE(unhealthy.bytes->size(), kKubeletMaxMessageBytes);
  EXPECT_EQ(unhealthy.unhealthy_omitted, 262144u);

  // Exactly at the edge: `spare` unhealthy devices still listed, one more and they are left out.
  std::vector<bool> edge = all;
  for (size_t i = 0; i < spare; ++i) edge[i * 97 % set.size()] = false;
  auto at = set.Encode(edge);
  EXPECT_EQ(at.unhealthy_listed, spare);
  EXPECT_LE(at.bytes->size(), kKubeletMaxMessageBytes);
  CheckDecodes(set, edge, at);
  edge[set.size() - 1] = false;
  auto over = set.Encode(edge);
  EXPECT_EQ(over.unhealthy_listed, 0u);
  EXPECT_EQ(over.unhealthy_omitted, spare + 1);
  EXPECT_LE(over.bytes->size(), kKubeletMaxMessageBytes);

  std::mt19937 rng(1);
  for (int round = 0; round < 5; ++round) {
    std::vector<bool> mix(set.size());
    uint32_t p = rng() % 100;
    for (size_t i = 0; i < mix.size(); ++i) mix[i] = rng() % 100 >= p;
    EXPECT_LE(set.Encode(mix).bytes->size(), kKubeletMaxMessageBytes) << p;
  }
}

TEST(DevicePluginLayout, TwoNuma128GiBDropsTopologyWithWarning) {
  Layout plan = PlanLayout({{0, 128 * kGiB}, {1, 128 * kGiB}}, true);
  EXPECT_EQ(plan.step, 5);
  EXPECT_FALSE(plan.topology);
  EXPECT_EQ(plan.advertised, 262144u);
  EXPECT_EQ(plan.healthy_bytes, 4190080u);
  bool mentions_topology = false;
  for (const auto& w : plan.warnings)
    mentions_topology |= w.find("WITHOUT topology") != std::string::npos;
  EXPECT_TRUE(mentions_topology);
  DeviceSet set(plan);
  EXPECT_EQ(set.NumaOf(0), 0);  // kept for preferred allocations
  EXPECT_EQ(set.NumaOf(262143), 1);
  std::vector<bool> h(set.size(), true);
  std::fill(h.begin(), h.begin() + 131072, false);  // one node's devices unhealthy
  auto m = set.Encode(h);
  EXPECT_LE(m.bytes->size(), kKubeletMaxMessageBytes);
  EXPECT_EQ(m.listed, 131072u);
}

TEST(DevicePluginLayout, TwoNuma64GiBKeepsTopologyInEveryState) {
  Layout plan = PlanLayout({{0, 64 * kGiB}, {1, 64 * kGiB}}, true);
  EXPECT_TRUE(plan.topology);
  EXPECT_TRUE(plan.unhealthy_always_listed);
  EXPECT_LE(plan.unhealthy_bytes, kKubeletMaxMessageBytes);
}

TEST(DevicePluginLayout, OneTiBCapsCapacityToWhatFits) {
  Layout plan = PlanLayout({{0, 1024 * kGiB}}, false);
  EXPECT_EQ(plan.step, 6);
  EXPECT_EQ(plan.inventory, 1048576u);
  EXPECT_EQ(plan.advertised, 262408u);
  EXPECT_LE(plan.healthy_bytes, kKubeletMaxMessageBytes);
  // One more device would not fit.
  Layout more = PlanLayout({{0, plan.advertised + 1}}, false);
  EXPECT_GT(more.healthy_bytes, kKubeletMaxMessageBytes - 16);
  bool mentions_cap = false;
  for (const auto& w : plan.warnings)
    mentions_cap |= w.find("advertising only 262408") != std::string::npos;
  EXPECT_TRUE(mentions_cap);
  DeviceSet set(plan);
  std::vector<bool> all(set.size(), true);
  EXPECT_LE(set.Encode(all).bytes->size(), kKubeletMaxMessageBytes);
  std::vector<bool> none(set.size(), false);
  EXPECT_LE(set.Encode(none).bytes->size(), kKubeletMaxMessageBytes);
}

TEST(DevicePluginLayout, CapSpreadsOverNumaNodes) {
  Layout plan = PlanLayout({{0, 512 * kGiB}, {1, 512 * kGiB}}, true);
  ASSERT_EQ(plan.blocks.size(), 2u);
  EXPECT_EQ(plan.blocks[0].count + plan.blocks[1].count, plan.advertised);
  EXPECT_LE(std::llabs(int64_t(plan.blocks[0].count) - int64_t(plan.blocks[1].count)), 1);
  EXPECT_FALSE(plan.topology);
}

TEST(DevicePluginPrefer, OneNumaNodeBestFitThenFewestNodes) {
  DeviceSet set(PlanLayout({{0, 100}, {1, 40}, {2, 60}}, true));
  std::vector<uint64_t> all(set.size());
  for (uint64_t i = 0; i < all.size(); ++i) all[i] = i;
  auto nodes_of = [&](const std::vector<uint64_t>& v) {
    std::set<int64_t> n;
    for (auto i : v) n.insert(set.NumaOf(i));
    return n;
  };
  auto a = PreferDevices(set, all, {}, 50);  // fits node 2 (60) best, not node 0 (100)
  EXPECT_EQ(a.size(), 50u);
  EXPECT_EQ(nodes_of(a), std::set<int64_t>({2}));
  auto b = PreferDevices(set, all, {}, 30);  // node 1 (40) is the best fit
  EXPECT_EQ(nodes_of(b), std::set<int64_t>({1}));
  auto c = PreferDevices(set, all, {}, 150);  // 100 + 60: two nodes
  EXPECT_EQ(c.size(), 150u);
  EXPECT_EQ(nodes_of(c), std::set<int64_t>({0, 2}));
  auto d = PreferDevices(set, all, {0}, 20);  // must-include on node 0 keeps it on node 0
  EXPECT_EQ(nodes_of(d), std::set<int64_t>({0}));
  EXPECT_EQ(d[0], 0u);
  std::set<uint64_t> unique(c.begin(), c.end());
  EXPECT_EQ(unique.size(), c.size());
}

}  // namespace
}  // namespace confcom::deviceplugin
