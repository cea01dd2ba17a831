// sgx-attest's token signing, as Azure Attestation (MAA) signs: RSA-2048 keys with a
// self-signed certificate whose subject is CN=<issuer>, compact JWS with RS256 and header
// {"alg","jku":"<issuer>/certs","kid","typ":"JWT"}, unsecured tokens (alg none) for draft
// policies, the JWKS of GET /certs and the OpenID metadata. docs/attest-api.md, "Tokens".
// Thread safety: SigningKey and SigningKeySet are immutable after construction; copies share
// the key and any number of threads may sign at once. The free functions are thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace confcom::attest {

inline constexpr int kRsaBits = 2048;  // MAA's signing keys are RSA 2048 (its /certs)

class SigningKey {
 public:
  // A new RSA-2048 key and a self-signed certificate: subject = issuer = CN=<issuer>, valid
  // [not_before, not_after], random serial, sha256WithRSAEncryption, basicConstraints CA:FALSE,
  // subject and authority key identifiers. Errors: InvalidArgument (empty issuer, bad times),
  // Internal (OpenSSL).
  static Result<SigningKey> Generate(std::string_view issuer, std::time_t not_before,
                                     std::time_t not_after);
  // A PEM private key (PKCS#8 or PKCS#1) and its PEM certificate. Errors: InvalidArgument
  // (not PEM, not RSA, fewer than 2048 bits, or the certificate's key is another key).
  static Result<SigningKey> FromPem(std::string_view key_pem, std::string_view cert_pem);
  // Reads the two files (a Secret's tls.key and tls.crt). Errors: PermissionDenied (the key
  // file is readable by group or others: mode must be 0600 or 0400), NotFound, IoError, and
  // those of FromPem.
  static Result<SigningKey> FromFiles(const std::string& key_path, const std::string& cert_path);

  // base64 (standard, padded) of SHA-256 over the certificate's SubjectPublicKeyInfo DER: 44
  // characters like MAA's kids, and stable when the certificate is re-issued for the key.
  const std::string& kid() const { return kid_; }
  const Bytes& certificate_der() const { return cert_der_; }
  std::string CertificatePem() const;
  // PKCS#8 PEM; never log it. Errors: Internal.
  Result<std::string> PrivateKeyPem() const;
  std::time_t not_before() const { return not_before_; }
  std::time_t not_after() const { return not_after_; }
  // The certificate's subject common name (the issuer the key was made for).
  const std::string& common_name() const { return common_name_; }

  // RSASSA-PKCS1-v1_5 with SHA-256 over `message`. Errors: Internal (OpenSSL).
  Result<Bytes> SignRs256(ByteSpan message) const;
  // The JWKS entry: {"alg":"RS256","e","kid","kty":"RSA","n","use":"sig","x5c":[base64 DER]}.
  nlohmann::json Jwk() const;

 private:
  SigningKey() = default;
  static Result<SigningKey> FromParts(std::shared_ptr<EVP_PKEY> key, Bytes cert_der);
  std::shared_ptr<EVP_PKEY> key_;
  Bytes cert_der_;
  std::string kid_;
  std::string common_name_;
  std::time_t not_before_ = 0;
  std::time_t not_after_ = 0;
};

// Every published key; the one with the latest not_before signs (rotation: add the new key,
// keep the old ones until the tokens they signed expire).
class SigningKeySet {
 public:
  // Errors: InvalidArgument (no keys, or two keys with the same kid).
  static Result<SigningKeySet> Create(std::vector<SigningKey> keys);
  const SigningKey& signer() const { return keys_[signer_]; }
  const std::vector<SigningKey>& keys() const { return keys_; }
  // The body of GET /certs: {"keys":[Jwk()...]}, the signer first.
  std::string JwksJson() const;

 private:
  std::vector<SigningKey> keys_;
  size_t signer_ = 0;
};

// The body of GET /.well-known/openid-configuration for `issuer` (no trailing slash), with
// MAA's members and claims_supported list.
std::string OpenIdMetadataJson(std::string_view issuer);

// A compact JWS: header {"alg":"RS256","jku":"<issuer>/certs","kid","typ":"JWT"}, payload
// `claims` (keys sorted, as MAA's). Errors: Internal (signing).
Result<std::string> SignToken(const SigningKey& key, std::string_view issuer,
                              const nlohmann::json& claims);
// An unsecured JWS (RFC 7515 appendix A.5): header {"alg":"none","typ":"JWT"}, empty
// signature, as MAA answers an attest call that carries a draft policy.
std::string UnsecuredToken(const nlohmann::json& claims);

// Checks `token` as a relying party would with only GET /certs: alg RS256, kid in `jwks_json`,
// signature by that key's x5c[0] certificate, nbf <= now + skew and now < exp + skew.
// Returns the claims. Errors: InvalidArgument (not a compact JWS, bad JSON, unknown kid,
// alg other than RS256), PermissionDenied (bad signature, expired, not yet valid).
Result<nlohmann::json> VerifyToken(std::string_view token, std::string_view jwks_json,
                                   std::time_t now, int skew_seconds = 60);

}  // namespace confcom::attest
