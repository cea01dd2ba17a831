// admission.k8s.io/v1 AdmissionReview: parsing the API server's request, building the
// response, and the whole review handler (HTTP request body -> HTTP reply) that the server and
// the fuzzer call. What is malformed (HTTP 400), what a response carries and which reviews are
// allowed unchanged is in docs/webhook.md, "HTTP interface". Only CREATE of a Pod is reviewed:
// the resources and the annotation's effect are fixed at creation. Pure functions over a
// WebhookConfig that does not change: safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "webhook/config.h"

namespace confcom::webhook {

// Reviews nesting JSON deeper than this, or with a longer request.uid, are malformed (400).
inline constexpr int kMaxJsonDepth = 100;
inline constexpr size_t kMaxUidLength = 256;

enum class ReviewOperation { kMutate, kValidate };
enum class ReviewResult { kPatched, kUnchanged, kAllowed, kDenied, kError };
const char* ReviewOperationName(ReviewOperation op);  // "mutate" / "validate"
const char* ReviewResultName(ReviewResult r);         // "patched", "unchanged", ...

struct AdmissionRequest {
  std::string uid;
  std::string operation;             // CREATE, UPDATE, DELETE, CONNECT
  std::string group, version, kind;  // request.kind
  std::string sub_resource;
  std::string name, ns;
  nlohmann::json object;  // null unless present
};

// Returns the request of an AdmissionReview body. InvalidArgument naming what is malformed
// (the message follows "malformed AdmissionReview: " in the 400 answer).
Result<AdmissionRequest> ParseAdmissionReview(std::string_view body);

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  ReviewResult result = ReviewResult::kError;
};

// Returns the reply to POST /mutate-pods or /validate-pods: 200 with the AdmissionReview
// response, 400 for a malformed review, 415 for another Content-Type, 500 (a bug) if the JSON
// library throws on a shape nobody foresaw. Never fails or throws.
HttpReply HandleReview(ReviewOperation op, std::string_view content_type, std::string_view body,
                       const WebhookConfig& config);

}  // namespace confcom::webhook
