#include "kube/api_status.h"

#include "common/logging.h"
#include "kube/json_fields.h"

namespace confcom::kube {

std::string ApiErrorMessage(std::string_view body) {
  // The Status object's message when the body is one (a wrong type or no JSON: the raw body).
  auto status = ParseJsonObject(body, "the API server's error");
  if (status.ok()) {
    auto message = OptionalString(*status, "Status", "message");
    if (message.ok() && message->has_value()) {
      return EscapeForLog(std::string_view(**message).substr(0, 512));
    }
  }
  return EscapeForLog(body.substr(0, 200));
}

Status ApiStatus(long http_status, std::string_view body, std::string_view what,
                 std::string_view rbac) {
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  const std::string w(what);
  const std::string detail =
      " (HTTP " + std::to_string(http_status) + ": " + ApiErrorMessage(body) + ")";
  switch (http_status) {
    case 401:
      return Status::PermissionDenied(
          w + ": unauthorized: the API server did not accept the credentials" + detail);
    case 403:
      return Status::PermissionDenied(w +
                                      ": forbidden: the service account lacks the RBAC "
                                      "permission to " +
                                      std::string(rbac) + detail);
    case 404: return Status::NotFound(w + ": not found" + detail);
    case 409: return Status::AlreadyExists(w + ": conflict" + detail);
    case 400:
    case 422: return Status::InvalidArgument(w + ": invalid" + detail);
    default: return Status::Unavailable(w + ": failed" + detail);
  }
}

}  // namespace confcom::kube
