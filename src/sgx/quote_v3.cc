#include "sgx/quote_v3.h"

#include <algorithm>
#include <cstring>

namespace confcom::sgx {

const char* CertDataTypeName(uint16_t type) {
  switch (type) {
    case kCertDataPpidCleartext: return "PPID cleartext";
    case kCertDataPpidRsa2048: return "PPID RSA-2048 encrypted";
    case kCertDataPpidRsa3072: return "PPID RSA-3072 encrypted";
    case kCertDataPckLeaf: return "PCK leaf certificate";
    case kCertDataPckChain: return "PCK certificate chain";
    case kCertDataQeReport: return "QE report certification data";
    default: return "unknown";
  }
}

Array<kQuoteHeaderSize> QuoteHeader::Encode() const {
  Array<kQuoteHeaderSize> out{};
  StoreLe16(out.data(), version);
  StoreLe16(out.data() + 2, att_key_type);
  StoreLe32(out.data() + 4, tee_type);
  StoreLe16(out.data() + 8, qe_svn);
  StoreLe16(out.data() + 10, pce_svn);
  std::memcpy(out.data() + 12, qe_vendor_id.data(), 16);
  std::memcpy(out.data() + 28, user_data.data(), 20);
  return out;
}

QuoteHeader QuoteHeader::Decode(const uint8_t* p) {
  QuoteHeader h;
  h.version = LoadLe16(p);
  h.att_key_type = LoadLe16(p + 2);
  h.tee_type = LoadLe32(p + 4);
  h.qe_svn = LoadLe16(p + 8);
  h.pce_svn = LoadLe16(p + 10);
  std::memcpy(h.qe_vendor_id.data(), p + 12, 16);
  std::memcpy(h.user_data.data(), p + 28, 20);
  return h;
}

size_t QuoteV3::SignatureDataSize() const {
  return 64 + 64 + ReportBody::kSize + 64 + 2 + qe_auth_data.size() + 2 + 4 + cert_data.size();
}

Array<kQuoteSignedSize> QuoteV3::SignedBytes() const {
  Array<kQuoteSignedSize> out{};
  auto h = header.Encode();
  auto b = app_report.Encode();
  std::copy(h.begin(), h.end(), out.begin());
  std::copy(b.begin(), b.end(), out.begin() + kQuoteAppReportOffset);
  return out;
}

Bytes QuoteV3::Encode() const {
  Bytes out(EncodedSize());
  uint8_t* p = out.data();
  auto signed_bytes = SignedBytes();
  std::memcpy(p, signed_bytes.data(), signed_bytes.size());
  StoreLe32(p + kQuoteSigDataLenOffset, uint32_t(SignatureDataSize()));
  std::memcpy(p + kQuoteSignatureOffset, signature.data(), 64);
  std::memcpy(p + kQuoteAttestKeyOffset, attest_key.data(), 64);
  auto qe = qe_report.Encode();
  std::memcpy(p + kQuoteQeReportOffset, qe.data(), qe.size());
  std::memcpy(p + kQuoteQeReportSigOffset, qe_report_signature.data(), 64);
  StoreLe16(p + kQuoteQeAuthSizeOffset, uint16_t(qe_auth_data.size()));
  size_t off = kQuoteQeAuthDataOffset;
  std::memcpy(p + off, qe_auth_data.data(), qe_auth_data.size());
  off += qe_auth_data.size();
  StoreLe16(p + off, cert_data_type);
  StoreLe32(p + off + 2, uint32_t(cert_data.size()));
  std::memcpy(p + off + 6, cert_data.data(), cert_data.size());
  return out;
}

namespace {

// A cursor that reports truncation with the field name and offset.
class Reader {
 public:
  Reader(ByteSpan data, size_t end) : data_(data), end_(end) {}
  size_t offset() const { return off_; }
  Status Need(size_t n, const char* field) const {
    if (end_ - off_ < n) {
      return Status::InvalidArgument("quote truncated at offset " + std::to_string(off_) + ": " +
                                     field + " needs " + std::to_string(n) + " bytes, only " +
                                     std::to_string(end_ - off_) + " remain");
    }
    return Status::Ok();
  }
  const uint8_t* Take(size_t n) {
    const uint8_t* p = data_.data() + off_;
    off_ += n;
    return p;
  }

