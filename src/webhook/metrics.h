// The webhook's Prometheus metrics:
//   confcom_sgx_webhook_reviews_total{operation="mutate|validate",result="patched|unchanged|allowed|denied|error"}
//   confcom_sgx_webhook_review_duration_seconds{operation}  (histogram, handler time)
//   confcom_sgx_webhook_certificate_reloads_total{result="ok|failed"}
//   confcom_sgx_webhook_refused_total{reason}  (https::RefusalHook's reasons)
// Thread safety: every method may be called from any thread at once (prometheus-cpp's
// counters and histograms are atomic).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>

#include "webhook/admission_review.h"

namespace confcom::webhook {

class WebhookMetrics {
 public:
  // Registers the three families in `registry`, which must outlive this object.
  explicit WebhookMetrics(prometheus::Registry& registry);
  // Counts one review with its result and observes its handling time.
  void Observe(ReviewOperation op, ReviewResult result, double seconds);
  // Counts one certificate reload attempt (https::CertReloader's on_reload hook).
  void CertificateReload(bool ok);
  // Counts one request or connection the HTTPS layer refused (https::ServerOptions::on_refusal).
  void Refused(const std::string& reason);

 private:
  std::array<std::array<prometheus::Counter*, 5>, 2> reviews_{};
  std::array<prometheus::Histogram*, 2> duration_{};
  prometheus::Counter* reload_ok_ = nullptr;
  prometheus::Counter* reload_failed_ = nullptr;
  prometheus::Family<prometheus::Counter>* refused_ = nullptr;
};

}  // namespace confcom::webhook
