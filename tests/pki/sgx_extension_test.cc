#include "pki/sgx_extension.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/test_util.h"

namespace confcom::pki {
namespace {

SgxExtension Sample(bool platform_fields) {
  SgxExtension e;
  for (size_t i = 0; i < 16; ++i) e.ppid[i] = uint8_t(0xa0 + i);
  e.tcb.components = {14, 14, 3, 3, 255, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7};
  e.tcb.pcesvn = 13;
  for (size_t i = 0; i < 16; ++i) e.tcb.cpusvn[i] = uint8_t(i);
  e.pce_id = {0x00, 0x01};
  e.fmspc = {'S', 'I', 'M', 'U', 'L', 'A'};
  e.sgx_type = 1;
  if (platform_fields) {
    e.platform_instance_id = sgx::Array<16>{};
    e.platform_instance_id->fill(0x5a);
    e.configuration = SgxPlatformConfiguration{true, false, true};
  }
  return e;
}

TEST(SgxExtensionTest, RoundTrip) {
  for (bool platform : {false, true}) {
    auto der = EncodeSgxExtension(Sample(platform));
    ASSERT_TRUE(der.ok());
    auto back = DecodeSgxExtension(*der);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, Sample(platform));
  }
}

TEST(SgxExtensionTest, OpensslParsesTheStructure) {
  auto der = EncodeSgxExtension(Sample(true));
  ASSERT_TRUE(der.ok());
  testing::TempDir dir;
  testing::WriteAll(dir.File("ext.der"), std::string(AsChars(*der)));
  auto r = testing::RunCommand("openssl asn1parse -inform DER -in " + dir.File("ext.der"));
  ASSERT_EQ(r.status, 0) << r.output;
  // Top-level OIDs .1 to .7, TCB component OIDs .2.1 .. .2.18, types as the spec says.
  for (const char* oid :
       {":1.2.840.113741.1.13.1.1\n", ":1.2.840.113741.1.13.1.2\n", ":1.2.840.113741.1.13.1.2.1\n",
        ":1.2.840.113741.1.13.1.2.16\n", ":1.2.840.113741.1.13.1.2.17\n",
        ":1.2.840.113741.1.13.1.2.18\n", ":1.2.840.113741.1.13.1.3\n", ":1.2.840.113741.1.13.1.4\n",
        ":1.2.840.113741.1.13.1.5\n", ":1.2.840.113741.1.13.1.6\n",
        ":1.2.840.113741.1.13.1.7.3\n"}) {
    EXPECT_NE(r.output.find(oid), std::string::npos) << oid << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("ENUMERATED        :01"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("OCTET STRING      :SIMULA"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("INTEGER           :FF"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("BOOLEAN           :255"), std::string::npos) << r.output;
}

TEST(SgxExtensionTest, RejectsMissingOrMistypedFields) {
  EXPECT_FALSE(DecodeSgxExtension(Bytes{0x04, 0x00}).ok());
  auto der = *EncodeSgxExtension(Sample(false));
  // Truncating the DER breaks it.
  EXPECT_FALSE(DecodeSgxExtension(ByteSpan(der).first(der.size() - 1)).ok());
  // An empty SEQUENCE lacks every field.
  auto empty = DecodeSgxExtension(Bytes{0x30, 0x00});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("lacks PPID"), std::string::npos);
}

// SEQUENCE { OID 1.2.840.113741.1.13.1.4, OCTET STRING of 6 }: the FMSPC member.
Bytes FmspcPair(const sgx::Array<6>& fmspc) {
  std::array<uint8_t, 22> pair = {0x30, 0x14, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86,
                                  0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x04, 0x04, 0x06};
  std::copy(fmspc.begin(), fmspc.end(), pair.begin() + 16);
  return Bytes(pair.begin(), pair.end());
}

// A second FMSPC (or any member twice) would make the value depend on the parser: refused.
TEST(SgxExtensionTest, RefusesAMemberTwice) {
  auto der = *EncodeSgxExtension(Sample(false));
  Bytes pair = FmspcPair(Sample(false).fmspc);
  ASSERT_NE(std::search(der.begin(), der.end(), pair.begin(), pair.end()), der.end())
      << "the encoding should hold the FMSPC member as written here";
  // Outer SEQUENCE with a two-byte length (0x30 0x82 hi lo): append a second FMSPC member.
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[1], 0x82);
  Bytes content(der.begin() + 4, der.end());
  sgx::Array<6> other = {'O', 'T', 'H', 'E', 'R', '!'};
  Bytes second = FmspcPair(other);
  content.insert(content.end(), second.begin(), second.end());
  Bytes twice = {0x30, 0x82, uint8_t(content.size() >> 8), uint8_t(content.size())};
  twice.insert(twice.end(), content.begin(), content.end());
  auto r = DecodeSgxExtension(twice);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1.2.840.113741.1.13.1.4 appears more than once"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace confcom::pki
