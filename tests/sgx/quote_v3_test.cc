#include "sgx/quote_v3.h"

#include <gtest/gtest.h>

#include <cstring>

namespace confcom::sgx {
namespace {

// Overwrites `size` bytes at `offset` with `v`, little-endian, bounds-checked. (Raw stores
// through data() into a copied vector trip GCC 12's -Wstringop-overflow at -O3.)
void PutLe(Bytes& b, size_t offset, uint32_t v, int size) {
  for (int i = 0; i < size; ++i) b.at(offset + size_t(i)) = uint8_t(v >> (8 * i));
}

// A v3 quote written byte by byte from the offsets in docs/dcap-quote.md, without
// our encoder.
Bytes HandBuiltQuote(size_t cert_len = 100) {
  const size_t auth_len = 32;
  Bytes q(1020 + auth_len + cert_len, 0);
  auto le16 = [&](size_t off, uint16_t v) {
    q[off] = uint8_t(v);
    q[off + 1] = uint8_t(v >> 8);
  };
  auto le32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) q[off + i] = uint8_t(v >> (8 * i));
  };
  le16(0, 3);    // version
  le16(2, 2);    // att_key_type
  le32(4, 0);    // tee_type
  le16(8, 8);    // qe_svn
  le16(10, 13);  // pce_svn
  const uint8_t vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                              0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
  std::memcpy(&q[12], vendor, 16);
  std::memset(&q[28], 0xd0, 16);        // QE-ID
  std::memset(&q[48 + 64], 0xe1, 32);   // app mr_enclave
  std::memset(&q[48 + 320], 0xe2, 64);  // app report_data
  le32(432, uint32_t(q.size() - 436));  // signature data length
  std::memset(&q[436], 0x51, 64);       // quote signature
  std::memset(&q[500], 0x52, 64);       // attestation key
  std::memset(&q[564 + 64], 0x53, 32);  // QE mr_enclave
  le16(564 + 256, 1);                   // QE isv_prod_id
  std::memset(&q[948], 0x54, 64);       // QE report signature
  le16(1012, uint16_t(auth_len));
  for (size_t i = 0; i < auth_len; ++i) q[1014 + i] = uint8_t(i);
  le16(1014 + auth_len, 5);
  le32(1016 + auth_len, uint32_t(cert_len));
  std::memset(&q[1020 + auth_len], 'C', cert_len);
  return q;
}

TEST(QuoteV3Test, ParsesAHandBuiltQuote) {
  Bytes bytes = HandBuiltQuote();
  auto parsed = ParseQuoteV3(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const QuoteV3& q = parsed->quote;
  EXPECT_EQ(q.header.version, 3);
  EXPECT_EQ(q.header.att_key_type, 2);
  EXPECT_EQ(q.header.qe_svn, 8);
  EXPECT_EQ(q.header.pce_svn, 13);
  EXPECT_EQ(q.header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_EQ(q.header.user_data[0], 0xd0);
  EXPECT_EQ(q.app_report.mr_enclave[0], 0xe1);
  EXPECT_EQ(q.app_report.report_data[63], 0xe2);
  EXPECT_EQ(q.signature[0], 0x51);
  EXPECT_EQ(q.attest_key[63], 0x52);
  EXPECT_EQ(q.qe_report.mr_enclave[0], 0x53);
  EXPECT_EQ(q.qe_report.isv_prod_id, 1);
  EXPECT_EQ(q.qe_report_signature[0], 0x54);
  ASSERT_EQ(q.qe_auth_data.size(), 32u);
  EXPECT_EQ(q.qe_auth_data[31], 31);
  EXPECT_EQ(q.cert_data_type, kCertDataPckChain);
  EXPECT_EQ(q.cert_data, Bytes(100, 'C'));
  EXPECT_EQ(parsed->trailing_bytes, 0u);
  // Our encoder reproduces the same bytes.
  EXPECT_EQ(q.Encode(), bytes);
  EXPECT_EQ(q.EncodedSize(), bytes.size());
}

TEST(QuoteV3Test, ToleratesZeroPaddingAndReportsIt) {
  Bytes bytes = HandBuiltQuote();
  bytes.resize(bytes.size() + 64, 0);
  auto parsed = ParseQuoteV3(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->trailing_bytes, 64u);
  EXPECT_TRUE(parsed->trailing_all_zero);
}

TEST(QuoteV3Test, EveryTruncationFailsWithAnOffset) {
  Bytes bytes = HandBuiltQuote(10);
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto parsed = ParseQuoteV3(ByteSpan(bytes).first(len));
    ASSERT_FALSE(parsed.ok()) << "length " << len;
    EXPECT_NE(parsed.status().message().find("offset"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(QuoteV3Test, NamesTheBrokenField) {
  Bytes bytes = HandBuiltQuote();
  auto expect_error = [](const Bytes& b, const std::string& needle) {
    auto parsed = ParseQuoteV3(b);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find(needle), std::string::npos)
        << parsed.status().message();
  };
  Bytes v4 = bytes;
  v4[0] = 4;
  expect_error(v4, "version");
  Bytes p384 = bytes;
  p384[2] = 3;
  expect_error(p384, "attestation key type");
  Bytes long_sig = bytes;
  PutLe(long_sig, 432, uint32_t(bytes.size()), 4);
  expect_error(long_sig, "signature data length");
  Bytes big_cert = bytes;
  PutLe(big_cert, 1016 + 32, 5000, 4);
  expect_error(big_cert, "certification data needs 5000 bytes");
  Bytes bad_type = bytes;
  PutLe(bad_type, 1014 + 32, 9, 2);
  expect_error(bad_type, "certification data type");
  Bytes short_sig_len = bytes;
  PutLe(short_sig_len, 432, uint32_t(bytes.size() - 436 + 8), 4);
  short_sig_len.resize(short_sig_len.size() + 8, 0);
  expect_error(short_sig_len, "fields end after");
}

TEST(QuoteV3Test, SignedBytesAreHeaderAndAppBody) {
  auto q = ParseQuoteV3(HandBuiltQuote())->quote;
  auto signed_bytes = q.SignedBytes();
  Bytes bytes = HandBuiltQuote();
  EXPECT_EQ(Bytes(signed_bytes.begin(), signed_bytes.end()),
            Bytes(bytes.begin(), bytes.begin() + 432));
}

}  // namespace
}  // namespace confcom::sgx
