#include "attest/token/signing.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <set>

#include "attest/token/request.h"
#include "common/file_util.h"
#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"

namespace confcom::attest {
namespace {

using crypto::OpenSslError;
using nlohmann::json;

Status OpenSslFailure(std::string_view what) {
  return Status::Internal(fmt::format("{}: {}", what, OpenSslError()));
}

std::time_t AsnTimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

Result<Bytes> SpkiDer(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return OpenSslFailure("encoding the public key");
  Bytes der(size_t(len), 0);
  uint8_t* p = der.data();
  i2d_PUBKEY(key, &p);
  return der;
}

Result<Bytes> BignumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return OpenSslFailure(name);
  crypto::BignumPtr bn(raw);
  Bytes out(size_t(BN_num_bytes(bn.get())), 0);
  BN_bn2bin(bn.get(), out.data());
  return out;
}

std::string CommonName(X509_NAME* name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), size_t(len));
  OPENSSL_free(utf8);
  return out;
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(fmt::format("certificate extension {}", OBJ_nid2sn(nid)));
  }
  return Status::Ok();
}

// The string member `key` of `j`, or "" when it is absent or not a string (never throws:
// tokens and JWKS come from anyone).
std::string StringMember(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string B64UrlJson(const json& j) {
  return Base64UrlEncode(AsBytes(j.dump(-1, ' ', false, json::error_handler_t::replace)));
}

}  // namespace

Result<SigningKey> SigningKey::Generate(std::string_view issuer, std::time_t not_before,
                                        std::time_t not_after) {
  if (issuer.empty()) return Status::InvalidArgument("signing key: empty issuer");
  if (not_after <= not_before) {
    return Status::InvalidArgument("signing key: not_after must be after not_before");
  }
  std::shared_ptr<EVP_PKEY> key(EVP_RSA_gen(kRsaBits), EVP_PKEY_free);
  if (!key) return OpenSslFailure("generating an RSA key");

  crypto::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslFailure("X509_new");
  std::array<uint8_t, 16> serial{};
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(serial));
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and 16 bytes long
  crypto::BignumPtr serial_bn(BN_bin2bn(serial.data(), int(serial.size()), nullptr));
  if (!serial_bn || !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslFailure("serial number");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(issuer.data()),
                                 int(issuer.size()), -1, 0) != 1) {
    return OpenSslFailure("subject CN");
  }
  if (X509_set_issuer_name(cert.get(), name) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after) ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return OpenSslFailure("certificate fields");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // MAA's certificates carry these three (and its enclave's quote, which we have no use for).
  CONFCOM_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE"));
  CONFCOM_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  CONFCOM_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0)
    return OpenSslFailure("signing the certificate");

  int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return OpenSslFailure("encoding the certificate");
  Bytes der(size_t(len), 0);
  uint8_t* p = der.data();
  i2d_X509(cert.get(), &p);
  return FromParts(std::move(key), std::move(der));
}

Result<SigningKey> SigningKey::FromPem(std::string_view key_pem, std::string_view cert_pem) {
  crypto::BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), int(key_pem.size())));
  std::shared_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
                                EVP_PKEY_free);
  if (!key) return Status::InvalidArgument("signing key: no PEM private key: " + OpenSslError());
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("signing key: not an RSA key (RS256 needs RSA)");
  }
  if (EVP_PKEY_get_bits(key.get()) < kRsaBits) {
    return Status::InvalidArgument(fmt::format("signing key: RSA key of {} bits; at least {}",
                                               EVP_PKEY_get_bits(key.get()), kRsaBits));
  }
  crypto::BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size())));
  crypto::X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidArgument("signing certificate: no PEM certificate");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    crypto::OpenSslError();  // clear the queue
    return Status::InvalidArgument("signing certificate: its public key is not the signing key's");
  }
  int len = i2d_X509(cert.get(), nullptr);
  Bytes der(size_t(std::max(len, 0)), 0);
  uint8_t* p = der.data();
  if (len <= 0 || i2d_X509(cert.get(), &p) != len)
    return OpenSslFailure("encoding the certificate");
  return FromParts(std::move(key), std::move(der));
}

