#include "sgx/types.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace confcom::sgx {

namespace {

template <size_t N>
void Put(uint8_t* base, size_t off, const Array<N>& a) {
  std::memcpy(base + off, a.data(), N);
}
template <size_t N>
void Get(const uint8_t* base, size_t off, Array<N>& a) {
  std::memcpy(a.data(), base + off, N);
}

Status CheckSize(ByteSpan bytes, size_t want, const char* what) {
  if (bytes.size() != want) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(want) +
                                   " bytes, got " + std::to_string(bytes.size()));
  }
  return Status::Ok();
}

}  // namespace

Array<ReportBody::kSize> ReportBody::Encode() const {
  Array<kSize> out{};
  uint8_t* p = out.data();
  Put(p, 0, cpu_svn);
  StoreLe32(p + 16, misc_select);
  Put(p, 32, isv_ext_prod_id);
  StoreLe64(p + 48, attributes.flags);
  StoreLe64(p + 56, attributes.xfrm);
  Put(p, 64, mr_enclave);
  Put(p, 128, mr_signer);
  Put(p, 192, config_id);
  StoreLe16(p + 256, isv_prod_id);
  StoreLe16(p + 258, isv_svn);
  StoreLe16(p + 260, config_svn);
  Put(p, 304, isv_family_id);
  Put(p, 320, report_data);
  return out;
}

Result<ReportBody> ReportBody::Decode(ByteSpan bytes) {
  CONFCOM_RETURN_IF_ERROR(CheckSize(bytes, kSize, "report body"));
  const uint8_t* p = bytes.data();
  ReportBody b;
  Get(p, 0, b.cpu_svn);
  b.misc_select = LoadLe32(p + 16);
  Get(p, 32, b.isv_ext_prod_id);
  b.attributes = {LoadLe64(p + 48), LoadLe64(p + 56)};
  Get(p, 64, b.mr_enclave);
  Get(p, 128, b.mr_signer);
  Get(p, 192, b.config_id);
  b.isv_prod_id = LoadLe16(p + 256);
  b.isv_svn = LoadLe16(p + 258);
  b.config_svn = LoadLe16(p + 260);
  Get(p, 304, b.isv_family_id);
  Get(p, 320, b.report_data);
  return b;
}

Array<Report::kSize> Report::Encode() const {
  Array<kSize> out{};
  auto b = body.Encode();
  std::copy(b.begin(), b.end(), out.begin());
  Put(out.data(), kKeyIdOffset, key_id);
  Put(out.data(), kMacOffset, mac);
  return out;
}

Result<Report> Report::Decode(ByteSpan bytes) {
  CONFCOM_RETURN_IF_ERROR(CheckSize(bytes, kSize, "report"));
  Report r;
  CONFCOM_ASSIGN_OR_RETURN(r.body, ReportBody::Decode(bytes.first(ReportBody::kSize)));
  Get(bytes.data(), kKeyIdOffset, r.key_id);
  Get(bytes.data(), kMacOffset, r.mac);
  return r;
}

Array<TargetInfo::kSize> TargetInfo::Encode() const {
  Array<kSize> out{};
  uint8_t* p = out.data();
  Put(p, 0, mr_enclave);
  StoreLe64(p + 32, attributes.flags);
  StoreLe64(p + 40, attributes.xfrm);
  StoreLe16(p + 50, config_svn);
  StoreLe32(p + 52, misc_select);
  Put(p, 64, config_id);
  return out;
}

Result<TargetInfo> TargetInfo::Decode(ByteSpan bytes) {
  CONFCOM_RETURN_IF_ERROR(CheckSize(bytes, kSize, "target info"));
  const uint8_t* p = bytes.data();
  TargetInfo t;
  Get(p, 0, t.mr_enclave);
  t.attributes = {LoadLe64(p + 32), LoadLe64(p + 40)};
  t.config_svn = LoadLe16(p + 50);
  t.misc_select = LoadLe32(p + 52);
  Get(p, 64, t.config_id);
  return t;
}

Array<QeReportInfo::kSize> QeReportInfo::Encode() const {
  Array<kSize> out{};
  Put(out.data(), 0, nonce);
  auto ti = app_target_info.Encode();
  std::copy(ti.begin(), ti.end(), out.begin() + 16);
  auto rep = qe_report.Encode();
  std::copy(rep.begin(), rep.end(), out.begin() + 16 + TargetInfo::kSize);
  return out;
}

Result<QeReportInfo> QeReportInfo::Decode(ByteSpan bytes) {
  CONFCOM_RETURN_IF_ERROR(CheckSize(bytes, kSize, "qe_report_info"));
  QeReportInfo q;
  Get(bytes.data(), 0, q.nonce);
  CONFCOM_ASSIGN_OR_RETURN(q.app_target_info,
                           TargetInfo::Decode(bytes.subspan(16, TargetInfo::kSize)));
  CONFCOM_ASSIGN_OR_RETURN(q.qe_report,
                           Report::Decode(bytes.subspan(16 + TargetInfo::kSize, Report::kSize)));
  return q;
}

}  // namespace confcom::sgx
