// Collateral for the simulated platform, in Intel's formats: TCB Info v3 (id "SGX") and QE
// Identity v2 (id "QE") signed by the platform's TCB Signing key over the exact object text
// (compact JSON, as Intel signs), a PCK CRL (by either PCK CA) and the Root CA CRL, both
// carrying the simulation marker extension, and the issuer chains.
//
// Every document starts kSimBackdate before `now`, as the certificates do, so a verifier whose
// clock is behind accepts fresh collateral. TCB levels rate the simulated CPUSVNs: "upgraded"
// and "default" UpToDate, "downgraded" OutOfDate (with an advisory), so users can exercise
// TCB-status handling.
#pragma once

#include <ctime>
#include <optional>

#include "sim/platform.h"
#include "verify/collateral.h"

namespace confcom::sim {

// Marks the advisory of the simulated OutOfDate level as simulated.
inline constexpr char kSimAdvisoryId[] = "CONFCOM-SIM-SA-00001";

struct CollateralOptions {
  std::time_t now = 0;  // 0: the current time
  int validity_days = 30;
  bool revoke_pck = false;  // list the platform's PCK certificates in the PCK CRL
  // The CA whose PCK CRL the bundle carries; default: the one that issued the platform's PCK
  // certificates (what a verifier of its quotes needs).
  std::optional<PckCa> pck_crl_ca;
};

Result<verify::Collateral> MakeSimCollateral(const SimPlatform& platform,
                                             const CollateralOptions& options = {});
// The PCK CRL of one PCK CA and its issuer chain (CA, Root), as a PCCS serves it for `ca=`.
// The platform's PCK certificates are revoked only in their own issuer's CRL.
Result<verify::PckCrlBundle> MakeSimPckCrl(const SimPlatform& platform, PckCa ca,
                                           const CollateralOptions& options = {});

// {"<key>":<object_text>,"signature":"<hex r‖s over object_text>"}, Intel's signed form.
Result<std::string> SignCollateralObject(const crypto::EcKey& key, std::string_view key_name,
                                         std::string_view object_text);

}  // namespace confcom::sim
