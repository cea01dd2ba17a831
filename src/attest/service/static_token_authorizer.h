// A PolicyAdminAuthorizer for a daemon outside a cluster (development, CI, client tests): one
// bearer token, read from a file, may read and change the policy. In a cluster the daemon
// uses attest/kube's TokenReview + SubjectAccessReview instead.
// Thread safety: immutable after construction; Decide() may run on any number of threads.
#pragma once

#include <string>

#include "attest/policy/policy_store.h"

namespace confcom::attest {

class StaticTokenAuthorizer : public PolicyAdminAuthorizer {
 public:
  // Reads the token (surrounding whitespace dropped) from `path`. Errors: ReadFile's, and
  // InvalidArgument for a token shorter than 16 characters (too easy to guess).
  static Result<std::unique_ptr<StaticTokenAuthorizer>> FromFile(const std::string& path);
  explicit StaticTokenAuthorizer(std::string token) : token_(std::move(token)) {}
  // Returns authenticated and allowed (user "admin-token") for "Bearer <the token>", compared
  // in constant time; not authenticated otherwise. Never fails.
  Result<AdminDecision> Decide(std::string_view authorization, PolicyAccess access) override;

 private:
  std::string token_;
};

}  // namespace confcom::attest
