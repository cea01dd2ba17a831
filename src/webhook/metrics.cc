#include "webhook/metrics.h"

namespace confcom::webhook {

WebhookMetrics::WebhookMetrics(prometheus::Registry& registry) {
  auto& reviews = prometheus::BuildCounter()
                      .Name("confcom_sgx_webhook_reviews_total")
                      .Help("Admission reviews answered, by operation and result")
                      .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("confcom_sgx_webhook_review_duration_seconds")
                       .Help("Time to handle one admission review (parse, decide, answer)")
                       .Register(registry);
  const prometheus::Histogram::BucketBoundaries buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                           0.005,  0.01,    0.025,  0.05,  0.1};
  for (int o = 0; o < 2; ++o) {
    auto op = static_cast<ReviewOperation>(o);
    for (int r = 0; r < 5; ++r) {
      reviews_[o][r] = &reviews.Add({{"operation", ReviewOperationName(op)},
                                     {"result", ReviewResultName(static_cast<ReviewResult>(r))}});
    }
    duration_[o] = &duration.Add({{"operation", ReviewOperationName(op)}}, buckets);
  }
  auto& reloads = prometheus::BuildCounter()
                      .Name("confcom_sgx_webhook_certificate_reloads_total")
                      .Help("Serving certificate reloads after the files changed, by result")
                      .Register(registry);
  reload_ok_ = &reloads.Add({{"result", "ok"}});
  reload_failed_ = &reloads.Add({{"result", "failed"}});
  refused_ = &prometheus::BuildCounter()
                  .Name("confcom_sgx_webhook_refused_total")
                  .Help(
                      "Requests and connections the HTTPS layer refused before any review, by "
                      "reason (docs/https.md)")
                  .Register(registry);
}

void WebhookMetrics::Observe(ReviewOperation op, ReviewResult result, double seconds) {
  reviews_[int(op)][int(result)]->Increment();
  duration_[int(op)]->Observe(seconds);
}

void WebhookMetrics::CertificateReload(bool ok) { (ok ? reload_ok_ : reload_failed_)->Increment(); }

}  // namespace confcom::webhook

namespace confcom::webhook {

void WebhookMetrics::Refused(const std::string& reason) {
  refused_->Add({{"reason", reason}}).Increment();
}

}  // namespace confcom::webhook
