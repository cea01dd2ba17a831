// The DCAP ECDSA quote, version 3 (sgx_quote3_t): encoding and a bounds-checked parser whose
// errors name the field and offset where the input went wrong. Layout: docs/dcap-quote.md.
// Plain values and pure functions: safe from any thread.
#pragma once

#include <string>

#include "crypto/crypto.h"
#include "sgx/types.h"

namespace confcom::sgx {

inline constexpr uint16_t kQuoteVersion3 = 3;
inline constexpr uint16_t kAttKeyTypeEcdsaP256 = 2;
inline constexpr uint32_t kTeeTypeSgx = 0;
inline constexpr Array<16> kIntelQeVendorId = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
// Certification data types.
inline constexpr uint16_t kCertDataPpidCleartext = 1;
inline constexpr uint16_t kCertDataPpidRsa2048 = 2;
inline constexpr uint16_t kCertDataPpidRsa3072 = 3;
inline constexpr uint16_t kCertDataPckLeaf = 4;
inline constexpr uint16_t kCertDataPckChain = 5;
inline constexpr uint16_t kCertDataQeReport = 6;
const char* CertDataTypeName(uint16_t type);

// Absolute offsets of the fixed part.
inline constexpr size_t kQuoteHeaderSize = 48;
inline constexpr size_t kQuoteAppReportOffset = 48;
inline constexpr size_t kQuoteSignedSize = 432;  // header + app report body
inline constexpr size_t kQuoteSigDataLenOffset = 432;
inline constexpr size_t kQuoteSignatureOffset = 436;
inline constexpr size_t kQuoteAttestKeyOffset = 500;
inline constexpr size_t kQuoteQeReportOffset = 564;
inline constexpr size_t kQuoteQeReportSigOffset = 948;
inline constexpr size_t kQuoteQeAuthSizeOffset = 1012;
inline constexpr size_t kQuoteQeAuthDataOffset = 1014;

struct QuoteHeader {
  uint16_t version = kQuoteVersion3;
  uint16_t att_key_type = kAttKeyTypeEcdsaP256;
  uint32_t tee_type = kTeeTypeSgx;  // att_key_data_0
  uint16_t qe_svn = 0;
  uint16_t pce_svn = 0;
  Array<16> qe_vendor_id = kIntelQeVendorId;
  Array<20> user_data{};  // first 16 bytes: QE-ID

  Array<kQuoteHeaderSize> Encode() const;
  static QuoteHeader Decode(const uint8_t* p);  // p points at kQuoteHeaderSize bytes
};

struct QuoteV3 {
  QuoteHeader header;
  ReportBody app_report;
  crypto::RawSignature signature{};   // by the attestation key over bytes [0, 432)
  crypto::RawPublicKey attest_key{};  // x‖y
  ReportBody qe_report;
  crypto::RawSignature qe_report_signature{};  // by the PCK key over the QE report body
  Bytes qe_auth_data;
  uint16_t cert_data_type = kCertDataPckChain;
  Bytes cert_data;

  // Length of the signature data section (everything after offset 436).
  size_t SignatureDataSize() const;
  size_t EncodedSize() const { return kQuoteSignatureOffset + SignatureDataSize(); }
  Bytes Encode() const;
  // The bytes the attestation key signs: header ‖ app report body.
  Array<kQuoteSignedSize> SignedBytes() const;
};

struct ParsedQuote {
  QuoteV3 quote;
  // Bytes after the quote's declared end (Intel's flow hands out zero-padded buffers).
  size_t trailing_bytes = 0;
  bool trailing_all_zero = true;
};

// Parses a v3 ECDSA-P256 quote; bytes after its declared end are counted, not refused.
// InvalidArgument saying which field is wrong and at which offset (version, key type,
// truncation, lengths, certification data type).
Result<ParsedQuote> ParseQuoteV3(ByteSpan bytes);

}  // namespace confcom::sgx
