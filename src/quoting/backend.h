// The quoting backend interface: what the AESM service needs from "a platform that can quote".
//
// The service validates the protocol (sizes, key ids it was asked about, buffer sizes) and
// calls a backend for the platform work. Implementations: the simulated platform
// (sim_backend.h) and Intel's DCAP quote library on hardware (dcap_backend.h); the table that
// picks one is backend_factory.h. Errors carry the aesm_error_t an Intel client understands, so
// each backend maps its own failures once, here at the boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aesm/protocol.h"
#include "common/bytes.h"
#include "common/status.h"
#include "sgx/att_key_id.h"
#include "sgx/types.h"

namespace confcom::quoting {

// A failed backend call: the aesm_error_t the service answers, and why (for the log).
struct QuoteError {
  aesm::AesmError code = aesm::AesmError::kSuccess;
  std::string message;
  bool ok() const { return code == aesm::AesmError::kSuccess; }
};

template <typename T>
using QuoteResult = Result<T, QuoteError>;

struct InitInfo {
  sgx::TargetInfo qe_target_info;
  // SHA-256(attestation public key ‖ QE authentication data): DCAP's "ECDSA ID".
  std::array<uint8_t, 32> pub_key_id{};
};

// One platform that can quote. Every method may be called from many threads at once; an
// implementation serialises internally what its platform cannot do concurrently. `key_id` is
// always one the service matched against SupportedKeyIds().
class QuotingBackend {
 public:
  virtual ~QuotingBackend() = default;

  // "sim" or "dcap"; appears in logs and metrics.
  virtual std::string_view name() const = 0;
  // True when quotes come from the simulated platform (no security), false on hardware.
  virtual bool simulated() const = 0;
  // The attestation key ids this platform can quote with (the service matches requests
  // against their 158-byte bases). Never fails.
  virtual std::vector<sgx::AttKeyId> SupportedKeyIds() const = 0;

  // The QE's target info and the attestation key's id. Errors: the platform's failure mapped
  // to aesm_error_t (e.g. BUSY when too many requests wait for the library).
  virtual QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) = 0;
  // An upper bound of the size of any quote Quote() returns. Errors as Init().
  virtual QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) = 0;
  // Quotes a 432-byte app report made for the QE's target info. When `qe_report_info` is set,
  // fills its qe_report: a QE report for qe_report_info->app_target_info whose report_data is
  // SHA-256(nonce ‖ quote) ‖ 32 zero bytes. Returns exactly the quote's bytes. Errors:
  // PARAMETER or INVALID_REPORT for a report that is not for this QE,
  // UNABLE_TO_GENERATE_QE_REPORT when the QE report cannot be made, or the platform's failure.
  virtual QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                                   sgx::QeReportInfo* qe_report_info) = 0;
};

}  // namespace confcom::quoting
