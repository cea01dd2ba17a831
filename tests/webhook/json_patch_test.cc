// The JSON Patch builder (webhook/json_patch.h): escaping, parents created, bad shapes refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/json_pointer.h"
#include "webhook/json_patch.h"

namespace confcom::webhook {
namespace {

using nlohmann::json;

TEST(WebhookJsonPatch, EscapesAndCreatesParents) {
  EXPECT_EQ(confcom::EscapeJsonPointerToken("sgx.intel.com/epc"), "sgx.intel.com~1epc");
  EXPECT_EQ(confcom::EscapeJsonPointerToken("a~b/c"), "a~0b~1c");
  json doc = {{"metadata", {{"name", "x"}}},
              {"spec", {{"containers", json::array({{{"name", "c"}}})}}}};
  PatchBuilder b(doc);
  ASSERT_TRUE(
      b.Add({std::string("metadata"), std::string("annotations"), std::string("a/b")}, "1"));
  ASSERT_TRUE(
      b.Add({std::string("metadata"), std::string("annotations"), std::string("c~d")}, "2"));
  ASSERT_TRUE(
      b.Append({std::string("spec"), std::string("containers"), size_t(0), std::string("env")},
               json{{"name", "E"}}));
  ASSERT_TRUE(
      b.Append({std::string("spec"), std::string("containers"), size_t(0), std::string("env")},
               json{{"name", "F"}}));
  EXPECT_EQ(b.patch()[0]["path"], "/metadata/annotations");
  EXPECT_EQ(b.patch()[1]["path"], "/metadata/annotations/c~0d");
  EXPECT_EQ(b.patch()[3]["path"], "/spec/containers/0/env/-");
  EXPECT_EQ(doc.patch(b.patch()), b.document());
  // Through a string where an object should be: refused, nothing emitted.
  PatchBuilder c(json{{"metadata", "oops"}});
  EXPECT_FALSE(c.Add({std::string("metadata"), std::string("annotations"), std::string("k")}, "v"));
  EXPECT_TRUE(c.patch().empty());
}

}  // namespace
}  // namespace confcom::webhook
