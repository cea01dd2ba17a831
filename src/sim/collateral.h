// Collateral for the simulated platform, in Intel's formats: TCB Info v3 (id "SGX") and QE
// Identity v2 (id "QE") signed by the platform's TCB Signing key over the exact object text,
// the PCK CRL (by the Platform CA) and Root CA CRL (by the Root), and the issuer chains.
//
// TCB levels rate the simulated CPUSVNs: "upgraded" and "default" UpToDate, "downgraded"
// OutOfDate (with an advisory), so users can exercise TCB-status handling.
#pragma once

#include <ctime>

#include "sim/platform.h"
#include "verify/collateral.h"

namespace confcom::sim {

// Marks the advisory of the simulated OutOfDate level as simulated.
inline constexpr char kSimAdvisoryId[] = "CONFCOM-SIM-SA-00001";

struct CollateralOptions {
  std::time_t now = 0;  // 0: the current time
  int validity_days = 30;
  bool revoke_pck = false;  // list the platform's PCK certificates in the PCK CRL
};

Result<verify::Collateral> MakeSimCollateral(const SimPlatform& platform,
                                             const CollateralOptions& options = {});

// {"<key>":<object_text>,"signature":"<hex r‖s over object_text>"}, Intel's signed form.
Result<std::string> SignCollateralObject(const crypto::EcKey& key, std::string_view key_name,
                                         std::string_view object_text);

}  // namespace confcom::sim
