#include "verify/json_raw.h"

#include <gtest/gtest.h>

namespace confcom::verify {
namespace {

TEST(JsonRawTest, ReturnsTheExactMemberText) {
  std::string doc = R"( { "a" : 1 , "tcbInfo":{"x":"}{\"]","y":[1,{"z":[]}]} ,"signature":"ab"} )";
  auto raw = RawMemberText(doc, "tcbInfo");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, R"({"x":"}{\"]","y":[1,{"z":[]}]})");
  EXPECT_EQ(*RawMemberText(doc, "signature"), "\"ab\"");
  EXPECT_EQ(*RawMemberText(doc, "a"), "1");
}

TEST(JsonRawTest, Errors) {
  EXPECT_EQ(RawMemberText(R"({"a":1})", "b").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(RawMemberText("{}", "b").status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(RawMemberText("[1]", "a").ok());
  EXPECT_FALSE(RawMemberText(R"({"a":{"b":1})", "zzz").ok());
  EXPECT_FALSE(RawMemberText(R"({"a":"unterminated})", "a").ok());
  EXPECT_FALSE(RawMemberText(R"({"a" 1})", "a").ok());
}

}  // namespace
}  // namespace confcom::verify

namespace confcom::verify {
namespace {

TEST(JsonRawTest, RefusesADuplicateMember) {
  auto r = RawMemberText(R"({"tcbInfo":{"a":1},"tcbInfo":{"a":2},"signature":"00"})", "tcbInfo");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than one"), std::string::npos);
}

}  // namespace
}  // namespace confcom::verify
