// DCAP ECDSA v3 quote verification in Intel's QVL order.
//
// A QuoteVerifier is made once per collateral bundle and trust anchor and then verifies any
// number of quotes, from any number of threads. Work that does not depend on the quote is done
// once at Create() (collateral parsing, TCB Info / QE Identity / CRL signatures, the TCB-signing
// chain); a quote's PCK chain is checked once per distinct chain and cached. What depends on
// the quote or the time is checked on every Verify():
//   1. PCK chain and TCB-signing chain to the trusted root; validity at the given time; CRLs
//      (signature, issuer, validity) and revocation;
//   2. FMSPC / PCE-ID of the PCK = those of TCB Info; TCB Info id matches the TEE type;
//   3. QE report signature by the PCK key; binding hash in the QE report data;
//   4. QE report against QE Identity (mrsigner, isvprodid, masked miscselect/attributes),
//      ISVSVN -> QE TCB status;
//   5. quote signature by the attestation key;
//   6. the app report is not DEBUG (unless allowed); TCB level from the PCK's TCB, combined
//      with the QE's status -> Intel's sgx_ql_qv_result_t.
// Certificates are held to RFC 5280 as OpenSSL and QVL hold them (no extension twice, no
// unknown critical extension, one SGX extension without repeated members); the PCK CRL must
// be that of the PCK certificate's own issuer (Processor or Platform CA); collateral
// signatures verify over the exact signed text or, as in QVL, its compact re-serialisation.
// Every failure names the check and says why.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "pki/crl.h"
#include "pki/x509.h"
#include "sgx/quote_v3.h"
#include "verify/collateral.h"

namespace confcom::verify {

// sgx_ql_qv_result_t.
enum class QvResult : uint32_t {
  kOk = 0x0,
  kConfigNeeded = 0xA001,
  kOutOfDate = 0xA002,
  kOutOfDateConfigNeeded = 0xA003,
  kInvalidSignature = 0xA004,
  kRevoked = 0xA005,
  kUnspecified = 0xA006,
  kSwHardeningNeeded = 0xA007,
  kConfigAndSwHardeningNeeded = 0xA008,
};
const char* QvResultName(QvResult r);
QvResult QvResultFor(TcbStatus s);

enum class Check {
  kNone,
  kQuoteFormat,
  kCollateral,       // malformed collateral
  kPckChain,
  kTcbSigningChain,
  kValidity,         // a certificate, CRL or collateral document outside its validity period
  kCrl,              // CRL signature, issuer or required extensions
  kRevocation,
  kTcbInfo,          // TCB Info signature, id or version
  kPlatformMatch,    // FMSPC / PCE-ID
  kQeReportSignature,
  kQeBinding,
  kQeIdentity,
  kQuoteSignature,
  kDebug,
  kTcbLevel,
};
const char* CheckName(Check c);  // "pck-chain", …

struct VerifyOptions {
  std::time_t at = 0;  // 0: now
  bool allow_debug = false;
  // Zero bytes after the quote's end (what is left of a caller's oversized buffer) are a
  // quote-format failure, as in Intel's QVL; with this, a warning. Non-zero bytes always fail.
  bool allow_zero_padding = false;
};

struct Verdict {
  bool verified = false;  // every check passed; `result` then carries the TCB verdict
  Check failed = Check::kNone;
  std::string message;
  QvResult result = QvResult::kUnspecified;
  std::optional<TcbStatus> tcb_status;     // the platform's TCB level
  std::optional<TcbStatus> qe_tcb_status;  // the QE's
  std::optional<TcbStatus> combined_status;
  std::string tcb_date;
  std::vector<std::string> advisory_ids;
  std::optional<sgx::ReportBody> app_report;
  std::optional<sgx::Array<6>> fmspc;
  std::vector<std::string> warnings;  // accepted oddities, e.g. allowed zero padding
};

class QuoteVerifier {
 public:
  // Fails only for collateral that cannot be parsed; chain and signature problems of the
  // collateral are reported by Verify() in QVL order.
  static Result<std::shared_ptr<QuoteVerifier>> Create(const Collateral& collateral,
                                                       const pki::Certificate& trusted_root);
  Verdict Verify(ByteSpan quote, const VerifyOptions& options = {}) const;

  const TcbInfo& tcb_info() const { return tcb_info_; }
  const QeIdentity& qe_identity() const { return qe_identity_; }

 private:
  struct PckChain;
  QuoteVerifier() = default;
  std::shared_ptr<const PckChain> CheckPckChain(ByteSpan cert_data) const;

  pki::Certificate root_;
  TcbInfo tcb_info_;
  QeIdentity qe_identity_;
  pki::Crl pck_crl_, root_crl_;
  std::vector<pki::Certificate> tcb_chain_;
  // Results of the quote-independent collateral checks, in QVL order.
  Check collateral_failed_ = Check::kNone;
  std::string collateral_message_;

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const PckChain>> chain_cache_;
};

// Intel's SGX Root CA, the default trust anchor.
const pki::Certificate& IntelSgxRootCa();

}  // namespace confcom::verify
