#include "sgx/att_key_id.h"

#include <gtest/gtest.h>

namespace confcom::sgx {
namespace {

TEST(AttKeyIdTest, EcdsaKeyIdBytes) {
  AttKeyId k = EcdsaP256AttKeyId();
  EXPECT_EQ(LoadLe16(k.data() + 0), 0);   // id
  EXPECT_EQ(LoadLe16(k.data() + 2), 0);   // version
  EXPECT_EQ(LoadLe16(k.data() + 4), 32);  // mrsigner_length
  EXPECT_EQ(ToHex(ByteSpan(k).subspan(6, 32)),
            "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
  EXPECT_EQ(LoadLe32(k.data() + 54), 1u);   // prod_id
  EXPECT_EQ(LoadLe32(k.data() + 154), 2u);  // algorithm_id
  for (size_t i = 158; i < 256; ++i) EXPECT_EQ(k[i], 0) << i;
  auto f = DecodeAttKeyId(k);
  EXPECT_EQ(f.algorithm_id, kAlgorithmEcdsaP256);
  EXPECT_NE(DescribeAttKeyId(k).find("ECDSA-P256"), std::string::npos);
}

TEST(AttKeyIdTest, BaseComparisonIgnoresTheExtension) {
  AttKeyId a = EcdsaP256AttKeyId(), b = a;
  b[200] = 7;  // in spid/att_key_type/reserved
  EXPECT_TRUE(SameKeyBase(a, b));
  b[154] = 3;  // algorithm
  EXPECT_FALSE(SameKeyBase(a, b));
}

TEST(AttKeyIdListTest, RoundTripAndValidation) {
  AttKeyId epid{};
  Bytes list = EncodeAttKeyIdList({epid, EcdsaP256AttKeyId()});
  ASSERT_EQ(list.size(), 8u + 512u);
  auto parsed = ParseAttKeyIdList(list);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[1], EcdsaP256AttKeyId());

  EXPECT_FALSE(ParseAttKeyIdList(ByteSpan(list).first(7)).ok());
  EXPECT_FALSE(ParseAttKeyIdList(ByteSpan(list).first(list.size() - 1)).ok());
  Bytes bad_version = list;
  bad_version[2] = 1;
  EXPECT_FALSE(ParseAttKeyIdList(bad_version).ok());
  Bytes too_many = list;
  StoreLe32(too_many.data() + 4, 11);
  auto r = ParseAttKeyIdList(too_many);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("11"), std::string::npos);
}

}  // namespace
}  // namespace confcom::sgx
