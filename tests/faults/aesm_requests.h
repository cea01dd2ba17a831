// AESM calls the fault tests make as an app would: one request per connection to the helper's
// socket, and a GetQuoteEx request for an app report made for the helper's QE.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "aesm/client.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"

namespace confcom::faults {

inline Result<aesm::message::Response> Call(
    const std::string& socket, const aesm::message::Request& req,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  aesm::ClientOptions o;
  o.socket_path = socket;
  o.timeout = timeout;
  o.max_frame_size = 1 << 20;
  return aesm::Call(o, req);
}

inline std::string KeyId() {
  auto k = sgx::EcdsaP256AttKeyId();
  return std::string(k.begin(), k.end());
}

// InitQuoteEx for the QE's target info, then a GetQuoteEx request naming `buf_size`.
inline Result<aesm::message::Request> QuoteRequest(const std::string& socket,
                                                   uint32_t buf_size = 8192) {
  aesm::message::Request init;
  init.mutable_initquoteexreq()->set_att_key_id(KeyId());
  init.mutable_initquoteexreq()->set_b_pub_key_id(false);
  CONFCOM_ASSIGN_OR_RETURN(aesm::message::Response ires, Call(socket, init));
  if (ires.initquoteexres().errorcode() != 0) return Status::Internal("InitQuoteEx failed");
  auto target = sgx::TargetInfo::Decode(AsBytes(ires.initquoteexres().target_info()));
  if (!target.ok()) return target.status();
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  body.report_data.fill(0x5a);
  auto report = sgx::MakeSimReport(*target, body);
  if (!report.ok()) return report.status();
  auto encoded = report->Encode();
  aesm::message::Request q;
  auto* in = q.mutable_getquoteexreq();
  in->set_report(std::string(encoded.begin(), encoded.end()));
  in->set_att_key_id(KeyId());
  in->set_buf_size(buf_size);
  return q;
}

}  // namespace confcom::faults
