// admission.k8s.io/v1 AdmissionReview: parsing the API server's request and building the
// response, plus the whole review handler (HTTP request body -> HTTP reply) that the server
// and the fuzzer call.
//
// A request must be a JSON object with apiVersion admission.k8s.io/v1, kind AdmissionReview, a
// request object with a non-empty string uid (at most 256 bytes), a kind object and an
// operation; for a Pod CREATE, object must be an object. Anything else is malformed: HTTP 400
// with a one-line message (the API server logs it and applies the failure policy). JSON nested
// deeper than kMaxJsonDepth is refused before parsing (bounded recursion everywhere after).
//
// Responses echo the uid. Mutation: allowed, with patchType JSONPatch and the base64 patch when
// there is one. Validation: allowed, or allowed=false with status {code 403, reason Forbidden,
// message}. Warnings (e.g. a legacy name translated) go in response.warnings. Reviews of other
// kinds, sub-resources or operations other than CREATE are allowed unchanged (pods are
// immutable where it matters: resources and the annotation's effect are fixed at creation).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "webhook/config.h"

namespace confcom::webhook {

inline constexpr int kMaxJsonDepth = 100;
inline constexpr size_t kMaxUidLength = 256;

enum class ReviewOperation { kMutate, kValidate };
enum class ReviewResult { kPatched, kUnchanged, kAllowed, kDenied, kError };
const char* ReviewOperationName(ReviewOperation op);  // "mutate" / "validate"
const char* ReviewResultName(ReviewResult r);         // "patched", "unchanged", ...

struct AdmissionRequest {
  std::string uid;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string group, version, kind;  // request.kind
  std::string sub_resource;
  std::string name, ns;
  nlohmann::json object;  // null unless present
};

// Whether `text` has JSON arrays/objects nested deeper than `max_depth` (strings skipped).
bool JsonTooDeep(std::string_view text, int max_depth);

Result<AdmissionRequest> ParseAdmissionReview(std::string_view body);

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  ReviewResult result = ReviewResult::kError;
};

// The complete handling of POST /mutate-pods or /validate-pods. Never throws.
HttpReply HandleReview(ReviewOperation op, std::string_view content_type, std::string_view body,
                       const WebhookConfig& config);

std::string Base64(std::string_view bytes);

}  // namespace confcom::webhook
