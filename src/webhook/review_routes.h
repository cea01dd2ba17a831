// sgx-webhook's routes on the shared HTTPS layer (https/server.h): POST /mutate-pods and
// POST /validate-pods, each an AdmissionReview in and out (HandleReview: content type, 400,
// 415), counted in WebhookMetrics and logged (errors at warn, the rest at debug).
// Thread safety: the handlers may run on any number of threads at once.
#pragma once

#include <vector>

#include "https/server.h"
#include "webhook/config.h"
#include "webhook/metrics.h"

namespace confcom::webhook {

// The route table; the handlers keep a copy of `config` and use `metrics` (may be null,
// else must outlive the server). Never fails; handlers never throw.
std::vector<https::Route> ReviewRoutes(const WebhookConfig& config, WebhookMetrics* metrics);

}  // namespace confcom::webhook
