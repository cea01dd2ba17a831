#include "webhook/review_routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "common/logging.h"
#include "webhook/admission_review.h"

namespace confcom::webhook {
namespace {

https::Handler ReviewHandler(ReviewOperation op, std::shared_ptr<const WebhookConfig> config,
                             WebhookMetrics* metrics) {
  return [op, config, metrics](const https::Request& req) {
    auto start = std::chrono::steady_clock::now();
    HttpReply reply = HandleReview(op, req.Header("Content-Type"), req.body, *config);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (metrics) metrics->Observe(op, reply.result, seconds);
    if (reply.result == ReviewResult::kError) {
      spdlog::warn("{} review from {} answered {}: {}", ReviewOperationName(op), req.remote_address,
                   reply.status,
                   EscapeForLog(reply.body.substr(
                       0, std::min<size_t>(300, reply.body.find_last_not_of('\n') + 1))));
    } else {
      spdlog::debug("{} review: {}", ReviewOperationName(op), ReviewResultName(reply.result));
    }
    return https::Response{reply.status, reply.content_type, std::move(reply.body)};
  };
}

}  // namespace

std::vector<https::Route> ReviewRoutes(const WebhookConfig& config, WebhookMetrics* metrics) {
  auto shared = std::make_shared<const WebhookConfig>(config);
  return {
      {"POST", "/mutate-pods", ReviewHandler(ReviewOperation::kMutate, shared, metrics)},
      {"POST", "/validate-pods", ReviewHandler(ReviewOperation::kValidate, shared, metrics)},
  };
}

}  // namespace confcom::webhook
