#include "helper/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/gauge.h>

namespace confcom::helper {

namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

class ConnectionCollector final : public prometheus::Collectable {
 public:
  explicit ConnectionCollector(const FrameServerStats& s) : s_(s) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily total{"confcom_quote_helper_connections_total",
                                   "Connections by outcome",
                                   prometheus::MetricType::Counter,
                                   {}};
    auto add = [&](const char* outcome, uint64_t value) {
      prometheus::ClientMetric m;
      m.label = {{"outcome", outcome}};
      m.counter.value = double(value);
      total.metric.push_back(m);
    };
    add("accepted", s_.accepted.load());
    add("answered", s_.answered.load());
    add("refused", s_.refused.load());
    add("timed_out", s_.timed_out.load());
    add("bad_frame", s_.bad_frames.load());
    add("closed_unanswered", s_.closed_unanswered.load());
    add("peer_closed", s_.peer_closed.load());
    add("over_share", s_.over_share.load());
    add("over_budget", s_.over_budget.load());
    prometheus::MetricFamily identities{
        "confcom_quote_helper_client_identities_total",
        "Connections by how their client's share was keyed: by its pod, or by its uid and why",
        prometheus::MetricType::Counter,
        {}};
    for (size_t i = 0; i < kIdentifiedByCount; ++i) {
      prometheus::ClientMetric m;
      m.label = {{"identified_by", IdentifiedByName(IdentifiedBy(i))}};
      m.counter.value = double(s_.identified_by[i].load());
      identities.metric.push_back(m);
    }
    prometheus::MetricFamily open{"confcom_quote_helper_open_connections",
                                  "Open client connections",
                                  prometheus::MetricType::Gauge,
                                  {}};
    prometheus::ClientMetric m;
    m.gauge.value = double(s_.open.load());
    open.metric.push_back(m);
    prometheus::MetricFamily buffered{
        "confcom_quote_helper_buffered_bytes",
        "Bytes held for requests and replies (charged to --max-buffered-mib)",
        prometheus::MetricType::Gauge,
        {}};
    prometheus::ClientMetric b;
    b.gauge.value = double(s_.buffered_bytes.load());
    buffered.metric.push_back(b);
    return {total, identities, open, buffered};
  }

 private:
  const FrameServerStats& s_;
};

}  // namespace

QuoteHelperMetrics::QuoteHelperMetrics(prometheus::Registry& registry, std::string_view backend,
                                       bool simulated)
    : requests_(prometheus::BuildCounter()
                    .Name("confcom_quote_helper_requests_total")
                    .Help("AESM requests answered, by type and errorCode")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("confcom_quote_helper_request_duration_seconds")
                    .Help("Time to handle a request, from a whole frame to the reply")
                    .Register(registry)),
      rejected_(prometheus::BuildCounter()
                    .Name("confcom_quote_helper_rejected_requests_total")
                    .Help("Requests closed without a reply, by reason")
                    .Register(registry)) {
  prometheus::BuildGauge()
      .Name("confcom_quote_helper_info")
      .Help("The quote helper's version and backend; simulated=\"true\" means quotes prove nothing")
      .Register(registry)
      .Add({{"version", CONFCOM_VERSION},
            {"backend", std::string(backend)},
            {"simulated", simulated ? "true" : "false"}})
      .Set(1);
}

void QuoteHelperMetrics::Answered(aesm::RequestKind kind, aesm::AesmError code, double seconds) {
  const char* type = aesm::RequestKindName(kind);
  requests_.Add({{"type", type}, {"result", aesm::AesmErrorName(code)}}).Increment();
  duration_.Add({{"type", type}}, kLatencyBuckets).Observe(seconds);
}

void QuoteHelperMetrics::Rejected(std::string_view reason) {
  rejected_.Add({{"reason", std::string(reason)}}).Increment();
}

std::shared_ptr<prometheus::Collectable> QuoteHelperMetrics::ConnectionCollector(
    const FrameServerStats& stats) {
  return std::make_shared<class ConnectionCollector>(stats);
}

}  // namespace confcom::helper
