#include "common/status.h"

#include <gtest/gtest.h>

namespace confcom {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CONFCOM_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status st = Status::NotFound("thing");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.ToString(), "not found: thing");
  EXPECT_EQ(st.WithContext("loading").message(), "loading: thing");
}

TEST(StatusTest, FromErrnoNamesTheError) {
  Status st = Status::FromErrno("open /x", ENOENT);
  EXPECT_EQ(st.code(), Status::Code::kIoError);
  EXPECT_NE(st.message().find("No such file"), std::string::npos);
}

TEST(ResultTest, PropagatesErrors) {
  auto ok = Quarter(12);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "3 is odd");
}

}  // namespace
}  // namespace confcom
