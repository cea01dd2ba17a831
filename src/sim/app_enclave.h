// A simulated application enclave, as an SGX SDK simulation-mode enclave behaves towards the
// quoting enclave (QE): it makes a report targeted at the QE's target info (sgx/sim_report.h),
// and checks the QE's report returned with a quote: made for this enclave, and binding the
// nonce and the quote (report_data = SHA-256(nonce || quote)). No security: anyone can make
// such reports. `sgxctl quote` uses it to ask a quote helper for quotes as an app would.
#pragma once

#include "common/status.h"
#include "sgx/sim_report.h"
#include "sgx/types.h"

namespace confcom::sim {

// Immutable after construction: safe from any thread.
class SimAppEnclave {
 public:
  // The identity `sgxctl quote` uses by default: fixed MRENCLAVE and MRSIGNER (SHA-256 of a
  // text naming them), INIT | MODE64BIT, XFRM 3, the default simulated CPUSVN.
  static sgx::ReportBody DefaultIdentity();

  // `identity` is the report body without report_data (set per report).
  explicit SimAppEnclave(sgx::ReportBody identity,
                         sgx::ReportKeyLayout layout = sgx::ReportKeyLayout::kSdk219);

  const sgx::ReportBody& identity() const { return identity_; }
  // What a QE targets its report at.
  sgx::TargetInfo target_info() const;

  // EREPORT for the QE whose 512-byte target info is `qe_target_info`, carrying `report_data`
  // (at most 64 bytes, zero-padded). Refuses target info of another size, with an all-zero
  // MRENCLAVE, or of an enclave that is not initialised (no INIT attribute): no QE has those.
  // Errors: InvalidArgument saying which of these, or for report data over 64 bytes.
  Result<sgx::Report> MakeReport(ByteSpan qe_target_info, ByteSpan report_data) const;

  // Checks the QE's 432-byte report: its MAC is for this enclave, and its report_data starts
  // with SHA-256(nonce || quote). kPermissionDenied / kCorruption say which failed.
  Status CheckQeReport(ByteSpan qe_report, ByteSpan nonce, ByteSpan quote) const;

 private:
  sgx::ReportBody identity_;
  sgx::ReportKeyLayout layout_;
};

}  // namespace confcom::sim
