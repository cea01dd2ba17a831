// DCAP ECDSA v3 quote verification in Intel's QVL order: PCK and TCB-signing chains, CRLs and
// revocation; platform match; QE report signature and binding; QE Identity; quote signature;
// DEBUG; TCB level, combined with the QE's status into Intel's sgx_ql_qv_result_t.
//
// Work that does not depend on the quote is done once at Create(); a quote's PCK chain is
// checked once per distinct chain and cached. Every failure names the check and says why. The
// order, each check and where confcom is stricter than QVL: docs/dcap-quote.md, "Verification
// order (confcom)" and "Strictness, compared with Intel's QVL".
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
// "SGX_QL_QV_RESULT_OK", …; pure.
const char* QvResultName(QvResult r);
// The result a TCB status stands for (UpToDate -> kOk, Revoked -> kRevoked, …); pure.
QvResult QvResultFor(TcbStatus s);

enum class Check {
  kNone,
  kQuoteFormat,
  kCollateral,  // malformed collateral
  kPckChain,
  kTcbSigningChain,
  kValidity,  // a certificate, CRL or collateral document outside its validity period
  kCrl,       // CRL signature, issuer or required extensions
  kRevocation,
  kTcbInfo,        // TCB Info signature, id or version
  kPlatformMatch,  // FMSPC / PCE-ID
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
  // Zero bytes after the quote's end (what is left of an app's buffer of the announced quote
  // size) are accepted with a warning, as Intel's QVL accepts them since DCAP 1.18; non-zero
  // bytes always fail (they could carry data no signature covers). docs/dcap-quote.md, (a).
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
  std::vector<std::string> warnings;  // accepted oddities, e.g. zero padding
};

// Made once per collateral bundle and trust anchor; then immutable but for an internal
// PCK-chain cache under a mutex, so Verify() may run on any number of threads at once.
class QuoteVerifier {
 public:
  // Parses the collateral and checks what does not depend on a quote. Errors: InvalidArgument
  // (or the parser's code) only for collateral that cannot be parsed; chain and signature
  // problems of the collateral are reported by Verify() in QVL order.
  static Result<std::shared_ptr<QuoteVerifier>> Create(const Collateral& collateral,
                                                       const pki::Certificate& trusted_root);
  // Never fails as a call: the Verdict says whether the quote verified, or which check failed
  // and why (`failed`, `message`, `result`).
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

// Intel's SGX Root CA (intel_root_ca.h), parsed once; the default trust anchor.
const pki::Certificate& IntelSgxRootCa();

}  // namespace confcom::verify