 private:
  ByteSpan data_;
  size_t end_;
  size_t off_ = 0;
};

}  // namespace

Result<ParsedQuote> ParseQuoteV3(ByteSpan bytes) {
  ParsedQuote out;
  QuoteV3& q = out.quote;
  Reader r(bytes, bytes.size());
  CONFCOM_RETURN_IF_ERROR(r.Need(kQuoteHeaderSize, "header"));
  q.header = QuoteHeader::Decode(r.Take(kQuoteHeaderSize));
  if (q.header.version != kQuoteVersion3) {
    return Status::InvalidArgument("quote version at offset 0 is " +
                                   std::to_string(q.header.version) +
                                   "; only version 3 is supported");
  }
  if (q.header.att_key_type != kAttKeyTypeEcdsaP256) {
    return Status::InvalidArgument("attestation key type at offset 2 is " +
                                   std::to_string(q.header.att_key_type) +
                                   "; only 2 (ECDSA-256 with P-256) is supported");
  }
  CONFCOM_RETURN_IF_ERROR(r.Need(ReportBody::kSize, "app report body"));
  q.app_report = *ReportBody::Decode({r.Take(ReportBody::kSize), ReportBody::kSize});
  CONFCOM_RETURN_IF_ERROR(r.Need(4, "signature data length"));
  uint32_t sig_len = LoadLe32(r.Take(4));
  size_t end = kQuoteSignatureOffset + size_t(sig_len);
  if (end > bytes.size()) {
    return Status::InvalidArgument(
        "signature data length at offset 432 declares " + std::to_string(sig_len) +
        " bytes but only " + std::to_string(bytes.size() - kQuoteSignatureOffset) + " follow");
  }
  Reader s(bytes.first(end), end);
  s.Take(kQuoteSignatureOffset);
  CONFCOM_RETURN_IF_ERROR(s.Need(64, "quote signature"));
  std::memcpy(q.signature.data(), s.Take(64), 64);
  CONFCOM_RETURN_IF_ERROR(s.Need(64, "attestation public key"));
  std::memcpy(q.attest_key.data(), s.Take(64), 64);
  CONFCOM_RETURN_IF_ERROR(s.Need(ReportBody::kSize, "QE report body"));
  q.qe_report = *ReportBody::Decode({s.Take(ReportBody::kSize), ReportBody::kSize});
  CONFCOM_RETURN_IF_ERROR(s.Need(64, "QE report signature"));
  std::memcpy(q.qe_report_signature.data(), s.Take(64), 64);
  CONFCOM_RETURN_IF_ERROR(s.Need(2, "QE authentication data size"));
  uint16_t auth_len = LoadLe16(s.Take(2));
  CONFCOM_RETURN_IF_ERROR(s.Need(auth_len, "QE authentication data"));
  const uint8_t* auth = s.Take(auth_len);
  q.qe_auth_data.assign(auth, auth + auth_len);
  CONFCOM_RETURN_IF_ERROR(s.Need(2, "certification data type"));
  q.cert_data_type = LoadLe16(s.Take(2));
  if (q.cert_data_type < kCertDataPpidCleartext || q.cert_data_type > kCertDataQeReport) {
    return Status::InvalidArgument("certification data type at offset " +
                                   std::to_string(s.offset() - 2) + " is " +
                                   std::to_string(q.cert_data_type) + "; valid types are 1-6");
  }
  CONFCOM_RETURN_IF_ERROR(s.Need(4, "certification data size"));
  uint32_t cert_len = LoadLe32(s.Take(4));
  CONFCOM_RETURN_IF_ERROR(s.Need(cert_len, "certification data"));
  const uint8_t* cert = s.Take(cert_len);
  q.cert_data.assign(cert, cert + cert_len);
  if (s.offset() != end) {
    return Status::InvalidArgument("signature data length at offset 432 declares " +
                                   std::to_string(sig_len) + " bytes but its fields end after " +
                                   std::to_string(s.offset() - kQuoteSignatureOffset));
  }
  out.trailing_bytes = bytes.size() - end;
  out.trailing_all_zero =
      std::all_of(bytes.begin() + long(end), bytes.end(), [](uint8_t b) { return b == 0; });
  return out;
}

}  // namespace confcom::sgx
