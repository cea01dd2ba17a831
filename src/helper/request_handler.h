// The quote helper's request handling: what the FrameServer calls for each whole request.
//
// It answers through the AesmService, or, when the server says the request must be refused
// (the client is over its share, or the memory budget is exhausted), answers BUSY in the
// request's own response field without quoting. Every outcome is logged with the peer (pid,
// uid) and counted in the metrics (when given); lines that clients can cause at will (bad or
// refused requests, failures) are rate-limited. An exception from the service or backend
// becomes an kInternal outcome (no reply), never the helper's end.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "helper/aesm_service.h"
#include "helper/frame_server.h"
#include "helper/metrics.h"

namespace confcom::helper {

// Returns the metric label (and log word) of an outcome's reason, e.g. "unparseable".
const char* OutcomeReasonName(Outcome::Reason reason);

// Thread-safe if the service's backend is: the FrameServer calls it from all its loops at once.
class RequestHandler {
 public:
  // `metrics` may be null (metrics off). Both must outlive the handler.
  RequestHandler(const AesmService* service, QuoteHelperMetrics* metrics)
      : service_(service), metrics_(metrics) {}

  // Returns the reply payload, or nullopt to close without one (FrameServer::Handler). Never
  // throws: an exception from the service becomes a kInternal outcome.
  std::optional<std::string> operator()(std::string_view request,
                                        const RequestContext& context) const;
  // The same, returning the whole outcome (for tests); logs and counts it as operator() does.
  Outcome Handle(std::string_view request, const RequestContext& context) const;

 private:
  const AesmService* service_;
  QuoteHelperMetrics* metrics_;
};

}  // namespace confcom::helper
