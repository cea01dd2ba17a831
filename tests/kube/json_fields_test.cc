// Typed reads of outside JSON (kube/json_fields.h): every wrong type, missing field, number out
// of range and non-object is a Status that names the field and what it holds.
#include "kube/json_fields.h"

#include <gtest/gtest.h>

namespace confcom::kube {
namespace {

using nlohmann::json;

TEST(KubeJsonFields, DescribesWhatWasFound) {
  EXPECT_EQ(DescribeJson(json(5)), "a number (5)");
  EXPECT_EQ(DescribeJson(json(-5)), "a number (-5)");
  EXPECT_EQ(DescribeJson(json(1.5)), "a number (1.5)");
  EXPECT_EQ(DescribeJson(json("Pod")), "a string (\"Pod\")");
  EXPECT_EQ(DescribeJson(json(true)), "a boolean (true)");
  EXPECT_EQ(DescribeJson(json()), "null");
  EXPECT_EQ(DescribeJson(json::array({1, 2})), "an array of 2");
  EXPECT_EQ(DescribeJson(json::object()), "an object");
  // Long or hostile strings are cut and escaped for a log line.
  std::string d = DescribeJson(json(std::string(100, 'a') + "\n"));
  EXPECT_EQ(d.find('\n'), std::string::npos);
  EXPECT_LT(d.size(), 60u);
  EXPECT_EQ(DescribeJson(json("a\nb")), "a string (\"a\\x0ab\")");
}

TEST(KubeJsonFields, FieldPathsQuoteKeysThatAreNotIdentifiers) {
  EXPECT_EQ(FieldPath("Node", "kind"), "Node.kind");
  EXPECT_EQ(FieldPath("", "kind"), "kind");
  EXPECT_EQ(FieldPath("Node.status.capacity", "sgx.intel.com/epc"),
            "Node.status.capacity[\"sgx.intel.com/epc\"]");
  EXPECT_EQ(FieldPath("x", "0"), "x[\"0\"]");
}

TEST(KubeJsonFields, ParseJsonObjectRefusesWhatIsNotAnObject) {
  EXPECT_TRUE(ParseJsonObject(R"({"a":1})", "t").ok());
  for (const char* bad : {"", "nul", "[1]", "5", "\"s\"", "null", "{\"a\":", "{} {}", "\xff"}) {
    auto r = ParseJsonObject(bad, "the thing");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    EXPECT_EQ(r.status().message().rfind("the thing: ", 0), 0u) << r.status().message();
  }
  EXPECT_NE(ParseJsonObject("[1]", "t").status().message().find("an array of 1, not an object"),
            std::string::npos);
}

TEST(KubeJsonFields, DepthIsBoundedOutsideStrings) {
  auto nested = [](int depth) {
    return std::string("{\"a\":") + std::string(size_t(depth - 1), '[') +
           std::string(size_t(depth - 1), ']') + "}";
  };
  EXPECT_TRUE(ParseJsonObject(nested(kMaxJsonDepth), "t").ok());
  auto deep = ParseJsonObject(nested(kMaxJsonDepth + 1), "t");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("nested deeper than 64"), std::string::npos);
  // Brackets and escaped quotes inside strings do not count.
  std::string s = "{\"a\":\"\\\"" + std::string(500, '{') + "\"}";
  EXPECT_TRUE(ParseJsonObject(s, "t").ok());
}

TEST(KubeJsonFields, MembersAreTypeChecked) {
  json o = json::parse(R"({"s":"x","n":5,"neg":-1,"f":1.5,"big":1e30,"b":true,"z":null,
                          "o":{},"a":[],"max":18446744073709551615})");
  EXPECT_EQ(*RequiredString(o, "obj", "s"), "x");
  EXPECT_EQ(RequiredString(o, "obj", "n").status().message(),
            "obj.n is a number (5), not a string");
  EXPECT_EQ(RequiredString(o, "obj", "missing").status().message(), "obj.missing is missing");
  EXPECT_EQ(RequiredString(o, "obj", "z").status().message(), "obj.z is missing");
  EXPECT_FALSE(OptionalString(o, "obj", "missing")->has_value());
  EXPECT_FALSE(OptionalString(o, "obj", "z")->has_value());
  EXPECT_FALSE(OptionalString(o, "obj", "b").ok());
  EXPECT_TRUE(*OptionalMember(o, "obj", "o", JsonType::kObject) != nullptr);
  EXPECT_EQ(OptionalMember(o, "obj", "a", JsonType::kObject).status().message(),
            "obj.a is an array of 0, not an object");
  EXPECT_TRUE(OptionalMember(o, "obj", "a", JsonType::kArray).ok());
  EXPECT_TRUE(OptionalMember(o, "obj", "b", JsonType::kBoolean).ok());
  EXPECT_TRUE(OptionalMember(o, "obj", "n", JsonType::kWholeNumber).ok());
  EXPECT_FALSE(OptionalMember(o, "obj", "f", JsonType::kWholeNumber).ok());
  // Members of something that is not an object.
  EXPECT_EQ(OptionalMember(json(5), "obj", "s", JsonType::kString).status().message(),
            "obj is a number (5), not an object");
  EXPECT_FALSE(OptionalUint(json::array(), "obj", "n").ok());
}

TEST(KubeJsonFields, WholeNumbersNearTheLimits) {
  json o = json::parse(R"({"n":5,"zero":0,"neg":-1,"f":1.5,"big":1e30,"max":18446744073709551615,
                          "over":18446744073709551616,"s":"5"})");
  EXPECT_EQ(OptionalUint(o, "o", "n")->value_or(0), 5u);
  EXPECT_EQ(OptionalUint(o, "o", "zero")->value_or(1), 0u);
  EXPECT_EQ(OptionalUint(o, "o", "max")->value_or(0), UINT64_MAX);
  EXPECT_FALSE(OptionalUint(o, "o", "missing")->has_value());
  for (const char* bad : {"neg", "f", "big", "over"}) {
    auto r = OptionalUint(o, "o", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("not a whole number in 0..2^64-1"), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(OptionalUint(o, "o", "s").status().message(),
            "o.s is a string (\"5\"), not a whole number");
}

}  // namespace
}  // namespace confcom::kube
