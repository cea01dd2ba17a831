// The SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): PPID, TCB (16 component
// SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type and, on Platform CA-issued certificates,
// PlatformInstanceID and Configuration. DER encoding and decoding through OpenSSL's ASN.1.
#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "sgx/types.h"

namespace confcom::pki {

inline constexpr char kSgxExtensionOid[] = "1.2.840.113741.1.13.1";

struct SgxTcb {
  std::array<uint8_t, 16> components{};  // .2.1 .. .2.16
  uint16_t pcesvn = 0;                   // .2.17
  sgx::Array<16> cpusvn{};               // .2.18
  bool operator==(const SgxTcb&) const = default;
};

struct SgxPlatformConfiguration {
  bool dynamic_platform = false;
  bool cached_keys = false;
  bool smt_enabled = false;
  bool operator==(const SgxPlatformConfiguration&) const = default;
};

struct SgxExtension {
  sgx::Array<16> ppid{};
  SgxTcb tcb;
  sgx::Array<2> pce_id{};
  sgx::Array<6> fmspc{};
  int sgx_type = 0;  // 0 Standard, 1 Scalable
  std::optional<sgx::Array<16>> platform_instance_id;
  std::optional<SgxPlatformConfiguration> configuration;
  bool operator==(const SgxExtension&) const = default;
};

// DER of the extension value (the SEQUENCE that goes inside the extension's OCTET STRING).
Result<Bytes> EncodeSgxExtension(const SgxExtension& ext);
// Parses the extension value; every required field must be present with the right type.
Result<SgxExtension> DecodeSgxExtension(ByteSpan der);

}  // namespace confcom::pki
