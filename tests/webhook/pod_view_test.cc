// Reading pods (webhook/pod_view.h): containers in order, resource values, and a container's
// EPC in bytes from either resource name (quantities parsed by kube/quantity.h).
#include "webhook/pod_view.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "webhook/pod_fixtures.h"

namespace confcom::webhook {
namespace {

using fixtures::Container;
using fixtures::Pod;
using nlohmann::json;

TEST(WebhookPodView, ListsInitContainersFirstAndEphemeralOnlyWhenAsked) {
  json pod = Pod(json::array({Container("app", nullptr)}));
  json side = Container("side", nullptr);
  side["restartPolicy"] = "Always";
  pod["spec"]["initContainers"] = json::array({Container("prep", nullptr), side});
  pod["spec"]["ephemeralContainers"] = json::array({Container("debug", nullptr)});
  auto list = ListContainers(pod, false);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "prep");
  EXPECT_FALSE(list[0].restartable_init);
  EXPECT_TRUE(list[1].restartable_init);
  EXPECT_EQ(list[2].list, "containers");
  EXPECT_EQ(ListContainers(pod, true).back().name, "debug");
  EXPECT_TRUE(ListContainers(json::array(), true).empty());
}

TEST(WebhookPodView, ContainerEpcInBytesFromEitherName) {
  EXPECT_EQ(*ContainerEpcBytes(Container("a", {{"sgx.intel.com/epc", "10Mi"}})), 10 << 20);
  EXPECT_EQ(*ContainerEpcBytes(Container("a", {{"sgx.intel.com/epc", "0.5Ki"}})), 512);
  EXPECT_EQ(*ContainerEpcBytes(Container("a", {{"sgx.intel.com/epc", "100m"}})), 1);  // rounded up
  EXPECT_EQ(*ContainerEpcBytes(Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", 10}})),
            10 << 20);
  EXPECT_EQ(*ContainerEpcBytes(Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "3"}})),
            3 << 20);
  EXPECT_EQ(*ContainerEpcBytes(Container("a", nullptr)), 0);
  // Limits before requests.
  json both = Container("a", {{"sgx.intel.com/epc", "2Mi"}});
  both["resources"]["requests"] = {{"sgx.intel.com/epc", "1Mi"}};
  EXPECT_EQ(*ContainerEpcBytes(both), 2 << 20);
  // Malformed, negative, fractional MiB, too large: errors, never a guess.
  for (json bad : {json("10 Mi"), json("-1Mi"), json(true), json("8Ei")}) {
    EXPECT_FALSE(ContainerEpcBytes(Container("a", {{"sgx.intel.com/epc", bad}})).ok()) << bad;
  }
  for (json bad : {json("0.5"), json("100m"), json("4398046511105"), json("x")}) {
    EXPECT_FALSE(
        ContainerEpcBytes(Container("a", {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", bad}})).ok())
        << bad;
  }
}

TEST(WebhookPodView, QuantitiesWrittenAsFractions) {
  for (const char* f : {"0.5", "100m", "1e-3", "1E-3", "1.0"})
    EXPECT_TRUE(WrittenAsFraction(f)) << f;
  for (const char* w : {"1", "10Mi", "1e3", "5k"}) EXPECT_FALSE(WrittenAsFraction(w)) << w;
}

}  // namespace
}  // namespace confcom::webhook
