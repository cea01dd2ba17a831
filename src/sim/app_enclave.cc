#include "sim/app_enclave.h"

#include <algorithm>
#include <cstring>

#include "crypto/crypto.h"

namespace confcom::sim {

sgx::ReportBody SimAppEnclave::DefaultIdentity() {
  sgx::ReportBody body;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  body.mr_enclave = crypto::Sha256(AsBytes("confcom sgxctl simulated app enclave"));
  body.mr_signer = crypto::Sha256(AsBytes("confcom sgxctl simulated app signer"));
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  return body;
}

SimAppEnclave::SimAppEnclave(sgx::ReportBody identity, sgx::ReportKeyLayout layout)
    : identity_(identity), layout_(layout) {
  identity_.report_data = {};
}

sgx::TargetInfo SimAppEnclave::target_info() const {
  sgx::TargetInfo t;
  t.mr_enclave = identity_.mr_enclave;
  t.attributes = identity_.attributes;
  t.misc_select = identity_.misc_select;
  t.config_svn = identity_.config_svn;
  t.config_id = identity_.config_id;
  return t;
}

Result<sgx::Report> SimAppEnclave::MakeReport(ByteSpan qe_target_info, ByteSpan report_data) const {
  if (qe_target_info.size() != sgx::TargetInfo::kSize) {
    return Status::InvalidArgument("QE target info: expected " +
                                   std::to_string(sgx::TargetInfo::kSize) + " bytes, got " +
                                   std::to_string(qe_target_info.size()));
  }
  if (report_data.size() > 64) {
    return Status::InvalidArgument("report data: at most 64 bytes, got " +
                                   std::to_string(report_data.size()));
  }
  CONFCOM_ASSIGN_OR_RETURN(sgx::TargetInfo target, sgx::TargetInfo::Decode(qe_target_info));
  if (std::all_of(target.mr_enclave.begin(), target.mr_enclave.end(),
                  [](uint8_t b) { return b == 0; })) {
    return Status::InvalidArgument(
        "QE target info has an all-zero MRENCLAVE (not a quoting enclave's)");
  }
  if ((target.attributes.flags & sgx::kFlagInitted) == 0) {
    return Status::InvalidArgument(
        "QE target info names an enclave that is not initialised (no INIT attribute)");
  }
  sgx::ReportBody body = identity_;
  std::memcpy(body.report_data.data(), report_data.data(), report_data.size());
  return sgx::MakeSimReport(target, body, layout_);
}

Status SimAppEnclave::CheckQeReport(ByteSpan qe_report, ByteSpan nonce, ByteSpan quote) const {
  auto mac = sgx::CheckSimReportMac(target_info(), qe_report);
  if (!mac.ok()) return mac.status().WithContext("the QE report was not made for this enclave");
  CONFCOM_ASSIGN_OR_RETURN(sgx::Report report, sgx::Report::Decode(qe_report));
  crypto::Sha256Digest binding = crypto::Sha256({nonce, quote});
  if (!std::equal(binding.begin(), binding.end(), report.body.report_data.begin())) {
    return Status::Corruption("the QE report's report_data is not SHA-256(nonce || quote)");
  }
  return Status::Ok();
}

}  // namespace confcom::sim
