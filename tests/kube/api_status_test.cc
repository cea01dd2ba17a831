// The mapping of API server answers to Status (kube/api_status.h).
#include "kube/api_status.h"

#include <gtest/gtest.h>

namespace confcom::kube {
namespace {

// A Status object as the API server sends it with an error.
std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

TEST(KubeApiStatus, SuccessIsOk) {
  for (long code : {200L, 201L, 204L, 299L}) {
    EXPECT_TRUE(ApiStatus(code, "{}", "reading x", "get x").ok()) << code;
  }
}

TEST(KubeApiStatus, EachCodeHasItsErrorAndTheServersMessage) {
  struct Case {
    long http;
    Status::Code code;
    const char* reason;
  } cases[] = {{401, Status::Code::kPermissionDenied,
                "reading Secret ns/s: unauthorized: the API "
                "server did not accept the credentials"},
               {403, Status::Code::kPermissionDenied,
                "reading Secret ns/s: forbidden: the service account lacks the RBAC permission "
                "to get secrets in namespace ns"},
               {404, Status::Code::kNotFound, "reading Secret ns/s: not found"},
               {409, Status::Code::kAlreadyExists, "reading Secret ns/s: conflict"},
               {400, Status::Code::kInvalidArgument, "reading Secret ns/s: invalid"},
               {422, Status::Code::kInvalidArgument, "reading Secret ns/s: invalid"},
               {429, Status::Code::kUnavailable, "reading Secret ns/s: failed"},
               {500, Status::Code::kUnavailable, "reading Secret ns/s: failed"},
               {503, Status::Code::kUnavailable, "reading Secret ns/s: failed"}};
  for (const auto& c : cases) {
    Status s = ApiStatus(c.http, StatusBody(int(c.http), "Whatever", "the server says why"),
                         "reading Secret ns/s", "get secrets in namespace ns");
    EXPECT_EQ(s.code(), c.code) << c.http;
    EXPECT_EQ(s.message(), std::string(c.reason) + " (HTTP " + std::to_string(c.http) +
                               ": the server says why)");
  }
}

TEST(KubeApiStatus, MessagesAreTakenFromStatusObjectsOrTheBodyAndEscaped) {
  EXPECT_EQ(ApiErrorMessage(StatusBody(403, "Forbidden", "nodes \\\"n\\\" is forbidden")),
            "nodes \"n\" is forbidden");
  EXPECT_EQ(ApiErrorMessage("<html>bad gateway</html>"), "<html>bad gateway</html>");
  EXPECT_EQ(ApiErrorMessage(std::string(300, 'x')).size(), 200u);
  EXPECT_EQ(ApiErrorMessage(R"({"message":")" + std::string(600, 'm') + "\"}").size(), 512u);
  // A line break or a control byte from the server cannot forge a log line.
  EXPECT_EQ(ApiErrorMessage("a\nb\x01"), "a\\x0ab\\x01");
  EXPECT_EQ(ApiErrorMessage(R"({"message":"x\ny"})"), "x\\x0ay");
  EXPECT_EQ(ApiErrorMessage(""), "");
}

}  // namespace
}  // namespace confcom::kube
