#include "attest/service/metrics.h"

namespace confcom::attest {

const char* AttestReasonName(AttestReason reason) {
  switch (reason) {
    case AttestReason::kOk: return "ok";
    case AttestReason::kInvalidRequest: return "invalid_request";
    case AttestReason::kQuote: return "quote";
    case AttestReason::kTcb: return "tcb";
    case AttestReason::kRuntimeData: return "runtime_data";
    case AttestReason::kPolicy: return "policy";
    case AttestReason::kCollateralUnavailable: return "collateral_unavailable";
    case AttestReason::kInternal: return "internal";
  }
  return "internal";
}

namespace {
const char* ResultOf(AttestReason reason) {
  switch (reason) {
    case AttestReason::kOk: return "ok";
    case AttestReason::kInternal:
    case AttestReason::kCollateralUnavailable: return "error";
    default: return "refused";
  }
}
constexpr const char* kOperations[] = {"get", "set", "reset"};
constexpr const char* kAdminResults[] = {"ok", "unauthorized", "forbidden", "invalid", "error"};
}  // namespace

AttestMetrics::AttestMetrics(prometheus::Registry& registry) {
  auto& attestations = prometheus::BuildCounter()
                           .Name("confcom_sgx_attest_attestations_total")
                           .Help("Attest calls answered, by result and reason")
                           .Register(registry);
  for (size_t r = 0; r < kAttestReasonCount; ++r) {
    auto reason = static_cast<AttestReason>(r);
    attestations_[r] =
        &attestations.Add({{"result", ResultOf(reason)}, {"reason", AttestReasonName(reason)}});
  }
  // One verification (~1 ms) plus one RS256 signature (~1 ms) is the usual case; a collateral
  // fetch from a PCCS adds 10 ms to seconds.
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10};
  duration_ = &prometheus::BuildHistogram()
                   .Name("confcom_sgx_attest_attestation_duration_seconds")
                   .Help("Time to answer one attest call (parse, verify, evaluate, sign)")
                   .Register(registry)
                   .Add({}, buckets);
  auto& admin = prometheus::BuildCounter()
                    .Name("confcom_sgx_attest_policy_admin_total")
                    .Help("Policy administration calls, by operation and result")
                    .Register(registry);
  for (size_t o = 0; o < 3; ++o) {
    for (size_t r = 0; r < 5; ++r) {
      admin_[o][r] = &admin.Add({{"operation", kOperations[o]}, {"result", kAdminResults[r]}});
    }
  }
  auto& lookups = prometheus::BuildCounter()
                      .Name("confcom_sgx_attest_collateral_lookups_total")
                      .Help("Verifier lookups, served from the collateral cache (hit) or not")
                      .Register(registry);
  lookup_hit_ = &lookups.Add({{"result", "hit"}});
  lookup_miss_ = &lookups.Add({{"result", "miss"}});
  collateral_events_ = &prometheus::BuildCounter()
                            .Name("confcom_sgx_attest_collateral_events_total")
                            .Help("Collateral cache events (fetches, refreshes, errors), by event")
                            .Register(registry);
  auto& reloads = prometheus::BuildCounter()
                      .Name("confcom_sgx_attest_certificate_reloads_total")
                      .Help("Serving certificate reloads after the files changed, by result")
                      .Register(registry);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "failed"}});
  refused_ = &prometheus::BuildCounter()
                  .Name("confcom_sgx_attest_refused_total")
                  .Help(
                      "Requests and connections the HTTPS layer refused before any handler, by "
                      "reason (docs/https.md)")
                  .Register(registry);
}

void AttestMetrics::Attestation(AttestReason reason, double seconds) {
  attestations_[size_t(reason)]->Increment();
  duration_->Observe(seconds);
}

void AttestMetrics::PolicyAdmin(PolicyOperation op, PolicyAdminResult result) {
  admin_[size_t(op)][size_t(result)]->Increment();
}

void AttestMetrics::CollateralLookup(bool cache_hit) {
  (cache_hit ? lookup_hit_ : lookup_miss_)->Increment();
}

void AttestMetrics::CollateralEvent(std::string_view event) {
  collateral_events_->Add({{"event", std::string(event)}}).Increment();
}

void AttestMetrics::CertificateReload(bool ok) { (ok ? reload_ok_ : reload_failed_)->Increment(); }

void AttestMetrics::Refused(const std::string& reason) {
  refused_->Add({{"reason", reason}}).Increment();
}

}  // namespace confcom::attest
