// The tests' JSON-patch tool answers as the API server does: patches apply, a failed "test" or
// a missing parent refuses with the library's message; YAML manifests become JSON.
#include "testing/json_patch.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/test_util.h"

namespace confcom::testing {
namespace {

using nlohmann::json;

TEST(JsonPatchTest, AppliesAnRfc6902Patch) {
  auto out = ApplyJsonPatch(R"({"metadata":{"name":"n"},"status":{"capacity":{"cpu":"2"}}})",
                            R"([{"op":"test","path":"/metadata/name","value":"n"},
                                {"op":"add","path":"/status/capacity/sgx.intel.com~1epc",
                                 "value":"8589934592"},
                                {"op":"remove","path":"/status/capacity/cpu"}])");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(
      json::parse(*out),
      json::parse(
          R"({"metadata":{"name":"n"},"status":{"capacity":{"sgx.intel.com/epc":"8589934592"}}})"));
}

TEST(JsonPatchTest, RefusesAFailedTestAndAMissingParent) {
  auto failed = ApplyJsonPatch(R"({"a":1})", R"([{"op":"test","path":"/a","value":2}])");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(failed.status().message().find("does not apply"), std::string::npos)
      << failed.status().ToString();
  // A Node without status.capacity: the API server's 422 (issue 21's bare 422).
  auto missing = ApplyJsonPatch(R"({"status":{}})",
                                R"([{"op":"add","path":"/status/capacity/x","value":"1"}])");
  EXPECT_FALSE(missing.ok());
  auto garbage = ApplyJsonPatch(R"({})", "not a patch");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("does not decode"), std::string::npos);
}

// YAML 1.1 keys such as `on` and `1` become "true" and "1", as in Kubernetes' YAML reader.
TEST(JsonPatchTest, TurnsMultiDocumentYamlIntoAJsonArray) {
  TempDir dir;
  WriteAll(
      dir.File("m.yaml"),
      "---\nkind: A\nspec: {size: 8589934592, s: \"01\"}\n---\n# only a comment\n---\nkind: B\nlist: [x, {on: true}]\n1: one\n");
  auto docs = YamlToJson(dir.File("m.yaml"));
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_EQ(json::parse(*docs), json::parse(R"([{"kind":"A","spec":{"size":8589934592,"s":"01"}},
                                                {"kind":"B","list":["x",{"true":true}],"1":"one"}])"));
  EXPECT_FALSE(YamlDocumentToJson(dir.File("m.yaml")).ok());  // two documents
  WriteAll(dir.File("bad.yaml"), "a: [1\n");
  EXPECT_EQ(YamlToJson(dir.File("bad.yaml")).status().code(), Status::Code::kInvalidArgument);
}

TEST(JsonPatchTest, ReadsAShippedWebhookConfiguration) {
  auto doc = YamlDocumentToJson(std::string(CONFCOM_SOURCE_DIR) +
                                "/deploy/components/webhook/mutating-webhook.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(json::parse(*doc).value("kind", ""), "MutatingWebhookConfiguration");
}

}  // namespace
}  // namespace confcom::testing
