#include "sgx/types.h"

#include <gtest/gtest.h>

namespace confcom::sgx {
namespace {

template <size_t N>
Array<N> Fill(uint8_t v) {
  Array<N> a;
  a.fill(v);
  return a;
}

TEST(ReportBodyTest, FieldsLandAtTheSpecOffsets) {
  ReportBody b;
  b.cpu_svn = Fill<16>(0x11);
  b.misc_select = 0x22232425;
  b.isv_ext_prod_id = Fill<16>(0x33);
  b.attributes = {0x0807060504030201ull, 0x1817161514131211ull};
  b.mr_enclave = Fill<32>(0x44);
  b.mr_signer = Fill<32>(0x55);
  b.config_id = Fill<64>(0x66);
  b.isv_prod_id = 0x7172;
  b.isv_svn = 0x8182;
  b.config_svn = 0x9192;
  b.isv_family_id = Fill<16>(0xa1);
  b.report_data = Fill<64>(0xb1);
  auto e = b.Encode();
  EXPECT_EQ(e[0], 0x11);
  EXPECT_EQ(e[15], 0x11);
  EXPECT_EQ(e[16], 0x25);  // misc_select, little-endian
  EXPECT_EQ(e[19], 0x22);
  for (size_t i = 20; i < 32; ++i) EXPECT_EQ(e[i], 0) << "reserved1 @" << i;
  EXPECT_EQ(e[32], 0x33);
  EXPECT_EQ(e[48], 0x01);  // attributes.flags
  EXPECT_EQ(e[56], 0x11);  // attributes.xfrm
  EXPECT_EQ(e[64], 0x44);
  EXPECT_EQ(e[95], 0x44);
  EXPECT_EQ(e[96], 0x00);  // reserved2
  EXPECT_EQ(e[128], 0x55);
  EXPECT_EQ(e[160], 0x00);  // reserved3
  EXPECT_EQ(e[192], 0x66);
  EXPECT_EQ(e[255], 0x66);
  EXPECT_EQ(e[256], 0x72);
  EXPECT_EQ(e[257], 0x71);
  EXPECT_EQ(e[258], 0x82);
  EXPECT_EQ(e[260], 0x92);
  EXPECT_EQ(e[262], 0x00);  // reserved4
  EXPECT_EQ(e[304], 0xa1);
  EXPECT_EQ(e[320], 0xb1);
  EXPECT_EQ(e[383], 0xb1);
  auto back = ReportBody::Decode(e);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
}

TEST(ReportTest, KeyIdAndMacOffsets) {
  Report r;
  r.key_id = Fill<32>(0xc1);
  r.mac = Fill<16>(0xd1);
  auto e = r.Encode();
  ASSERT_EQ(e.size(), 432u);
  EXPECT_EQ(e[383], 0x00);
  EXPECT_EQ(e[384], 0xc1);
  EXPECT_EQ(e[415], 0xc1);
  EXPECT_EQ(e[416], 0xd1);
  EXPECT_EQ(e[431], 0xd1);
  EXPECT_FALSE(Report::Decode(ByteSpan(e).first(431)).ok());
}

TEST(TargetInfoTest, FieldsLandAtTheSpecOffsets) {
  TargetInfo t;
  t.mr_enclave = Fill<32>(0x01);
  t.attributes = {0x15, 0x3};
  t.config_svn = 0x0203;
  t.misc_select = 0x04050607;
  t.config_id = Fill<64>(0x08);
  auto e = t.Encode();
  ASSERT_EQ(e.size(), 512u);
  EXPECT_EQ(e[31], 0x01);
  EXPECT_EQ(e[32], 0x15);
  EXPECT_EQ(e[40], 0x03);
  EXPECT_EQ(e[48], 0x00);
  EXPECT_EQ(e[50], 0x03);
  EXPECT_EQ(e[51], 0x02);
  EXPECT_EQ(e[52], 0x07);
  EXPECT_EQ(e[56], 0x00);
  EXPECT_EQ(e[64], 0x08);
  EXPECT_EQ(e[127], 0x08);
  EXPECT_EQ(e[128], 0x00);
  EXPECT_EQ(*TargetInfo::Decode(e), t);
}

TEST(QeReportInfoTest, Layout) {
  QeReportInfo q;
  q.nonce = Fill<16>(0xaa);
  q.app_target_info.mr_enclave = Fill<32>(0xbb);
  q.qe_report.mac = Fill<16>(0xcc);
  auto e = q.Encode();
  ASSERT_EQ(e.size(), 960u);
  EXPECT_EQ(e[15], 0xaa);
  EXPECT_EQ(e[16], 0xbb);
  EXPECT_EQ(e[16 + 512 + 416], 0xcc);
  auto back = QeReportInfo::Decode(e);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->app_target_info.mr_enclave, q.app_target_info.mr_enclave);
  EXPECT_FALSE(QeReportInfo::Decode(ByteSpan(e).first(959)).ok());
}

}  // namespace
}  // namespace confcom::sgx
