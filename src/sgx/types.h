// SGX structures with their exact byte layouts (docs/dcap-quote.md), as plain C++
// values with explicit encode/decode: no packed structs, no reinterpret_cast of wire bytes.
// Each Decode() takes exactly kSize bytes and fails with InvalidArgument otherwise; Encode()
// never fails. Plain values: safe from any thread.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"

namespace confcom::sgx {

template <size_t N>
using Array = std::array<uint8_t, N>;

inline constexpr uint64_t kFlagInitted = 0x1;
inline constexpr uint64_t kFlagDebug = 0x2;
inline constexpr uint64_t kFlagMode64Bit = 0x4;
inline constexpr uint64_t kFlagProvisionKey = 0x10;
inline constexpr uint64_t kFlagEinitTokenKey = 0x20;

struct Attributes {
  uint64_t flags = 0;
  uint64_t xfrm = 0;
  bool operator==(const Attributes&) const = default;
};

// sgx_report_body_t, 384 bytes. Reserved bytes are zero when encoded.
struct ReportBody {
  static constexpr size_t kSize = 384;
  Array<16> cpu_svn{};
  uint32_t misc_select = 0;
  Array<16> isv_ext_prod_id{};
  Attributes attributes;
  Array<32> mr_enclave{};
  Array<32> mr_signer{};
  Array<64> config_id{};
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  uint16_t config_svn = 0;
  Array<16> isv_family_id{};
  Array<64> report_data{};

  Array<kSize> Encode() const;
  static Result<ReportBody> Decode(ByteSpan bytes);  // exactly kSize bytes
  bool operator==(const ReportBody&) const = default;
};

// sgx_report_t, 432 bytes: body, key_id, mac.
struct Report {
  static constexpr size_t kSize = 432;
  static constexpr size_t kKeyIdOffset = 384;
  static constexpr size_t kMacOffset = 416;
  ReportBody body;
  Array<32> key_id{};
  Array<16> mac{};

  Array<kSize> Encode() const;
  static Result<Report> Decode(ByteSpan bytes);
};

// sgx_target_info_t, 512 bytes.
struct TargetInfo {
  static constexpr size_t kSize = 512;
  Array<32> mr_enclave{};
  Attributes attributes;
  uint16_t config_svn = 0;
  uint32_t misc_select = 0;
  Array<64> config_id{};

  Array<kSize> Encode() const;
  static Result<TargetInfo> Decode(ByteSpan bytes);
  bool operator==(const TargetInfo&) const = default;
};

// sgx_qe_report_info_t, 960 bytes: nonce, the app's target info, the QE's report for it.
struct QeReportInfo {
  static constexpr size_t kSize = 960;
  Array<16> nonce{};
  TargetInfo app_target_info;
  Report qe_report;

  Array<kSize> Encode() const;
  static Result<QeReportInfo> Decode(ByteSpan bytes);
};

}  // namespace confcom::sgx
