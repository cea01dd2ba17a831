#include "sgxctl/verdict_describe.h"

#include <cstdio>

#include "sgxctl/quote_describe.h"

namespace confcom::sgxctl {

using verify::QvResult;

std::string Unacceptable(const verify::Verdict& v, const AcceptPolicy& p) {
  if (!v.verified)
    return "verification failed at check " + std::string(verify::CheckName(v.failed));
  std::string status = v.combined_status ? verify::TcbStatusName(*v.combined_status) : "unknown";
  auto need = [&](bool ok, const char* flag) {
    return ok ? std::string() : "TCB status " + status + " (accept with " + flag + ")";
  };
  switch (v.result) {
    case QvResult::kOk: return "";
    case QvResult::kConfigNeeded:
      return need(p.configuration_needed, "--accept-configuration-needed");
    case QvResult::kSwHardeningNeeded:
      return need(p.sw_hardening_needed, "--accept-sw-hardening-needed");
    case QvResult::kConfigAndSwHardeningNeeded:
      if (!p.configuration_needed) return need(false, "--accept-configuration-needed");
      return need(p.sw_hardening_needed, "--accept-sw-hardening-needed");
    case QvResult::kOutOfDate: return need(p.out_of_date, "--accept-out-of-date");
    case QvResult::kOutOfDateConfigNeeded:
      if (!p.out_of_date) return need(false, "--accept-out-of-date");
      return need(p.configuration_needed, "--accept-configuration-needed");
    default: return "TCB status " + status + " is never acceptable";
  }
}

nlohmann::ordered_json DescribeVerdict(const verify::Verdict& v, const AcceptPolicy& policy) {
  nlohmann::ordered_json j;
  std::string why = Unacceptable(v, policy);
  j["verdict"] = !v.verified ? "FAILED" : why.empty() ? "ACCEPTED" : "NOT ACCEPTED";
  j["verified"] = v.verified;
  if (!v.verified) j["failed_check"] = verify::CheckName(v.failed);
  j["message"] = v.message;
  if (!why.empty() && v.verified) j["not_accepted_because"] = why;
  char code[16];
  std::snprintf(code, sizeof code, "0x%04X", unsigned(v.result));
  j["result"] = verify::QvResultName(v.result);
  j["result_code"] = code;
  if (v.combined_status) j["tcb_status"] = verify::TcbStatusName(*v.combined_status);
  if (v.tcb_status) j["platform_tcb_status"] = verify::TcbStatusName(*v.tcb_status);
  if (v.qe_tcb_status) j["qe_tcb_status"] = verify::TcbStatusName(*v.qe_tcb_status);
  if (!v.tcb_date.empty()) j["tcb_date"] = v.tcb_date;
  j["advisory_ids"] = v.advisory_ids;
  if (v.fmspc) j["fmspc"] = ToHex(*v.fmspc);
  if (!v.warnings.empty()) j["warnings"] = v.warnings;
  if (v.app_report) {
    const auto& b = *v.app_report;
    j["enclave"] = {{"mr_enclave", ToHex(b.mr_enclave)},
                    {"mr_signer", ToHex(b.mr_signer)},
                    {"isv_prod_id", b.isv_prod_id},
                    {"isv_svn", b.isv_svn},
                    {"debug", (b.attributes.flags & sgx::kFlagDebug) != 0},
                    {"report_data", ToHex(b.report_data)}};
  }
  return j;
}

}  // namespace confcom::sgxctl