Result<SigningKey> SigningKey::FromFiles(const std::string& key_path,
                                         const std::string& cert_path) {
  CONFCOM_ASSIGN_OR_RETURN(mode_t mode, FileMode(key_path));
  if ((mode & 077) != 0) {
    return Status::PermissionDenied(fmt::format(
        "{}: mode {:04o} lets group or others read the signing key; use 0600 or 0400 (a Secret "
        "volume's defaultMode)",
        key_path, mode & 07777));
  }
  CONFCOM_ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key_path, 64 << 10));
  CONFCOM_ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert_path, 256 << 10));
  auto key = FromPem(key_pem, cert_pem);
  if (!key.ok()) return key.status().WithContext(key_path + ", " + cert_path);
  return key;
}

Result<SigningKey> SigningKey::FromParts(std::shared_ptr<EVP_PKEY> key, Bytes cert_der) {
  SigningKey out;
  const uint8_t* p = cert_der.data();
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, long(cert_der.size())));
  if (!cert) return OpenSslFailure("decoding the certificate");
  CONFCOM_ASSIGN_OR_RETURN(Bytes spki, SpkiDer(key.get()));
  crypto::Sha256Digest digest = crypto::Sha256(spki);
  out.kid_ = Base64Encode(digest);
  out.common_name_ = CommonName(X509_get_subject_name(cert.get()));
  out.not_before_ = AsnTimeToUnix(X509_get0_notBefore(cert.get()));
  out.not_after_ = AsnTimeToUnix(X509_get0_notAfter(cert.get()));
  out.key_ = std::move(key);
  out.cert_der_ = std::move(cert_der);
  return out;
}

std::string SigningKey::CertificatePem() const {
  std::string b64 = Base64Encode(cert_der_);
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

Result<std::string> SigningKey::PrivateKeyPem() const {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslFailure("writing the private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(len));
}

Result<Bytes> SigningKey::SignRs256(ByteSpan message) const {
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, message.data(), message.size()) != 1) {
    return OpenSslFailure("RS256 signing");
  }
  Bytes sig(size, 0);
  if (EVP_DigestSign(ctx.get(), sig.data(), &size, message.data(), message.size()) != 1) {
    return OpenSslFailure("RS256 signing");
  }
  sig.resize(size);
  return sig;
}

json SigningKey::Jwk() const {
  // n and e are not in MAA's JWKS (x5c only); generic JWT libraries need them.
  auto n = BignumParam(key_.get(), OSSL_PKEY_PARAM_RSA_N);
  auto e = BignumParam(key_.get(), OSSL_PKEY_PARAM_RSA_E);
  json jwk = {{"kty", "RSA"},
              {"kid", kid_},
              {"use", "sig"},
              {"alg", "RS256"},
              {"x5c", json::array({Base64Encode(cert_der_)})}};
  if (n.ok() && e.ok()) {
    jwk["n"] = Base64UrlEncode(*n);
    jwk["e"] = Base64UrlEncode(*e);
  }
  return jwk;
}

Result<SigningKeySet> SigningKeySet::Create(std::vector<SigningKey> keys) {
  if (keys.empty()) return Status::InvalidArgument("signing key set: no keys");
  std::set<std::string> kids;
  for (const auto& k : keys) {
    if (!kids.insert(k.kid()).second) {
      return Status::InvalidArgument("signing key set: key " + k.kid() + " given twice");
    }
  }
  // Newest first: it signs and it leads /certs.
  std::stable_sort(keys.begin(), keys.end(), [](const SigningKey& a, const SigningKey& b) {
    return a.not_before() > b.not_before();
  });
  SigningKeySet out;
  out.keys_ = std::move(keys);
  out.signer_ = 0;
  return out;
}

std::string SigningKeySet::JwksJson() const {
  json keys = json::array();
  for (const auto& k : keys_) keys.push_back(k.Jwk());
  return json{{"keys", keys}}.dump();
}

std::string OpenIdMetadataJson(std::string_view issuer) {
  std::string iss(issuer);
  // MAA's members and list, in MAA's order (its /.well-known/openid-configuration, 2021).
  using ordered = nlohmann::ordered_json;
  ordered claims = ordered::array(
      {"cnf", "nonce", "x-ms-ver", "x-ms-attestation-type", "x-ms-policy-hash",
       "x-ms-policy-signer", "x-ms-sgx-is-debuggable", "x-ms-sgx-mrenclave", "x-ms-sgx-mrsigner",
       "x-ms-sgx-svn", "x-ms-sgx-ehd", "x-ms-sgx-collateral", "is-debuggable", "sgx-mrsigner",
       "sgx-mrenclave", "product-id", "svn", "tee"});
  ordered doc = ordered::object();
  doc["response_types_supported"] = ordered::array({"token", "none"});
  doc["id_token_signing_alg_values_supported"] = ordered::array({"RS256"});
  doc["revocation_endpoint"] = iss + "/revoke";
  doc["issuer"] = iss;
  doc["jwks_uri"] = iss + "/certs";
  doc["claims_supported"] = claims;
  return doc.dump();
}

