#include "sgx/sim_report.h"

#include <gtest/gtest.h>

#include <cstring>

#include "testing/test_util.h"

namespace confcom::sgx {
namespace {

// AES-128-CMAC computed by the openssl command line: independent of our code.
std::string OpensslCmac(const std::string& key_hex, ByteSpan data) {
  testing::TempDir dir;
  std::string in = dir.File("in");
  testing::WriteAll(in, std::string(AsChars(data)));
  auto r = testing::RunCommand("openssl mac -cipher AES-128-CBC -macopt hexkey:" + key_hex +
                               " -in " + in + " CMAC");
  EXPECT_EQ(r.status, 0) << r.output;
  std::string out = r.output.substr(0, 32);
  for (char& c : out) c = char(std::tolower(c));
  return out;
}

TargetInfo SomeTarget() {
  TargetInfo t;
  for (size_t i = 0; i < 32; ++i) t.mr_enclave[i] = uint8_t(i * 7);
  t.attributes = {0x15, 0xe7};
  t.misc_select = 0x01020304;
  t.config_svn = 0x0506;
  for (size_t i = 0; i < 64; ++i) t.config_id[i] = uint8_t(0x80 + i);
  return t;
}

ReportBody SomeBody() {
  ReportBody b;
  b.cpu_svn = kSimCpuSvnDefault;
  b.attributes = {kFlagInitted | kFlagMode64Bit, 0x3};
  b.mr_enclave.fill(0x42);
  b.mr_signer.fill(0x24);
  b.isv_prod_id = 3;
  b.report_data.fill(0x99);
  return b;
}

// The derivation buffer written out by hand from docs/simulation.md.
Bytes SpecBuffer192(const TargetInfo& t, const Array<16>& cpusvn, const Array<32>& key_id) {
  Bytes buf(192, 0);
  buf[0] = 0x03;
  for (int i = 0; i < 8; ++i) buf[8 + i] = uint8_t(t.attributes.flags >> (8 * i));
  for (int i = 0; i < 8; ++i) buf[16 + i] = uint8_t(t.attributes.xfrm >> (8 * i));
  for (int i = 0; i < 4; ++i) buf[24 + i] = uint8_t(t.misc_select >> (8 * i));
  std::memcpy(&buf[28], "THISISOWNEREPOCH", 16);
  std::memcpy(&buf[44], t.mr_enclave.data(), 32);
  std::memcpy(&buf[76], cpusvn.data(), 16);
  buf[92] = uint8_t(t.config_svn);
  buf[93] = uint8_t(t.config_svn >> 8);
  std::memcpy(&buf[94], t.config_id.data(), 64);
  std::memcpy(&buf[158], key_id.data(), 32);
  return buf;
}

Bytes SpecBuffer120(const TargetInfo& t, const Array<16>& cpusvn, const Array<32>& key_id) {
  Bytes buf(120, 0);
  buf[0] = 0x03;
  for (int i = 0; i < 8; ++i) buf[8 + i] = uint8_t(t.attributes.flags >> (8 * i));
  for (int i = 0; i < 8; ++i) buf[16 + i] = uint8_t(t.attributes.xfrm >> (8 * i));
  std::memcpy(&buf[24], "THISISOWNEREPOCH", 16);
  std::memcpy(&buf[40], t.mr_enclave.data(), 32);
  std::memcpy(&buf[72], cpusvn.data(), 16);
  std::memcpy(&buf[88], key_id.data(), 32);
  return buf;
}

TEST(SimReportTest, KeyIdConstant) {
  EXPECT_EQ(ToHex(SimReportKeyId()),
            "ff00ff00ff00ff00ff00ff00ff00ff0000000000000000000000000000000000");
}

TEST(SimReportTest, MacMatchesOpensslCliFor192ByteLayout) {
  TargetInfo t = SomeTarget();
  ReportBody body = SomeBody();
  auto report = MakeSimReport(t, body, ReportKeyLayout::kSdk219);
  ASSERT_TRUE(report.ok());
  std::string key = OpensslCmac("ff00ff00ff00ff00ff00ff00ff00ff00",
                                SpecBuffer192(t, body.cpu_svn, SimReportKeyId()));
  auto encoded = body.Encode();
  EXPECT_EQ(ToHex(report->mac), OpensslCmac(key, encoded));
  EXPECT_EQ(report->key_id, SimReportKeyId());
}

TEST(SimReportTest, MacMatchesOpensslCliFor120ByteLayout) {
  TargetInfo t = SomeTarget();
  ReportBody body = SomeBody();
  auto report = MakeSimReport(t, body, ReportKeyLayout::kLegacy);
  ASSERT_TRUE(report.ok());
  std::string key = OpensslCmac("ff00ff00ff00ff00ff00ff00ff00ff00",
                                SpecBuffer120(t, body.cpu_svn, SimReportKeyId()));
  auto encoded = body.Encode();
  EXPECT_EQ(ToHex(report->mac), OpensslCmac(key, encoded));
}

TEST(SimReportTest, CheckAcceptsBothLayoutsForTheRightTarget) {
  TargetInfo t = SomeTarget();
  for (auto layout : {ReportKeyLayout::kSdk219, ReportKeyLayout::kLegacy}) {
    auto report = MakeSimReport(t, SomeBody(), layout);
    auto encoded = report->Encode();
    auto got = CheckSimReportMac(t, encoded);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, layout);
  }
}

TEST(SimReportTest, CheckRejectsOtherTargetsAndTampering) {
  TargetInfo t = SomeTarget();
  auto encoded = MakeSimReport(t, SomeBody())->Encode();
  TargetInfo other = t;
  other.mr_enclave[0] ^= 1;
  auto wrong = CheckSimReportMac(other, encoded);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Status::Code::kPermissionDenied);
  TargetInfo other_svn = t;
  other_svn.config_svn += 1;
  EXPECT_FALSE(CheckSimReportMac(other_svn, encoded).ok());
  for (size_t off : {0u, 100u, 320u, 383u, 390u, 420u}) {
    auto tampered = encoded;
    tampered[off] ^= 0x01;
    EXPECT_FALSE(CheckSimReportMac(t, tampered).ok()) << "byte " << off;
  }
  EXPECT_EQ(CheckSimReportMac(t, ByteSpan(encoded).first(431)).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace confcom::sgx
