// The quoting backend interface: what the AESM service needs from "a platform that can quote".
//
// The service validates the protocol (sizes, key ids it was asked about, buffer sizes) and
// calls a backend for the platform work. Implementations: the simulated platform (sim_backend.h)
// and, later, DCAP on real hardware. Errors carry the aesm_error_t an Intel client
// understands, so each backend maps its own failures once, here at the boundary.
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

class QuotingBackend {
 public:
  virtual ~QuotingBackend() = default;

  // "sim" or "dcap"; appears in logs and metrics.
  virtual std::string_view name() const = 0;
  virtual bool simulated() const = 0;
  // The attestation key ids this platform can quote with (the service matches requests
  // against their 158-byte bases).
  virtual std::vector<sgx::AttKeyId> SupportedKeyIds() const = 0;

  virtual QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) = 0;
  // An upper bound of the size of any quote Quote() returns.
  virtual QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) = 0;
  // Quotes a 432-byte app report made for the QE's target info. When `qe_report_info` is set,
  // fills its qe_report: a QE report for qe_report_info->app_target_info whose report_data is
  // SHA-256(nonce ‖ quote) ‖ 32 zero bytes. Returns exactly the quote's bytes.
  virtual QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                                   sgx::QeReportInfo* qe_report_info) = 0;
};

}  // namespace confcom::quoting
