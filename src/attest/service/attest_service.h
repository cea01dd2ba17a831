// sgx-attest's routes: Azure Attestation's (MAA) SGX data plane (POST /attest/SgxEnclave and
// /attest/OpenEnclave, GET /certs, GET /.well-known/openid-configuration) and its policy
// administration API (GET/PUT /policies/SgxEnclave, POST /policies/SgxEnclave:reset), on the
// HTTPS layer's route table. An attestation: api-version, body, the policy's configuration
// rules (TCB baseline), the platform's verifier, the quote, the TCB status, runtimeData and
// initTimeData, the policy, the claims, the token. Wire details: docs/attest-api.md.
// Thread safety: handlers may run on any number of threads at once; the options' objects must
// allow that too (VerifierSource, PolicyStore and PolicyAdminAuthorizer promise it).
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "attest/collateral/verifier_source.h"
#include "attest/policy/policy_store.h"
#include "attest/service/metrics.h"
#include "attest/token/claims.h"
#include "attest/token/signing.h"
#include "common/status.h"
#include "https/server.h"

namespace confcom::attest {

// MAA's policy results live one hour (exp - iat = 3600 in every recorded answer).
inline constexpr std::chrono::seconds kPolicyResultLifetime = std::chrono::hours(1);

struct AttestServiceOptions {
  std::string issuer;  // the service's URL, no trailing '/': iss, jku, the OpenID metadata
  std::chrono::seconds token_lifetime = kDefaultTokenLifetime;
  SigningKeySet keys;                   // the signer signs tokens and policy results
  VerifierSource* verifiers = nullptr;  // required
  PolicyStore* policies = nullptr;      // required
  // Null: the administration routes answer 403 (off, see --enable-admin-api).
  PolicyAdminAuthorizer* admin = nullptr;
  AttestMetrics* metrics = nullptr;    // may be null
  std::function<std::time_t()> clock;  // null: the system clock (tests fix it)
};

class AttestService {
 public:
  // Errors: InvalidArgument (empty issuer or one ending in '/', no verifier source or policy
  // store, a lifetime not positive). The objects the options point to must outlive the service.
  static Result<std::unique_ptr<AttestService>> Create(AttestServiceOptions options);

  // The route table (handlers never throw; every error is MAA's {"error":{"code","message"}}).
  std::vector<https::Route> Routes();
  // For /readyz (https::ServerOptions::readiness): the verifier source's readiness.
  Status Ready() const { return options_.verifiers->Ready(); }

  // The handlers, public for tests that call them without HTTP.
  https::Response Attest(const https::Request& request, EvidenceKind kind);
  https::Response Certs(const https::Request& request) const;
  https::Response OpenIdMetadata(const https::Request& request) const;
  https::Response GetPolicy(const https::Request& request);
  https::Response SetPolicy(const https::Request& request);
  https::Response ResetPolicy(const https::Request& request);

 private:
  explicit AttestService(AttestServiceOptions options);
  std::time_t Now() const;
  // The signed policy-result token answer for `claims` (plus iss, iat, nbf, exp).
  https::Response PolicyResultAnswer(nlohmann::json claims);
  // Returns an error answer unless `request` may `access` the policy (api-version first).
  std::optional<https::Response> CheckAdmin(const https::Request& request, PolicyAccess access,
                                            PolicyOperation op);

  AttestServiceOptions options_;
  std::string jwks_json_;
  std::string openid_json_;
};

}  // namespace confcom::attest