Result<std::string> SignToken(const SigningKey& key, std::string_view issuer, const json& claims) {
  json header = {{"alg", "RS256"},
                 {"jku", std::string(issuer) + "/certs"},
                 {"kid", key.kid()},
                 {"typ", "JWT"}};
  std::string signing_input = B64UrlJson(header) + "." + B64UrlJson(claims);
  CONFCOM_ASSIGN_OR_RETURN(Bytes sig, key.SignRs256(AsBytes(signing_input)));
  return signing_input + "." + Base64UrlEncode(sig);
}

std::string UnsecuredToken(const json& claims) {
  json header = {{"alg", "none"}, {"typ", "JWT"}};
  return B64UrlJson(header) + "." + B64UrlJson(claims) + ".";
}

Result<json> VerifyToken(std::string_view token, std::string_view jwks_json, std::time_t now,
                         int skew_seconds) {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::InvalidArgument("token: not a compact JWS (three parts separated by '.')");
  }
  auto decode_json = [](std::string_view part, std::string_view what) -> Result<json> {
    CONFCOM_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64Any(part, what));
    json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!j.is_object())
      return Status::InvalidArgument(fmt::format("{} is not a JSON object", what));
    return j;
  };
  CONFCOM_ASSIGN_OR_RETURN(json header, decode_json(token.substr(0, dot1), "token header"));
  CONFCOM_ASSIGN_OR_RETURN(json claims,
                           decode_json(token.substr(dot1 + 1, dot2 - dot1 - 1), "token payload"));
  CONFCOM_ASSIGN_OR_RETURN(Bytes sig, DecodeBase64Any(token.substr(dot2 + 1), "token signature"));
  if (std::string alg = StringMember(header, "alg"); alg != "RS256") {
    return Status::InvalidArgument("token: alg is \"" + alg + "\", not RS256");
  }
  std::string kid = StringMember(header, "kid");
  json jwks = json::parse(jwks_json, nullptr, false);
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return Status::InvalidArgument("JWKS: not {\"keys\": [...]}");
  }
  const json* jwk = nullptr;
  for (const auto& k : jwks["keys"]) {
    if (k.is_object() && StringMember(k, "kid") == kid) jwk = &k;
  }
  if (jwk == nullptr) return Status::InvalidArgument("token: kid " + kid + " is not in the JWKS");
  if (!jwk->contains("x5c") || !(*jwk)["x5c"].is_array() || (*jwk)["x5c"].empty() ||
      !(*jwk)["x5c"][0].is_string()) {
    return Status::InvalidArgument("JWKS: key " + kid + " has no x5c certificate");
  }
  CONFCOM_ASSIGN_OR_RETURN(Bytes der,
                           DecodeBase64Any((*jwk)["x5c"][0].get<std::string>(), "x5c[0]"));
  const uint8_t* p = der.data();
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, long(der.size())));
  if (!cert)
    return Status::InvalidArgument("JWKS: x5c[0] of key " + kid + " is not a DER certificate");
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::string_view signing_input = token.substr(0, dot2);
  bool good = pub != nullptr && ctx &&
              EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pub) == 1 &&
              EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                               reinterpret_cast<const uint8_t*>(signing_input.data()),
                               signing_input.size()) == 1;
  if (!good) {
    OpenSslError();
    return Status::PermissionDenied("token: the signature does not verify with key " + kid);
  }
  if (claims.contains("nbf") && claims["nbf"].is_number() &&
      claims["nbf"].get<double>() > double(now + skew_seconds)) {
    return Status::PermissionDenied("token: not valid before " + claims["nbf"].dump());
  }
  if (claims.contains("exp") && claims["exp"].is_number() &&
      claims["exp"].get<double>() + skew_seconds <= double(now)) {
    return Status::PermissionDenied("token: expired at " + claims["exp"].dump());
  }
  return claims;
}

}  // namespace confcom::attest
