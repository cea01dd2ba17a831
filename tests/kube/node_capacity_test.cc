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

// "add" needs its parent (RFC 6902 4.1): a Node without status.capacity or status gets the
// object; the removal is guarded by a test of the exact value.
TEST(KubeNodeCapacity, PatchesForNodesWithoutCapacityAndTheGuardedRemoval) {
  EXPECT_EQ(CapacityPatch("sgx.intel.com/epc", 5, CapacityParent::kNoCapacity),
            R"([{"op":"add","path":"/status/capacity","value":{"sgx.intel.com/epc":"5"}}])");
  EXPECT_EQ(CapacityPatch("sgx.intel.com/epc", 5, CapacityParent::kNoStatus),
            R"([{"op":"add","path":"/status","value":{"capacity":{"sgx.intel.com/epc":"5"}}}])");
  EXPECT_EQ(CapacityRemovePatch("sgx.intel.com/epc", "8Gi"),
            R"([{"op":"test","path":"/status/capacity/sgx.intel.com~1epc","value":"8Gi"},)"
            R"({"op":"remove","path":"/status/capacity/sgx.intel.com~1epc"}])");
  auto none = ReadCapacity(R"({"kind":"Node","status":{}})", "sgx.intel.com/epc");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->parent, CapacityParent::kNoCapacity);
  EXPECT_FALSE(none->quantity);
  auto bare = ReadCapacity(R"({"kind":"Node"})", "sgx.intel.com/epc");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->parent, CapacityParent::kNoStatus);
  auto has = ReadCapacity(R"({"kind":"Node","status":{"capacity":{"sgx.intel.com/epc":"1Gi"}}})",
                          "sgx.intel.com/epc");
  ASSERT_TRUE(has.ok());
  EXPECT_EQ(has->parent, CapacityParent::kCapacity);
  EXPECT_EQ(has->quantity, std::optional<std::string>("1Gi"));
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
  EXPECT_FALSE(CapacityOf(R"({"kind":"Node","status":null})", "x")->has_value());
  EXPECT_FALSE(CapacityOf(R"({"kind":"Node","status":{"capacity":{"x":null}}})", "x")->has_value());
}

// Issue 20: `kind: 5` threw nlohmann's type_error out of the registrar's thread (exit 134).
// Every wrong type is now an error that names the field and what it holds.
TEST(KubeNodeCapacity, WrongTypesAreErrorsNamingTheField) {
  struct Case {
    const char* node;
    const char* says;
  } cases[] = {
      {R"({"kind":5})", "Node.kind is a number (5), not a string"},
      {R"({"kind":["Node"]})", "Node.kind is an array of 1, not a string"},
      {R"({"kind":null})", "Node.kind is missing"},
      {R"({"apiVersion":"v1"})", "Node.kind is missing"},
      {R"({"kind":"Pod"})", "answered a 'Pod', not a Node"},
      {R"({"kind":"Node","status":"Ready"})",
       R"(Node.status is a string ("Ready"), not an object)"},
      {R"({"kind":"Node","status":{"capacity":["x"]}})",
       "Node.status.capacity is an array of 1, not an object"},
      {R"({"kind":"Node","status":{"capacity":{"sgx.intel.com/epc":8589934592}}})",
       R"(Node.status.capacity["sgx.intel.com/epc"] is a number (8589934592), not a string)"},
      {R"({"kind":"Node","status":{"capacity":{"sgx.intel.com/epc":{"value":1}}}})",
       R"(Node.status.capacity["sgx.intel.com/epc"] is an object, not a string)"},
      {R"([{"kind":"Node"}])", "the Node: the JSON is an array of 1, not an object"},
      {R"("Node")", R"(the Node: the JSON is a string ("Node"), not an object)"},
      {"<html>502 Bad Gateway</html>", "the Node: not JSON"},
      {"", "the Node: not JSON"},
      {R"({"kind":"Node",)", "the Node: not JSON"},
  };
  for (const Case& c : cases) {
    auto got = CapacityOf(c.node, "sgx.intel.com/epc");
    ASSERT_FALSE(got.ok()) << c.node;
    EXPECT_EQ(got.status().code(), Status::Code::kCorruption) << c.node;
    EXPECT_NE(got.status().message().find(c.says), std::string::npos)
        << c.node << " -> " << got.status().message();
  }
  // Other capacity entries of odd types are not read, so they do not matter.
  EXPECT_EQ(
      CapacityOf(R"({"kind":"Node","status":{"capacity":{"cpu":2,"x":"1"}}})", "x")->value_or(""),
      "1");
}

TEST(KubeNodeCapacity, DeepOrHugeAnswersAreRefusedWithoutBuildingThem) {
  // 2 MiB of '[': refused by the depth check before the parser allocates a node per byte.
  std::string deep(size_t(2) << 20, '[');
  auto got = CapacityOf(deep, "x");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("nested deeper than 64"), std::string::npos)
      << got.status().message();
  // Brackets inside strings are text, not nesting.
  std::string quoted = R"({"kind":"Node","metadata":{"name":")" + std::string(1000, '[') +
                       R"("},"status":{"capacity":{"x":"7"}}})";
  EXPECT_EQ(CapacityOf(quoted, "x")->value_or(""), "7");
  // A huge number where a quantity belongs.
  got = CapacityOf(R"({"kind":"Node","status":{"capacity":{"x":1e999}}})", "x");
  EXPECT_FALSE(got.ok());
  got = CapacityOf(R"({"kind":"Node","status":{"capacity":{"x":184467440737095516160}}})", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("is a number"), std::string::npos)
      << got.status().message();
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
