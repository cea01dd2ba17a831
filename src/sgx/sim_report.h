// The Intel SGX SDK's simulation-mode EREPORT (docs/simulation.md): the report key is
// AES-128-CMAC under a fixed key of a buffer built from the *target's* identity, the CPUSVN
// and the report's key_id; the report MAC is AES-128-CMAC(report key, body). Anyone can make
// or check such reports: this gives functional fidelity, no security. Pure functions.
#pragma once

#include "crypto/crypto.h"
#include "sgx/types.h"

namespace confcom::sgx {

// Buffer layouts of the key derivation: SDK >= 2.19 uses 192 bytes, earlier SDKs 120.
enum class ReportKeyLayout { kSdk219, kLegacy };
const char* ReportKeyLayoutName(ReportKeyLayout layout);

inline constexpr Array<16> kSimCpuSvnDefault = {0x48, 0x20, 0xf3, 0x37, 0x6a, 0xe6, 0xb2, 0xf2,
                                                0x03, 0x4d, 0x3b, 0x7a, 0x4b, 0x48, 0xa7, 0x78};
inline constexpr Array<16> kSimCpuSvnUpgraded = {0x53, 0x39, 0xae, 0x8c, 0x93, 0xae, 0x8f, 0x3c,
                                                 0xe4, 0x32, 0xdb, 0x92, 0x4d, 0x0f, 0x07, 0x33};
inline constexpr Array<16> kSimCpuSvnDowngraded = {0x64, 0xea, 0x4f, 0x3f, 0xa0, 0x03, 0x0c, 0x36,
                                                   0x38, 0x3c, 0x32, 0x2d, 0x4f, 0x3a, 0x8d, 0x4f};
// ff00 repeated over 16 bytes, then 16 zero bytes.
Array<32> SimReportKeyId();

// The report key the SDK derives when a report is made for `target`; fails only if the
// cipher does.
Result<crypto::Aes128Key> DeriveSimReportKey(const TargetInfo& target, const Array<16>& cpu_svn,
                                             const Array<32>& key_id, ReportKeyLayout layout);

// What the SDK's simulated EREPORT(target, report_data) returns for an enclave whose identity
// is `body` (body.report_data included): key_id set to SimReportKeyId(), mac computed.
Result<Report> MakeSimReport(const TargetInfo& target, const ReportBody& body,
                             ReportKeyLayout layout = ReportKeyLayout::kSdk219);

// Checks the MAC of a 432-byte report as the enclave whose own target info is `self` would,
// trying both layouts. Returns the layout that matched; InvalidArgument for a report that is
// not 432 bytes, PermissionDenied when neither layout's MAC matches.
Result<ReportKeyLayout> CheckSimReportMac(const TargetInfo& self, ByteSpan report);

}  // namespace confcom::sgx
