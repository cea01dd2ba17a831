#include "attest/token/signing.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>

#include "attest/token/request.h"
#include "common/file_util.h"
#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"
#include "testing/test_util.h"

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kIssuer[] = "https://attest.example.test";
constexpr std::time_t kNow = 1767225600;  // 2026-01-01

const SigningKey& TestKey() {
  static const SigningKey key = *SigningKey::Generate(kIssuer, kNow - 3600, kNow + 86400 * 365);
  return key;
}

json DecodePart(std::string_view part) {
  Bytes b = *DecodeBase64Any(part, "part");
  return json::parse(b.begin(), b.end());
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

TEST(SigningKeyTest, CertificateLooksLikeMaas) {
  const SigningKey& key = TestKey();
  const uint8_t* p = key.certificate_der().data();
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, long(key.certificate_der().size())));
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 1);  // CN only
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 2048);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_RSA);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha256WithRSAEncryption);
  EXPECT_EQ(X509_get_extension_flags(cert.get()) & EXFLAG_CA, 0u);
  EXPECT_NE(X509_get_ext_by_NID(cert.get(), NID_subject_key_identifier, -1), -1);
  EXPECT_EQ(key.common_name(), kIssuer);
  EXPECT_EQ(key.not_before(), kNow - 3600);
  EXPECT_EQ(key.kid().size(), 44u);  // base64 of 32 bytes, as MAA's
  EXPECT_EQ(key.kid().back(), '=');
}

TEST(SigningKeyTest, PemRoundTripKeepsKid) {
  const SigningKey& key = TestKey();
  auto again = SigningKey::FromPem(*key.PrivateKeyPem(), key.CertificatePem());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->kid(), key.kid());
  EXPECT_EQ(again->certificate_der(), key.certificate_der());
}

TEST(SigningKeyTest, FromPemRefusesMismatchAndNonRsa) {
  auto other = SigningKey::Generate(kIssuer, kNow, kNow + 10);
  ASSERT_TRUE(other.ok());
  auto mixed = SigningKey::FromPem(*other->PrivateKeyPem(), TestKey().CertificatePem());
  EXPECT_EQ(mixed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("not the signing key's"), std::string::npos);
  auto ec = crypto::EcKey::Generate();
  auto not_rsa = SigningKey::FromPem(*ec->PrivatePem(), TestKey().CertificatePem());
  EXPECT_NE(not_rsa.status().message().find("not an RSA key"), std::string::npos);
  EXPECT_EQ(SigningKey::FromPem("junk", "junk").status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(SigningKey::Generate("", kNow, kNow + 1).ok());
  EXPECT_FALSE(SigningKey::Generate(kIssuer, kNow, kNow).ok());
}

TEST(SigningKeyTest, FromFilesRequiresAPrivateKeyMode) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.File("tls.key"), *TestKey().PrivateKeyPem(), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("tls.crt"), TestKey().CertificatePem(), 0644).ok());
  auto loose = SigningKey::FromFiles(dir.File("tls.key"), dir.File("tls.crt"));
  EXPECT_EQ(loose.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(loose.status().message().find("mode 0644"), std::string::npos)
      << loose.status().message();
  ASSERT_EQ(::chmod(dir.File("tls.key").c_str(), 0400), 0);
  auto ok = SigningKey::FromFiles(dir.File("tls.key"), dir.File("tls.crt"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->kid(), TestKey().kid());
  EXPECT_EQ(SigningKey::FromFiles(dir.File("none"), dir.File("tls.crt")).status().code(),
            Status::Code::kNotFound);
}

TEST(TokenTest, HeaderIsExactlyMaas) {
  json claims = {{"iss", kIssuer}, {"x-ms-ver", "1.0"}};
  std::string token = *SignToken(TestKey(), kIssuer, claims);
  auto parts = Split(token);
  ASSERT_EQ(parts.size(), 3u);
  Bytes header = *DecodeBase64Any(parts[0], "h");
  EXPECT_EQ(std::string(header.begin(), header.end()),
            R"({"alg":"RS256","jku":"https://attest.example.test/certs","kid":")" +
                TestKey().kid() + R"(","typ":"JWT"})");
  EXPECT_EQ(DecodePart(parts[1]), claims);
  EXPECT_EQ(parts[2].find('='), std::string::npos);  // base64url, unpadded
  EXPECT_EQ(DecodeBase64Any(parts[2], "s")->size(), 256u);
}

