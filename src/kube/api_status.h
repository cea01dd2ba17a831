// The API server's answers as Status: the one mapping of HTTP codes to errors in confcom, with
// what failed, the server's own message and, for 403, the RBAC permission that is missing.
// The rules and the reasons for each code are in docs/kubernetes-api.md. Pure functions, safe
// from any thread; nothing here reads or logs credentials.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

// Returns the "message" of the Status object the API server sends with an error (at most 512
// characters), else the body's first 200 bytes; either escaped for a log line (EscapeForLog).
std::string ApiErrorMessage(std::string_view body);

// Returns OK for a 2xx answer, else an error "<what>: <reason> (HTTP <code>: <message>)":
//   401      PermissionDenied, "unauthorized: the API server did not accept the credentials"
//   403      PermissionDenied, "forbidden: the service account lacks the RBAC permission to
//            <rbac>" (`rbac` in kubectl's words, e.g. "patch nodes/status")
//   404      NotFound, "not found"
//   409      AlreadyExists, "conflict" (the API's AlreadyExists and Conflict share the code)
//   400, 422 InvalidArgument, "invalid" (the server refused the object; retrying cannot help)
//   other    Unavailable, "failed" (429 and 5xx: the server is away or overloaded)
Status ApiStatus(long http_status, std::string_view body, std::string_view what,
                 std::string_view rbac);

}  // namespace confcom::kube
