#include "sgx/sim_report.h"

#include <cstring>

namespace confcom::sgx {

namespace {

constexpr crypto::Aes128Key kSimBaseKey = {0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
                                           0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00};
constexpr char kOwnerEpoch[] = "THISISOWNEREPOCH";
constexpr uint16_t kKeyNameReport = 0x0003;

}  // namespace

const char* ReportKeyLayoutName(ReportKeyLayout layout) {
  return layout == ReportKeyLayout::kSdk219 ? "SDK>=2.19 (192-byte)" : "pre-2.19 (120-byte)";
}

Array<32> SimReportKeyId() {
  Array<32> id{};
  for (size_t i = 0; i < 16; i += 2) id[i] = 0xff;
  return id;
}

Result<crypto::Aes128Key> DeriveSimReportKey(const TargetInfo& target, const Array<16>& cpu_svn,
                                             const Array<32>& key_id, ReportKeyLayout layout) {
  uint8_t buf[192] = {};
  size_t size = 0;
  StoreLe16(buf, kKeyNameReport);
  StoreLe64(buf + 8, target.attributes.flags);
  StoreLe64(buf + 16, target.attributes.xfrm);
  if (layout == ReportKeyLayout::kSdk219) {
    StoreLe32(buf + 24, target.misc_select);
    std::memcpy(buf + 28, kOwnerEpoch, 16);
    std::memcpy(buf + 44, target.mr_enclave.data(), 32);
    std::memcpy(buf + 76, cpu_svn.data(), 16);
    StoreLe16(buf + 92, target.config_svn);
    std::memcpy(buf + 94, target.config_id.data(), 64);
    std::memcpy(buf + 158, key_id.data(), 32);
    size = 192;
  } else {
    std::memcpy(buf + 24, kOwnerEpoch, 16);
    std::memcpy(buf + 40, target.mr_enclave.data(), 32);
    std::memcpy(buf + 72, cpu_svn.data(), 16);
    std::memcpy(buf + 88, key_id.data(), 32);
    size = 120;
  }
  auto key = crypto::AesCmac(kSimBaseKey, {buf, size});
  if (!key.ok()) return key.status();
  crypto::Aes128Key out{};
  std::memcpy(out.data(), key->data(), 16);
  return out;
}

Result<Report> MakeSimReport(const TargetInfo& target, const ReportBody& body,
                             ReportKeyLayout layout) {
  Report report;
  report.body = body;
  report.key_id = SimReportKeyId();
  CONFCOM_ASSIGN_OR_RETURN(auto key,
                           DeriveSimReportKey(target, body.cpu_svn, report.key_id, layout));
  auto encoded = body.Encode();
  CONFCOM_ASSIGN_OR_RETURN(report.mac, crypto::AesCmac(key, encoded));
  return report;
}

Result<ReportKeyLayout> CheckSimReportMac(const TargetInfo& self, ByteSpan report) {
  if (report.size() != Report::kSize) {
    return Status::InvalidArgument("report must be " + std::to_string(Report::kSize) +
                                   " bytes, got " + std::to_string(report.size()));
  }
  Array<16> cpu_svn{};
  std::memcpy(cpu_svn.data(), report.data(), 16);
  Array<32> key_id{};
  std::memcpy(key_id.data(), report.data() + Report::kKeyIdOffset, 32);
  ByteSpan body = report.first(ReportBody::kSize);
  ByteSpan mac = report.subspan(Report::kMacOffset, 16);
  for (ReportKeyLayout layout : {ReportKeyLayout::kSdk219, ReportKeyLayout::kLegacy}) {
    CONFCOM_ASSIGN_OR_RETURN(auto key, DeriveSimReportKey(self, cpu_svn, key_id, layout));
    CONFCOM_ASSIGN_OR_RETURN(auto expected, crypto::AesCmac(key, body));
    if (ConstantTimeEqual(expected, mac)) return layout;
  }
  return Status::PermissionDenied(
      "report MAC does not match: the report was not made for this quoting enclave's target "
      "info (or was altered)");
}

}  // namespace confcom::sgx