TEST(TokenTest, UnsecuredTokenHasAlgNoneAndEmptySignature) {
  std::string token = UnsecuredToken({{"a", 1}});
  auto parts = Split(token);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(DecodePart(parts[0]), json({{"alg", "none"}, {"typ", "JWT"}}));
  EXPECT_EQ(DecodePart(parts[1]), json({{"a", 1}}));
  EXPECT_EQ(parts[2], "");
}

TEST(TokenTest, VerifyTokenFromJwksAlone) {
  auto set = *SigningKeySet::Create({TestKey()});
  json claims = {{"iss", kIssuer}, {"nbf", kNow}, {"exp", kNow + 100}};
  std::string token = *SignToken(set.signer(), kIssuer, claims);
  auto ok = VerifyToken(token, set.JwksJson(), kNow);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, claims);

  std::string tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(VerifyToken(tampered, set.JwksJson(), kNow).status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(VerifyToken(token, set.JwksJson(), kNow + 1000).status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(VerifyToken(token, set.JwksJson(), kNow - 1000).status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_NE(VerifyToken(UnsecuredToken(claims), set.JwksJson(), kNow)
                .status()
                .message()
                .find("not RS256"),
            std::string::npos);
  EXPECT_NE(
      VerifyToken(token, R"({"keys":[]})", kNow).status().message().find("is not in the JWKS"),
      std::string::npos);
  EXPECT_FALSE(VerifyToken("a.b", set.JwksJson(), kNow).ok());
  // Wrong JSON types in an untrusted header or JWKS are errors, not exceptions.
  std::string odd = Base64UrlEncode(AsBytes(R"({"alg":5,"kid":[]})")) + ".e30.AAAA";
  EXPECT_NE(VerifyToken(odd, set.JwksJson(), kNow).status().message().find("alg is \"\""),
            std::string::npos);
  std::string odd_jwks =
      R"({"keys":[{"kid":7},5,{"kid":")" + set.signer().kid() + R"(","x5c":"x"}]})";
  EXPECT_FALSE(VerifyToken(token, odd_jwks, kNow).ok());
}

TEST(KeySetTest, NewestSignsAllArePublished) {
  auto old_key = *SigningKey::Generate(kIssuer, kNow - 1000, kNow + 1000);
  auto new_key = *SigningKey::Generate(kIssuer, kNow, kNow + 2000);
  auto set = SigningKeySet::Create({old_key, new_key});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->signer().kid(), new_key.kid());
  json jwks = json::parse(set->JwksJson());
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], new_key.kid());
  EXPECT_EQ(jwks["keys"][1]["kid"], old_key.kid());
  // A token of the old key still verifies while it is published.
  std::string old_token = *SignToken(old_key, kIssuer, {{"exp", kNow + 10}});
  EXPECT_TRUE(VerifyToken(old_token, set->JwksJson(), kNow).ok());
  EXPECT_FALSE(SigningKeySet::Create({}).ok());
  EXPECT_FALSE(SigningKeySet::Create({old_key, old_key}).ok());
}

TEST(KeySetTest, JwkMembers) {
  json jwk = TestKey().Jwk();
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["kid"], TestKey().kid());
  EXPECT_EQ(jwk["e"], "AQAB");
  EXPECT_EQ(DecodeBase64Any(jwk["n"].get<std::string>(), "n")->size(), 256u);
  ASSERT_EQ(jwk["x5c"].size(), 1u);
  EXPECT_EQ(*DecodeBase64Any(jwk["x5c"][0].get<std::string>(), "x5c"), TestKey().certificate_der());
  EXPECT_EQ(jwk["x5c"][0], Base64Encode(TestKey().certificate_der()));  // standard, padded
}

TEST(OpenIdTest, MetadataAsMaaPublishesIt) {
  std::string text = OpenIdMetadataJson(kIssuer);
  EXPECT_EQ(text.rfind(R"({"response_types_supported":["token","none"],"id_token_signing)", 0), 0u)
      << text;  // MAA's member order
  json doc = json::parse(text);
  EXPECT_EQ(doc["issuer"], kIssuer);
  EXPECT_EQ(doc["jwks_uri"], std::string(kIssuer) + "/certs");
  EXPECT_EQ(doc["revocation_endpoint"], std::string(kIssuer) + "/revoke");
  EXPECT_EQ(doc["id_token_signing_alg_values_supported"], json({"RS256"}));
  EXPECT_EQ(doc["response_types_supported"], json({"token", "none"}));
  EXPECT_EQ(doc["claims_supported"].size(), 18u);
  EXPECT_EQ(doc["claims_supported"][0], "cnf");
  EXPECT_EQ(doc["claims_supported"][17], "tee");
}

}  // namespace
}  // namespace confcom::attest
