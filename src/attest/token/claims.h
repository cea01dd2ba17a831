// The claims of an SGX attestation token as Azure Attestation (MAA) issues them, built from a
// verified quote's report body, the request's runtime/initTime data, the policy's claims and
// confcom's own verdict (TCB status, simulated root); and the two data checks MAA makes
// before it issues: runtimeData against REPORTDATA, initTimeData against CONFIGID.
// docs/attest-api.md, "Claims", names each claim's source.
// Thread safety: pure functions and plain values.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "attest/token/request.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "sgx/types.h"

namespace confcom::attest {

// MAA's tokens live 8 hours (exp - iat in every published example).
inline constexpr std::chrono::seconds kDefaultTokenLifetime = std::chrono::hours(8);

// confcom's own claims (MAA has no TCB status claim and no simulated platforms).
inline constexpr char kTcbStatusClaim[] = "x-confcom-sgx-tcb-status";
inline constexpr char kSimulatedRootClaim[] = "x-confcom-sgx-simulated-root";

// SHA-256 of each collateral item, the members of x-ms-sgx-collateral.
struct CollateralHashes {
  crypto::Sha256Digest qe_id_certs{};     // qeidcertshash: QE identity issuer chain
  crypto::Sha256Digest qe_id_crl{};       // qeidcrlhash: the Root CA CRL checked for it
  crypto::Sha256Digest qe_id{};           // qeidhash: the QE identity JSON
  crypto::Sha256Digest quote{};           // quotehash: the quote as evaluated
  crypto::Sha256Digest tcb_info_certs{};  // tcbinfocertshash: TCB info issuer chain
  crypto::Sha256Digest tcb_info_crl{};    // tcbinfocrlhash
  crypto::Sha256Digest tcb_info{};        // tcbinfohash: the TCB info JSON
};

struct SgxClaimsInput {
  std::string issuer;  // iss: the service's base URL, no trailing slash
  std::time_t now = 0;
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  sgx::ReportBody report;  // the verified quote's enclave report body
  std::optional<AttestData> runtime_data;
  std::optional<AttestData> init_time_data;
  std::optional<std::string> nonce;
  std::string
      policy_hash;  // x-ms-policy-hash, attest::PolicyHash() (policy/policy_jws.h) of the policy in force
  // Claims the policy's issuance rules issued, added as they are (they may not replace the
  // claims above: an "iss" or "x-ms-sgx-mrenclave" from a policy is refused).
  nlohmann::json policy_claims = nlohmann::json::object();
  CollateralHashes collateral;
  std::string tcb_status;       // "UpToDate", "SWHardeningNeeded", ... (verify's names)
  bool simulated_root = false;  // the quote chains to a --trust-root, not Intel's root
};

// The token payload. Errors: InvalidArgument (empty issuer or one ending in '/', a policy
// claim that would replace a service claim), Internal (no randomness for jti).
Result<nlohmann::json> BuildSgxClaims(const SgxClaimsInput& in);

// SHA-256 of `runtime_data` must equal REPORTDATA[0..32). Errors: InvalidArgument
// "runtimeData: SHA-256 <hex> is not REPORTDATA[0..32) <hex>".
Status CheckRuntimeData(const sgx::ReportBody& report, ByteSpan runtime_data);
// SHA-256 of `init_time_data` must equal CONFIGID[0..32) (a KSS enclave's config id).
// Errors: InvalidArgument naming both hashes.
Status CheckInitTimeData(const sgx::ReportBody& report, ByteSpan init_time_data);

}  // namespace confcom::attest
