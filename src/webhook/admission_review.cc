#include "webhook/admission_review.h"

#include <cctype>

#include "kube/base64.h"
#include "kube/json_fields.h"
#include "webhook/pod_mutator.h"
#include "webhook/pod_validator.h"

namespace confcom::webhook {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

HttpReply Error(int status, std::string message) {
  HttpReply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "sgx-webhook: " + std::move(message) + "\n";
  r.result = ReviewResult::kError;
  return r;
}

json Envelope(json response) {
  return json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"response", std::move(response)}};
}

void AddWarnings(json& response, const std::vector<std::string>& warnings) {
  if (warnings.empty()) return;
  json w = json::array();
  for (const auto& s : warnings) w.push_back("sgx-webhook: " + s);
  response["warnings"] = std::move(w);
}

bool IsJsonContentType(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower;
  for (char c : media) lower += char(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

}  // namespace

const char* ReviewOperationName(ReviewOperation op) {
  return op == ReviewOperation::kMutate ? "mutate" : "validate";
}

const char* ReviewResultName(ReviewResult r) {
  switch (r) {
    case ReviewResult::kPatched: return "patched";
    case ReviewResult::kUnchanged: return "unchanged";
    case ReviewResult::kAllowed: return "allowed";
    case ReviewResult::kDenied: return "denied";
    case ReviewResult::kError: return "error";
  }
  return "error";
}

Result<AdmissionRequest> ParseAdmissionReview(std::string_view body) {
  if (kube::JsonTooDeep(body, kMaxJsonDepth)) {
    return Status::InvalidArgument("the review nests JSON deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  }
  json review = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (review.is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!review.is_object()) return Status::InvalidArgument("the body is not a JSON object");
  const std::string api = Str(review, "apiVersion"), kind = Str(review, "kind");
  if (api != "admission.k8s.io/v1" || kind != "AdmissionReview") {
    return Status::InvalidArgument(
        "expected apiVersion admission.k8s.io/v1 and kind AdmissionReview, got '" +
        api.substr(0, 64) + "' and '" + kind.substr(0, 64) +
        "' (set admissionReviewVersions: [v1] in the webhook configuration)");
  }
  auto req = review.find("request");
  if (req == review.end() || !req->is_object())
    return Status::InvalidArgument("request is missing or not an object");
  AdmissionRequest r;
  auto uid = req->find("uid");
  if (uid == req->end() || !uid->is_string() || uid->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument("request.uid is missing or not a non-empty string");
  }
  r.uid = uid->get<std::string>();
  if (r.uid.size() > kMaxUidLength)
    return Status::InvalidArgument("request.uid is longer than 256 bytes");
  auto k = req->find("kind");
  if (k == req->end() || !k->is_object())
    return Status::InvalidArgument("request.kind is missing or not an object");
  r.group = Str(*k, "group");
  r.version = Str(*k, "version");
  r.kind = Str(*k, "kind");
  r.operation = Str(*req, "operation");
  if (r.operation.empty()) return Status::InvalidArgument("request.operation is missing");
  r.sub_resource = Str(*req, "subResource");
  r.name = Str(*req, "name");
  r.ns = Str(*req, "namespace");
  auto obj = req->find("object");
  if (obj != req->end()) r.object = std::move(*obj);
  if (r.group.empty() && r.kind == "Pod" && r.sub_resource.empty() && r.operation == "CREATE" &&
      !r.object.is_object()) {
    return Status::InvalidArgument("request.object is missing or not an object for a Pod CREATE");
  }
  return r;
}

HttpReply HandleReview(ReviewOperation op, std::string_view content_type, std::string_view body,
                       const WebhookConfig& config) {
  try {
    if (!IsJsonContentType(content_type)) {
      return Error(415, "Content-Type must be application/json, not '" +
                            std::string(content_type.substr(0, 64)) + "'");
    }
    auto parsed = ParseAdmissionReview(body);
    if (!parsed.ok()) return Error(400, "malformed AdmissionReview: " + parsed.status().message());
    const AdmissionRequest& req = *parsed;
    json response = {{"uid", req.uid}, {"allowed", true}};
    HttpReply reply;
    const bool ours = req.group.empty() && req.kind == "Pod" && req.sub_resource.empty() &&
                      req.operation == "CREATE";
    std::string ns = req.ns;
    if (ns.empty() && req.object.is_object() && req.object.contains("metadata") &&
        req.object["metadata"].is_object()) {
      ns = Str(req.object["metadata"], "namespace");
    }
    if (!ours) {
      reply.result =
          op == ReviewOperation::kMutate ? ReviewResult::kUnchanged : ReviewResult::kAllowed;
    } else if (op == ReviewOperation::kMutate) {
      Mutation m = MutatePod(req.object, ns, config);
      if (!m.patch.empty()) {
        response["patchType"] = "JSONPatch";
        response["patch"] =
            kube::Base64Encode(m.patch.dump(-1, ' ', false, json::error_handler_t::replace));
        reply.result = ReviewResult::kPatched;
      } else {
        reply.result = ReviewResult::kUnchanged;
      }
      AddWarnings(response, m.warnings);
    } else {
      std::string name = req.name;
      if (name.empty() && req.object.contains("metadata") && req.object["metadata"].is_object()) {
        name = Str(req.object["metadata"], "name");
      }
      Verdict v = ValidatePod(req.object, ns, name, config);
      response["allowed"] = v.allowed;
      if (!v.allowed) {
        response["status"] = {{"metadata", json::object()},
                              {"status", "Failure"},
                              {"code", 403},
                              {"reason", "Forbidden"},
                              {"message", v.message}};
        reply.result = ReviewResult::kDenied;
      } else {
        reply.result = ReviewResult::kAllowed;
      }
      AddWarnings(response, v.warnings);
    }
    // Replace invalid UTF-8 (from the client's strings) rather than throw.
    reply.body = Envelope(std::move(response)).dump(-1, ' ', false, json::error_handler_t::replace);
    return reply;
  } catch (const std::exception& e) {
    // nlohmann::json throws on type errors we did not foresee; a bug, never a crash.
    return Error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace confcom::webhook
