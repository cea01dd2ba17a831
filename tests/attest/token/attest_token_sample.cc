// Writes a JWKS, OpenID metadata and tokens made by src/attest/token into a directory, for
// independent_check.py to verify with other code (python3-cryptography, the openssl CLI).
//   attest_token_sample DIR
#include <cstdio>
#include <ctime>
#include <fstream>

#include "attest/token/claims.h"
#include "attest/token/signing.h"

namespace {

bool Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return bool(out);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace confcom::attest;
  if (argc != 2) {
    std::fprintf(stderr, "usage: attest_token_sample DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string issuer = "https://sgx-attest.confcom.svc:8443";
  const std::time_t now = std::time(nullptr);
  auto old_key = SigningKey::Generate(issuer, now - 7200, now + 86400);
  auto new_key = SigningKey::Generate(issuer, now - 60, now + 86400);
  if (!old_key.ok() || !new_key.ok()) return 1;
  auto set = SigningKeySet::Create({*old_key, *new_key});
  if (!set.ok()) return 1;

  SgxClaimsInput in;
  in.issuer = issuer;
  in.now = now;
  in.report.mr_enclave[0] = 0xaa;
  in.report.isv_prod_id = 1;
  in.policy_hash = "z0FRjKS0ssQTNur1V6BV8WIrh9M3fzgTo0EfHRvapWU";  // a sample x-ms-policy-hash
  in.tcb_status = "UpToDate";
  in.nonce = "nonce-1";
  auto claims = BuildSgxClaims(in);
  if (!claims.ok()) return 1;
  auto token = SignToken(set->signer(), issuer, *claims);
  auto old_token = SignToken(*old_key, issuer, *claims);
  if (!token.ok() || !old_token.ok()) return 1;
  bool ok = Write(dir + "/issuer.txt", issuer) && Write(dir + "/jwks.json", set->JwksJson()) &&
            Write(dir + "/openid.json", OpenIdMetadataJson(issuer)) &&
            Write(dir + "/token.jwt", *token) && Write(dir + "/token_old_key.jwt", *old_token) &&
            Write(dir + "/unsecured.jwt", UnsecuredToken(*claims));
  return ok ? 0 : 1;
}
