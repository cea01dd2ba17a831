#include "common/bytes.h"

#include <gtest/gtest.h>

namespace confcom {
namespace {

TEST(HexTest, RoundTrip) {
  Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(b), "0001abff");
  auto back = FromHex("0001ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
  EXPECT_EQ(*FromHex("0x10"), Bytes{0x10});
}

TEST(HexTest, RejectsBadInputWithPosition) {
  auto odd = FromHex("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("odd number"), std::string::npos);
  auto bad = FromHex("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("position 2"), std::string::npos);
  auto size = FromHexExact("0011", 3, "--nonce");
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("--nonce: expected 3 bytes"), std::string::npos);
}

TEST(LittleEndianTest, LoadsAndStores) {
  uint8_t buf[8];
  StoreLe32(buf, 0x11223344);
  EXPECT_EQ(buf[0], 0x44);
  EXPECT_EQ(buf[3], 0x11);
  EXPECT_EQ(LoadLe32(buf), 0x11223344u);
  StoreLe64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);
  EXPECT_EQ(LoadLe64(buf), 0x0102030405060708ull);
  StoreLe16(buf, 0xbeef);
  EXPECT_EQ(LoadLe16(buf), 0xbeef);
}

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
  EXPECT_TRUE(ConstantTimeEqual(a, b));
  EXPECT_FALSE(ConstantTimeEqual(a, c));
  EXPECT_FALSE(ConstantTimeEqual(a, d));
}

}  // namespace
}  // namespace confcom
