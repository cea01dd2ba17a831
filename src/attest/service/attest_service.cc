#include "attest/service/attest_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "attest/policy/policy_jws.h"
#include "attest/token/request.h"
#include "common/bytes.h"
#include "crypto/crypto.h"
#include "verify/collateral.h"

namespace confcom::attest {

using json = nlohmann::json;

namespace {

constexpr char kJson[] = "application/json";
constexpr char kAdminOff[] =
    "policy administration is off: start sgx-attest with --enable-admin-api (docs/attest-api.md)";

https::Response JsonAnswer(int status, std::string body) {
  https::Response r;
  r.status = status;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

https::Response ErrorAnswer(const ApiError& e) {
  return JsonAnswer(e.http_status, ApiErrorBody(e));
}

https::Response TokenAnswer(const std::string& token) {
  return JsonAnswer(200, json{{"token", token}}.dump());
}

// Why an attestation failed: the metrics reason and MAA's error.
struct Failure {
  AttestReason reason;
  ApiError error;
};
Failure Fail(AttestReason reason, ApiErrorKind kind, std::string message) {
  return {reason, MakeApiError(kind, std::move(message))};
}

// What the log line of a successful attestation says.
struct Success {
  std::string token;
  std::string mrenclave, mrsigner, tcb_status, policy_hash;
  bool debug = false, draft = false, simulated_root = false;
};

bool AllZero(ByteSpan b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

// The claims MAA gives the policy for an SGX quote ("Claim sets": incoming claims), and
// confcom's two claims, so a policy can also judge the TCB status and the simulated root.
std::vector<Claim> IncomingClaims(const sgx::ReportBody& r, const AttestRequest& req,
                                  const std::string& tcb_status, bool simulated_root) {
  std::vector<Claim> c;
  auto add = [&c](std::string type, json value) {
    c.push_back({std::move(type), std::move(value)});
  };
  add("x-ms-attestation-type", "sgx");
  add("x-ms-sgx-is-debuggable", (r.attributes.flags & sgx::kFlagDebug) != 0);
  add("x-ms-sgx-mrenclave", ToHex(r.mr_enclave));
  add("x-ms-sgx-mrsigner", ToHex(r.mr_signer));
  add("x-ms-sgx-product-id", int64_t{r.isv_prod_id});
  add("x-ms-sgx-svn", int64_t{r.isv_svn});
  add("x-ms-sgx-report-data", ToHex(r.report_data));
  if (req.runtime_data && req.runtime_data->type == DataType::kBinary) {
    add("x-ms-sgx-ehd", Base64UrlEncode(req.runtime_data->data));
  }
  constexpr uint64_t kFlagKss = 0x80;  // SGX_FLAGS_KSS
  if ((r.attributes.flags & kFlagKss) != 0 || !AllZero(r.config_id) || r.config_svn != 0 ||
      !AllZero(r.isv_ext_prod_id) || !AllZero(r.isv_family_id)) {
    add("x-ms-sgx-config-id", ToHex(r.config_id));
    add("x-ms-sgx-config-svn", int64_t{r.config_svn});
    add("x-ms-sgx-isv-extended-product-id", ToHex(r.isv_ext_prod_id));
    add("x-ms-sgx-isv-family-id", ToHex(r.isv_family_id));
  }
  add(kTcbStatusClaim, tcb_status);
  add(kSimulatedRootClaim, simulated_root);
  return c;
}

// The SHA-256 hashes of x-ms-sgx-collateral. The QE identity and the TCB info are both
// signed by the TCB Signing key (same chain) and both chains end at the Root CA, whose CRL is
// the one checked for them.
CollateralHashes HashCollateral(const verify::Collateral& c, ByteSpan quote) {
  CollateralHashes h;
  h.qe_id_certs = crypto::Sha256(AsBytes(c.tcb_signing_chain_pem));
  h.qe_id_crl = crypto::Sha256(c.root_ca_crl_der);
  h.qe_id = crypto::Sha256(AsBytes(c.qe_identity_json));
  h.quote = crypto::Sha256(quote);
  h.tcb_info_certs = crypto::Sha256(AsBytes(c.tcb_signing_chain_pem));
  h.tcb_info_crl = crypto::Sha256(c.root_ca_crl_der);
  h.tcb_info = crypto::Sha256(AsBytes(c.tcb_info_json));
  return h;
}

bool TcbRefused(verify::TcbStatus s) {
  return s == verify::TcbStatus::kRevoked || s == verify::TcbStatus::kOutOfDate ||
         s == verify::TcbStatus::kOutOfDateConfigurationNeeded;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The policy's issued claims as one JSON object; a type issued twice becomes an array.
json PolicyClaims(const std::vector<Claim>& issued) {
  json out = json::object();
  for (const Claim& c : issued) {
    if (!out.contains(c.type)) {
      out[c.type] = c.value;
    } else {
      json& slot = out[c.type];
      if (!slot.is_array()) slot = json::array({slot});
      slot.push_back(c.value);
    }
  }
  return out;
}

// A PUT/reset body as the SDKs send it: the compact JWS as text/plain; a JSON string holding
// it is accepted too (a client that sends the body as application/json).
std::string JwsFromBody(const std::string& body) {
  std::string_view b = body;
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r' || b.back() == ' '))
    b.remove_suffix(1);
  if (b.size() >= 2 && b.front() == '"') {
    json parsed = json::parse(b, nullptr, false);
    if (parsed.is_string()) return parsed.get<std::string>();
  }
  return std::string(b);
}

}  // namespace

Result<std::unique_ptr<AttestService>> AttestService::Create(AttestServiceOptions options) {
  if (options.issuer.empty() || options.issuer.back() == '/') {
    return Status::InvalidArgument("issuer must be a URL without a trailing '/', got '" +
                                   options.issuer + "'");
  }
  if (options.verifiers == nullptr) return Status::InvalidArgument("no verifier source");
  if (options.policies == nullptr) return Status::InvalidArgument("no policy store");
  if (options.token_lifetime.count() <= 0) {
    return Status::InvalidArgument("the token lifetime must be positive");
  }
  if (options.keys.keys().empty()) return Status::InvalidArgument("no signing key");
  return std::unique_ptr<AttestService>(new AttestService(std::move(options)));
}

AttestService::AttestService(AttestServiceOptions options)
    : options_(std::move(options)),
      jwks_json_(options_.keys.JwksJson()),
      openid_json_(OpenIdMetadataJson(options_.issuer)) {}

std::time_t AttestService::Now() const {
  return options_.clock ? options_.clock() : std::time(nullptr);
}

std::vector<https::Route> AttestService::Routes() {
  auto attest = [this](EvidenceKind kind) {
    return [this, kind](const https::Request& r) { return Attest(r, kind); };
  };
  return {
      {"POST", "/attest/SgxEnclave", attest(EvidenceKind::kSgxQuote)},
      {"POST", "/attest/OpenEnclave", attest(EvidenceKind::kOpenEnclaveReport)},
      {"GET", "/certs", [this](const https::Request& r) { return Certs(r); }},
      {"GET", "/.well-known/openid-configuration",
       [this](const https::Request& r) { return OpenIdMetadata(r); }},
      {"GET", "/policies/SgxEnclave", [this](const https::Request& r) { return GetPolicy(r); }},
      {"PUT", "/policies/SgxEnclave", [this](const https::Request& r) { return SetPolicy(r); }},
      {"POST", "/policies/SgxEnclave:reset",
       [this](const https::Request& r) { return ResetPolicy(r); }},
  };
}

// Neither the SDKs nor MAA's REST reference send api-version to these two (the generated
// clients' operations have no query parameter): any or none is accepted.
https::Response AttestService::Certs(const https::Request&) const {
  return JsonAnswer(200, jwks_json_);
}

https::Response AttestService::OpenIdMetadata(const https::Request&) const {
  return JsonAnswer(200, openid_json_);
}

https::Response AttestService::Attest(const https::Request& request, EvidenceKind kind) {
  const auto start = std::chrono::steady_clock::now();
  const char* route = kind == EvidenceKind::kSgxQuote ? "SgxEnclave" : "OpenEnclave";
  std::variant<Failure, Success> outcome = [&]() -> std::variant<Failure, Success> {
    if (Status st = CheckApiVersion(request.Query("api-version")); !st.ok()) {
      return Failure{AttestReason::kInvalidRequest, ApiVersionError(st)};
    }
    auto req = ParseAttestRequest(request.body, kind);
    if (!req.ok()) {
      return Fail(AttestReason::kInvalidRequest, ApiErrorKind::kInvalidRequest,
                  req.status().message());
    }
    // For Open Enclave, ParseAttestRequest already took the quote out of the report.
    const Bytes quote = std::move(req->quote);

    // The policy: the draft, or the one in force.
    std::shared_ptr<const StoredPolicy> stored;
    if (req->draft_policy) {
      auto draft = Policy::Parse(*req->draft_policy);
      if (!draft.ok()) {
        return Fail(AttestReason::kPolicy, ApiErrorKind::kInvalidPolicy,
                    "draftPolicyForAttestation does not parse: " + draft.status().message());
      }
      stored = MakeStoredPolicy(*draft, /*is_default=*/false);
    } else {
      stored = options_.policies->Current();
    }

    // Configuration rules first: they choose the TCB baseline (x-ms-sgx-tcbidentifier)
    // before any claim exists, so they run on no claims.
    auto config = stored->policy.Evaluate({});
    if (!config.ok()) {
      return Fail(AttestReason::kPolicy, ApiErrorKind::kPolicyDenied,
                  "policy configuration rules: " + config.status().message());
    }
    std::optional<uint32_t> tcb_number;
    if (config->tcb_identifier) {
      auto n = TcbEvaluationDataNumber(*config->tcb_identifier);
      if (!n.ok()) {
        return Fail(AttestReason::kPolicy, ApiErrorKind::kPolicyDenied,
                    "policy property x-ms-sgx-tcbidentifier: " + n.status().message());
      }
      tcb_number = *n;
    }

    auto platform = options_.verifiers->VerifierFor(quote, tcb_number);
    if (!platform.ok()) {
      const Status& st = platform.status();
      switch (st.code()) {
        case Status::Code::kInvalidArgument:
          return Fail(AttestReason::kQuote, ApiErrorKind::kInvalidQuote, "quote: " + st.message());
        case Status::Code::kNotFound:
          return Fail(AttestReason::kQuote, ApiErrorKind::kInvalidQuote,
                      "no collateral for this quote's platform: " + st.message());
        case Status::Code::kUnavailable:
          return Fail(AttestReason::kCollateralUnavailable, ApiErrorKind::kUnavailable,
                      "collateral cannot be fetched now, try again later: " + st.message());
        default:
          return Fail(AttestReason::kInternal, ApiErrorKind::kInternal,
                      "collateral: " + st.ToString());
      }
    }
    if (options_.metrics) options_.metrics->CollateralLookup(platform->cache_hit);

    // DEBUG enclaves are the policy's to judge (x-ms-sgx-is-debuggable), as MAA does.
    verify::VerifyOptions vo;
    vo.at = Now();
    vo.allow_debug = true;
    verify::Verdict v = platform->verifier->Verify(quote, vo);
    if (!v.verified) {
      if (v.failed == verify::Check::kRevocation) {
        return Fail(AttestReason::kTcb, ApiErrorKind::kTcbRefused,
                    fmt::format("the platform is revoked ({} check): {}",
                                verify::CheckName(v.failed), v.message));
      }
      return Fail(AttestReason::kQuote, ApiErrorKind::kInvalidQuote,
                  fmt::format("the quote does not verify ({} check): {}",
                              verify::CheckName(v.failed), v.message));
    }
    if (!v.app_report || !v.combined_status) {
      return Fail(AttestReason::kInternal, ApiErrorKind::kInternal,
                  "the verifier passed a quote without a report body or TCB status");
    }
    const verify::TcbStatus tcb = *v.combined_status;
    if (TcbRefused(tcb)) {
      return Fail(AttestReason::kTcb, ApiErrorKind::kTcbRefused,
                  fmt::format("the platform's TCB is {} (TCB date {}{}{}): refused, as MAA refuses "
                              "platforms below its TCB baseline; update the platform's "
                              "microcode/BIOS and PSW",
                              verify::TcbStatusName(tcb), v.tcb_date,
                              v.advisory_ids.empty() ? "" : ", advisories ", Join(v.advisory_ids)));
    }
    const sgx::ReportBody& report = *v.app_report;
    if (req->runtime_data) {
      if (Status st = CheckRuntimeData(report, req->runtime_data->data); !st.ok()) {
        return Fail(AttestReason::kRuntimeData, ApiErrorKind::kRuntimeDataMismatch, st.message());
      }
    }
    if (req->init_time_data) {
      if (Status st = CheckInitTimeData(report, req->init_time_data->data); !st.ok()) {
        return Fail(AttestReason::kRuntimeData, ApiErrorKind::kRuntimeDataMismatch, st.message());
      }
    }

    const std::string tcb_name = verify::TcbStatusName(tcb);
    auto incoming = IncomingClaims(report, *req, tcb_name, platform->simulated_root);
    auto outcome = stored->policy.Evaluate(incoming);
    if (!outcome.ok()) {
      return Fail(AttestReason::kPolicy, ApiErrorKind::kPolicyDenied,
                  "policy evaluation failed: " + outcome.status().message());
    }
    if (!outcome->permitted) {
      return Fail(AttestReason::kPolicy, ApiErrorKind::kPolicyDenied, outcome->reason);
    }

    SgxClaimsInput in;
    in.issuer = options_.issuer;
    in.now = Now();
    in.lifetime = options_.token_lifetime;
    in.report = report;
    in.runtime_data = req->runtime_data;
    in.init_time_data = req->init_time_data;
    in.nonce = req->nonce;
    in.policy_hash = stored->hash;
    in.policy_claims = PolicyClaims(outcome->issued);
    if (platform->collateral) in.collateral = HashCollateral(*platform->collateral, quote);
    in.tcb_status = tcb_name;
    in.simulated_root = platform->simulated_root;
    auto claims = BuildSgxClaims(in);
    if (!claims.ok()) {
      return Fail(AttestReason::kPolicy, ApiErrorKind::kPolicyDenied, claims.status().message());
    }
    Success s;
    if (req->draft_policy) {
      s.token = UnsecuredToken(*claims);
    } else {
      auto token = SignToken(options_.keys.signer(), options_.issuer, *claims);
      if (!token.ok()) {
        return Fail(AttestReason::kInternal, ApiErrorKind::kInternal, token.status().message());
      }
      s.token = std::move(token).value();
    }
    s.mrenclave = ToHex(report.mr_enclave);
    s.mrsigner = ToHex(report.mr_signer);
    s.debug = (report.attributes.flags & sgx::kFlagDebug) != 0;
    s.tcb_status = tcb_name;
    s.policy_hash = stored->hash;
    s.draft = req->draft_policy.has_value();
    s.simulated_root = platform->simulated_root;
    return s;
  }();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (auto* s = std::get_if<Success>(&outcome)) {
    if (options_.metrics) options_.metrics->Attestation(AttestReason::kOk, seconds);
    spdlog::info(
        "attest {} from {}: ok, mrenclave {} mrsigner {} debug {} tcb {} policy {}{}{} ({:.1f} ms)",
        route, request.remote_address, s->mrenclave, s->mrsigner, s->debug, s->tcb_status,
        s->policy_hash, s->draft ? " (draft policy, unsecured token)" : "",
        s->simulated_root ? "; SIMULATED platform root (--trust-root), not Intel's" : "",
        seconds * 1000);
    return TokenAnswer(s->token);
  }
  const Failure& f = std::get<Failure>(outcome);
  if (options_.metrics) options_.metrics->Attestation(f.reason, seconds);
  auto level = f.error.http_status >= 500 ? spdlog::level::warn : spdlog::level::info;
  spdlog::log(level, "attest {} from {}: {} {} ({}): {} ({:.1f} ms)", route, request.remote_address,
              f.error.http_status, f.error.code, AttestReasonName(f.reason), f.error.message,
              seconds * 1000);
  return ErrorAnswer(f.error);
}

// ---- Policy administration ----

std::optional<https::Response> AttestService::CheckAdmin(const https::Request& request,
                                                         PolicyAccess access, PolicyOperation op) {
  auto refuse = [&](PolicyAdminResult result, ApiError e) {
    if (options_.metrics) options_.metrics->PolicyAdmin(op, result);
    spdlog::info("policy {} from {}: {} {}: {}", request.method, request.remote_address,
                 e.http_status, e.code, e.message);
    return ErrorAnswer(e);
  };
  if (Status st = CheckApiVersion(request.Query("api-version")); !st.ok()) {
    return refuse(PolicyAdminResult::kInvalid, ApiVersionError(st));
  }
  if (options_.admin == nullptr) {
    return refuse(PolicyAdminResult::kForbidden, MakeApiError(ApiErrorKind::kForbidden, kAdminOff));
  }
  auto decision = options_.admin->Decide(request.Header("Authorization"), access);
  if (!decision.ok()) {
    return refuse(PolicyAdminResult::kError, MakeApiError(ApiErrorKind::kUnavailable,
                                                          "cannot check the caller's rights now: " +
                                                              decision.status().message()));
  }
  if (!decision->authenticated) {
    return refuse(
        PolicyAdminResult::kUnauthorized,
        MakeApiError(ApiErrorKind::kUnauthorized, decision->reason.empty()
                                                      ? "a bearer token of the cluster is required"
                                                      : decision->reason));
  }
  if (!decision->allowed) {
    return refuse(
        PolicyAdminResult::kForbidden,
        MakeApiError(ApiErrorKind::kForbidden,
                     (decision->user.empty() ? "" : decision->user + ": ") + decision->reason));
  }
  spdlog::info("policy {} {} by {} from {}", request.method, request.path, decision->user,
               request.remote_address);
  return std::nullopt;
}

https::Response AttestService::PolicyResultAnswer(json claims) {
  const auto now = static_cast<int64_t>(Now());
  claims["iss"] = options_.issuer;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + kPolicyResultLifetime.count();
  auto token = SignToken(options_.keys.signer(), options_.issuer, claims);
  if (!token.ok())
    return ErrorAnswer(MakeApiError(ApiErrorKind::kInternal, token.status().message()));
  return TokenAnswer(*token);
}

https::Response AttestService::GetPolicy(const https::Request& request) {
  if (auto refused = CheckAdmin(request, PolicyAccess::kRead, PolicyOperation::kGet)) {
    return *refused;
  }
  auto stored = options_.policies->Current();
  if (options_.metrics)
    options_.metrics->PolicyAdmin(PolicyOperation::kGet, PolicyAdminResult::kOk);
  // MAA answers the stored policy as an unsigned JWS in x-ms-policy (recorded answers).
  return PolicyResultAnswer({{"x-ms-policy", EncodeUnsignedPolicyJws(stored->policy.text())}});
}

namespace {
// The policy JWS of a PUT or reset, or the error. Only the unsigned form is taken: sgx-attest
// has no policy signing certificates (MAA's isolated mode); who may change the policy is
// decided by the bearer token (PolicyAdminAuthorizer), not by a signature.
Result<PolicyJws> DecodeAdminJws(const std::string& compact) {
  auto jws = DecodePolicyJws(compact);
  if (!jws.ok()) return jws.status();
  if (jws->alg != "none") {
    return Status::Unsupported(
        "a signed policy JWS (alg " + jws->alg +
        ") is not accepted: sgx-attest has no policy signing certificates; send the unsigned "
        "form (header {\"alg\":\"none\"}), the bearer token decides who may set the policy");
  }
  return jws;
}
}  // namespace

https::Response AttestService::SetPolicy(const https::Request& request) {
  if (auto refused = CheckAdmin(request, PolicyAccess::kWrite, PolicyOperation::kSet)) {
    return *refused;
  }
  auto invalid = [&](ApiErrorKind kind, std::string message) {
    if (options_.metrics)
      options_.metrics->PolicyAdmin(PolicyOperation::kSet, PolicyAdminResult::kInvalid);
    spdlog::info("policy PUT from {}: refused: {}", request.remote_address, message);
    return ErrorAnswer(MakeApiError(kind, std::move(message)));
  };
  const std::string compact = JwsFromBody(request.body);
  auto jws = DecodeAdminJws(compact);
  if (!jws.ok()) return invalid(ApiErrorKind::kInvalidOperation, jws.status().message());
  if (!jws->policy_text) {
    return invalid(ApiErrorKind::kInvalidOperation,
                   "policy JWS carries no AttestationPolicy (to restore the default policy, "
                   "POST /policies/SgxEnclave:reset)");
  }
  auto policy = Policy::Parse(*jws->policy_text);
  if (!policy.ok()) {
    return invalid(ApiErrorKind::kInvalidPolicy,
                   "the policy does not parse: " + policy.status().message());
  }
  if (Status st = options_.policies->Set(*policy); !st.ok()) {
    if (options_.metrics)
      options_.metrics->PolicyAdmin(PolicyOperation::kSet, PolicyAdminResult::kError);
    return ErrorAnswer(
        MakeApiError(ApiErrorKind::kUnavailable, "cannot store the policy: " + st.message()));
  }
  if (options_.metrics)
    options_.metrics->PolicyAdmin(PolicyOperation::kSet, PolicyAdminResult::kOk);
  spdlog::info("policy set from {}: x-ms-policy-hash {} ({} rules)", request.remote_address,
               PolicyHash(policy->text()), policy->rule_count());
  return PolicyResultAnswer(
      {{"x-ms-policy-result", "Updated"}, {"x-ms-policy-token-hash", PolicyTokenHash(compact)}});
}

https::Response AttestService::ResetPolicy(const https::Request& request) {
  if (auto refused = CheckAdmin(request, PolicyAccess::kWrite, PolicyOperation::kReset)) {
    return *refused;
  }
  const std::string compact = JwsFromBody(request.body);
  auto jws = DecodeAdminJws(compact);
  if (!jws.ok()) {
    if (options_.metrics)
      options_.metrics->PolicyAdmin(PolicyOperation::kReset, PolicyAdminResult::kInvalid);
    return ErrorAnswer(MakeApiError(ApiErrorKind::kInvalidOperation, jws.status().message()));
  }
  if (Status st = options_.policies->Reset(); !st.ok()) {
    if (options_.metrics)
      options_.metrics->PolicyAdmin(PolicyOperation::kReset, PolicyAdminResult::kError);
    return ErrorAnswer(
        MakeApiError(ApiErrorKind::kUnavailable, "cannot reset the policy: " + st.message()));
  }
  if (options_.metrics)
    options_.metrics->PolicyAdmin(PolicyOperation::kReset, PolicyAdminResult::kOk);
  spdlog::info("policy reset to the default from {}", request.remote_address);
  return PolicyResultAnswer(
      {{"x-ms-policy-result", "Removed"}, {"x-ms-policy-token-hash", PolicyTokenHash(compact)}});
}

}  // namespace confcom::attest
