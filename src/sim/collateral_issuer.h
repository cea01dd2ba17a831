// Issues collateral for the simulated platform, in Intel's formats (verify/collateral.h parses
// it): TCB Info v3 and QE Identity v2 signed by the platform's TCB Signing key over the compact
// object text, a PCK CRL (by either PCK CA) and the Root CA CRL with the simulation marker, and
// the issuer chains. Documents start kSimBackdate before `now`; TCB levels rate "upgraded" and
// "default" UpToDate, "downgraded" OutOfDate with an advisory (docs/simulation.md, "Collateral").
// All functions are pure but for the clock and the platform's keys: safe from any thread.
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

// The whole bundle, ready for verify::QuoteVerifier or a PCCS. Errors: the signing or encoding
// failure from crypto/pki, which a sound platform does not produce.
Result<verify::Collateral> MakeSimCollateral(const SimPlatform& platform,
                                             const CollateralOptions& options = {});
// The PCK CRL of one PCK CA and its issuer chain (CA, Root), as a PCCS serves it for `ca=`.
// The platform's PCK certificates are revoked only in their own issuer's CRL. Errors as
// MakeSimCollateral().
Result<verify::PckCrlBundle> MakeSimPckCrl(const SimPlatform& platform, PckCa ca,
                                           const CollateralOptions& options = {});

// {"<key>":<object_text>,"signature":"<hex r‖s over object_text>"}, Intel's signed form.
// Errors: the signing key's failure.
Result<std::string> SignCollateralObject(const crypto::EcKey& key, std::string_view key_name,
                                         std::string_view object_text);

}  // namespace confcom::sim
