#include "attest/service/static_token_authorizer.h"

#include <openssl/crypto.h>

#include "common/file_util.h"

namespace confcom::attest {

Result<std::unique_ptr<StaticTokenAuthorizer>> StaticTokenAuthorizer::FromFile(
    const std::string& path) {
  CONFCOM_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 4096));
  size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  std::string token = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  if (token.size() < 16) {
    return Status::InvalidArgument("--admin-token-file " + path +
                                   ": the token must have at least 16 characters");
  }
  return std::make_unique<StaticTokenAuthorizer>(std::move(token));
}

Result<AdminDecision> StaticTokenAuthorizer::Decide(std::string_view authorization, PolicyAccess) {
  AdminDecision d;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    d.reason = authorization.empty()
                   ? "no Authorization header: send 'Authorization: Bearer <token>'"
                   : "the Authorization header is not 'Bearer <token>'";
    return d;
  }
  std::string_view given = authorization.substr(kBearer.size());
  if (given.size() != token_.size() ||
      CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    d.reason = "the bearer token is not the one of --admin-token-file";
    return d;
  }
  d.authenticated = true;
  d.allowed = true;
  d.user = "admin-token";
  return d;
}

}  // namespace confcom::attest
