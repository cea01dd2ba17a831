// A Node's capacity (kube/node_capacity.h): the patch that sets it, reading it from the shared
// Node fixture, and which quantities count as a capacity.
#include "kube/node_capacity.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/node_fixture.h"

namespace confcom::kube {
namespace {

TEST(KubeNodeCapacity, PatchSetsOneEscapedEntryInBytes) {
  EXPECT_EQ(CapacityPatch("sgx.intel.com/epc", 8589934592),
            R"([{"op":"add","path":"/status/capacity/sgx.intel.com~1epc","value":"8589934592"}])");
  EXPECT_EQ(CapacityPatch("a~b/c", 0),
            R"([{"op":"add","path":"/status/capacity/a~0b~1c","value":"0"}])");
}

TEST(KubeNodeCapacity, ReadsTheCapacityOfANode) {
  const std::string node = confcom::testing::NodeJson("node-1");
  EXPECT_EQ(CapacityOf(node, "memory")->value_or(""), "24Gi");
  EXPECT_FALSE(CapacityOf(node, "sgx.intel.com/epc")->has_value());
  nlohmann::json with = nlohmann::json::parse(node);
  with["status"]["capacity"]["sgx.intel.com/epc"] = "8Gi";
  EXPECT_EQ(CapacityOf(with.dump(), "sgx.intel.com/epc")->value_or(""), "8Gi");
  EXPECT_FALSE(CapacityOf("[]", "x").ok());
  EXPECT_FALSE(CapacityOf("not json", "x").ok());
  EXPECT_FALSE(CapacityOf(R"({"kind":"Pod"})", "x").ok());
  EXPECT_FALSE(CapacityOf(R"({"kind":"Node"})", "x")->has_value());
  EXPECT_FALSE(CapacityOf(R"({"kind":"Node","status":{"capacity":{"x":5}}})", "x")->has_value());
}

TEST(KubeNodeCapacity, CapacityValuesAreWholeCounts) {
  EXPECT_EQ(CapacityValue("8589934592"), 8589934592u);
  EXPECT_EQ(CapacityValue("8Gi"), 8589934592u);
  EXPECT_EQ(CapacityValue("131072k"), 131072000u);
  EXPECT_EQ(CapacityValue("1e3"), 1000u);
  EXPECT_EQ(CapacityValue("0"), 0u);
  // Written with a fraction but whole: the API server itself stores 1.5Gi as 1536Mi. (The
  // former reader refused any '.'; the API's grammar decides.)
  EXPECT_EQ(CapacityValue("1.5Gi"), uint64_t(1536) << 20);
  // Not a whole count, negative, too large or malformed: no value, so the registrar patches.
  for (const char* bad : {"1.5", "100m", "1e-3", "-1", "-1Gi", "99999999999999999999", "16Ei",
                          "8Ei", "", "8 Gi", "8GB"}) {
    EXPECT_FALSE(CapacityValue(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace confcom::kube
