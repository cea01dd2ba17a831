// The quote helper's Prometheus metrics:
//   confcom_quote_helper_requests_total{type,result}        requests by AESM type and errorCode name
//   confcom_quote_helper_request_duration_seconds{type}     handling time (parse to reply), histogram
//   confcom_quote_helper_rejected_requests_total{reason}    unparseable / unclassifiable / internal
//   confcom_quote_helper_connections_total{outcome}         accepted, refused, timed_out, bad_frame,
//                                                           over_share, over_budget, ...
//   confcom_quote_helper_client_identities_total{identified_by}  connections by how their
//                                                           client was keyed: pod, not_in_pod, ...
//   confcom_quote_helper_open_connections                   gauge
//   confcom_quote_helper_buffered_bytes                     gauge: memory held for requests/replies
//   confcom_quote_helper_info{version,backend,simulated}    1; simulated="true" on the sim backend
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string_view>

#include "aesm/protocol.h"
#include "helper/frame_server.h"

namespace confcom::helper {

// Thread-safe: the counters are prometheus-cpp's, which any thread may update.
class QuoteHelperMetrics {
 public:
  // Registers the families above in `registry` (which must outlive this) and sets the info
  // gauge. prometheus-cpp throws if a family of the same name and another type is there.
  QuoteHelperMetrics(prometheus::Registry& registry, std::string_view backend, bool simulated);

  // Counts a request answered with `code` (or refused with it) and its handling time.
  void Answered(aesm::RequestKind kind, aesm::AesmError code, double seconds);
  // Counts a request closed without a reply; `reason` is OutcomeReasonName()'s word.
  void Rejected(std::string_view reason);
  // Returns a collectable that reads the server's connection counters and gauges at scrape
  // time (the _connections_total, _client_identities_total, _open_connections and
  // _buffered_bytes families above);
  // `stats` must outlive it.
  static std::shared_ptr<prometheus::Collectable> ConnectionCollector(
      const FrameServerStats& stats);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& rejected_;
};

}  // namespace confcom::helper
