// sgx-attest's Prometheus metrics:
//   confcom_sgx_attest_attestations_total{result="ok|refused|error",reason}  (AttestReason)
//   confcom_sgx_attest_attestation_duration_seconds  (histogram, handler time)
//   confcom_sgx_attest_policy_admin_total{operation="get|set|reset",result="ok|unauthorized|forbidden|invalid|error"}
//   confcom_sgx_attest_collateral_lookups_total{result="hit|miss"}  (PlatformVerifier.cache_hit)
//   confcom_sgx_attest_collateral_events_total{event}  (the collateral cache's own events)
//   confcom_sgx_attest_certificate_reloads_total{result="ok|failed"}
//   confcom_sgx_attest_refused_total{reason}  (https::RefusalHook's reasons)
// Thread safety: every method may be called from any thread at once (prometheus-cpp's
// counters and histograms are atomic; labelled families lock inside).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>
#include <string_view>

namespace confcom::attest {

// Why an attestation ended as it did: a small fixed set, so the label stays bounded.
enum class AttestReason {
  kOk,
  kInvalidRequest,         // api-version, body, base64, bounds, Open Enclave header
  kQuote,                  // the quote or its collateral does not verify
  kTcb,                    // platform revoked or out of date
  kRuntimeData,            // runtimeData / initTimeData hash mismatch
  kPolicy,                 // the policy does not parse, or denies
  kCollateralUnavailable,  // no collateral could be had (503)
  kInternal,               // a bug or a library failure (500)
};
inline constexpr size_t kAttestReasonCount = 8;
// "ok", "invalid_request", "quote", "tcb", "runtime_data", "policy",
// "collateral_unavailable", "internal"; pure.
const char* AttestReasonName(AttestReason reason);

enum class PolicyOperation { kGet, kSet, kReset };
enum class PolicyAdminResult { kOk, kUnauthorized, kForbidden, kInvalid, kError };

class AttestMetrics {
 public:
  // Registers the families in `registry`, which must outlive this object.
  explicit AttestMetrics(prometheus::Registry& registry);
  // Counts one attestation (result "ok" for kOk, "error" for kInternal and
  // kCollateralUnavailable, else "refused") and observes its handling time.
  void Attestation(AttestReason reason, double seconds);
  // Counts one call of the policy administration API.
  void PolicyAdmin(PolicyOperation op, PolicyAdminResult result);
  // Counts one verifier lookup: served from the collateral cache, or not.
  void CollateralLookup(bool cache_hit);
  // Counts one event of the collateral cache ("fetch", "refresh", "error", ...): the hook for
  // CollateralCache's event callback. The event names are the cache's; keep them few.
  void CollateralEvent(std::string_view event);
  // Counts one serving-certificate reload attempt (https::CertReloader's on_reload hook).
  void CertificateReload(bool ok);
  // Counts one request or connection the HTTPS layer refused (https::ServerOptions::on_refusal).
  void Refused(const std::string& reason);

 private:
  std::array<prometheus::Counter*, kAttestReasonCount> attestations_{};
  prometheus::Histogram* duration_ = nullptr;
  std::array<std::array<prometheus::Counter*, 5>, 3> admin_{};
  prometheus::Counter* lookup_hit_ = nullptr;
  prometheus::Counter* lookup_miss_ = nullptr;
  prometheus::Family<prometheus::Counter>* collateral_events_ = nullptr;
  prometheus::Counter* reload_ok_ = nullptr;
  prometheus::Counter* reload_failed_ = nullptr;
  prometheus::Family<prometheus::Counter>* refused_ = nullptr;
};

}  // namespace confcom::attest
