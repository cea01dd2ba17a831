#include "crypto/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstring>
#include <utility>
#include <vector>

namespace confcom::crypto {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Sha256Digest Sha256(ByteSpan data) {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Sha256Digest Sha256(std::initializer_list<ByteSpan> parts) {
  Sha256Digest out{};
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (ByteSpan p : parts) EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

Result<Cmac128> AesCmac(const Aes128Key& key, ByteSpan data) {
  // The fetched MAC algorithm is immutable and thread-safe; fetch it once.
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  if (mac == nullptr) return Status::Internal("CMAC unavailable: " + OpenSslError());
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) return Status::Internal("EVP_MAC_CTX_new: " + OpenSslError());
  char cipher[] = "AES-128-CBC";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
      OSSL_PARAM_construct_end(),
  };
  Cmac128 out{};
  size_t len = 0;
  bool ok = EVP_MAC_init(ctx.get(), key.data(), key.size(), params) == 1 &&
            EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1 &&
            EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1 && len == out.size();
  if (!ok) return Status::Internal("AES-CMAC: " + OpenSslError());
  return out;
}

Status RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), int(out.size())) != 1) {
    return Status::Internal("RAND_bytes: " + OpenSslError());
  }
  return Status::Ok();
}

namespace {

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(EvpPkeyPtr(p)); }

Status CheckP256(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return Status::InvalidArgument("not an EC key");
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
          1 ||
      std::strcmp(group, "prime256v1") != 0) {
    return Status::InvalidArgument(std::string("EC key is not on P-256 (group '") + group + "')");
  }
  return Status::Ok();
}

Result<RawPublicKey> ExtractPublicRaw(EVP_PKEY* pkey) {
  uint8_t point[65];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                      &len) != 1 ||
      len != 65 || point[0] != 0x04) {
    return Status::Internal("cannot read the uncompressed EC public point: " + OpenSslError());
  }
  RawPublicKey raw{};
  std::memcpy(raw.data(), point + 1, 64);
  return raw;
}

}  // namespace

Result<EcKey> EcKey::Generate() {
  EVP_PKEY* p = EVP_EC_gen("P-256");
  if (p == nullptr) return Status::Internal("EC key generation: " + OpenSslError());
  EcKey key(Share(p), true);
  CONFCOM_ASSIGN_OR_RETURN(key.public_raw_, ExtractPublicRaw(p));
  return key;
}

Result<EcKey> EcKey::FromPrivatePem(std::string_view pem) {
  EVP_PKEY* p = PEM_read_bio_PrivateKey(MemoryBioOver(pem).get(), nullptr, nullptr, nullptr);
  if (p == nullptr) return Status::Corruption("not a PEM private key: " + OpenSslError());
  auto shared = Share(p);
  CONFCOM_RETURN_IF_ERROR(CheckP256(p));
  EcKey key(shared, true);
  CONFCOM_ASSIGN_OR_RETURN(key.public_raw_, ExtractPublicRaw(p));
  return key;
}

Result<EcKey> EcKey::FromPublicRaw(ByteSpan xy) {
  if (xy.size() != 64) {
    return Status::InvalidArgument("raw P-256 public key must be 64 bytes, got " +
                                   std::to_string(xy.size()));
  }
  uint8_t point[65];
  point[0] = 0x04;
  std::memcpy(point + 1, xy.data(), 64);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
      OSSL_PARAM_construct_end(),
  };
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* p = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
            EVP_PKEY_fromdata(ctx.get(), &p, EVP_PKEY_PUBLIC_KEY, params) == 1;
  if (!ok || p == nullptr) {
    EvpPkeyPtr discard(p);
    return Status::InvalidArgument("not a valid P-256 public point: " + OpenSslError());
  }
  auto shared = Share(p);
  // fromdata does not check that the point is on the curve; do it here.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, p, nullptr));
  bool on_curve = check != nullptr && EVP_PKEY_public_check(check.get()) == 1;
  if (!on_curve) return Status::InvalidArgument("public key is not a point on P-256");
  EcKey key(shared, false);
  std::memcpy(key.public_raw_.data(), xy.data(), 64);
  return key;
}

Result<EcKey> EcKey::FromEvp(EVP_PKEY* pkey) {
  CONFCOM_RETURN_IF_ERROR(CheckP256(pkey));
  EVP_PKEY_up_ref(pkey);
  EcKey key(Share(pkey), false);
  CONFCOM_ASSIGN_OR_RETURN(key.public_raw_, ExtractPublicRaw(pkey));
  return key;
}

Result<std::string> EcKey::PrivatePem() const {
  if (!has_private_) return Status::InvalidArgument("key has no private part");
  BioPtr bio = NewMemoryBio();
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return Status::Internal("PEM encoding of private key: " + OpenSslError());
  }
  return MemoryBioText(bio.get());
}

RawPublicKey EcKey::PublicRaw() const { return public_raw_; }

namespace {

// Signing contexts are costly to set up (provider look-ups, key export); each thread keeps one
// per key. A context holds a reference to its key, so a cached pointer never dangles or
// aliases another key.
EVP_PKEY_CTX* ThreadSignContext(EVP_PKEY* pkey) {
  thread_local std::vector<std::pair<EVP_PKEY*, EvpPkeyCtxPtr>> cache;
  for (auto& [key, ctx] : cache) {
    if (key == pkey) return ctx.get();
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1) return nullptr;
  if (cache.size() >= 16) cache.erase(cache.begin());  // bound it; a daemon uses a handful of keys
  cache.emplace_back(pkey, std::move(ctx));
  return cache.back().second.get();
}

}  // namespace

Result<RawSignature> EcKey::Sign(ByteSpan message) const {
  if (!has_private_) return Status::InvalidArgument("cannot sign with a public key");
  Sha256Digest digest = Sha256(message);
  EVP_PKEY_CTX* ctx = ThreadSignContext(pkey_.get());
  uint8_t der[80];
  size_t der_len = sizeof der;
  if (ctx == nullptr || EVP_PKEY_sign(ctx, der, &der_len, digest.data(), digest.size()) != 1) {
    return Status::Internal("ECDSA sign: " + OpenSslError());
  }
  return DerSignatureToRaw({der, der_len});
}

bool EcKey::Verify(ByteSpan message, ByteSpan raw_signature) const {
  auto der = RawSignatureToDer(raw_signature);
  if (!der.ok()) return false;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), der->data(), der->size(), message.data(), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

Result<RawSignature> DerSignatureToRaw(ByteSpan der) {
  const uint8_t* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, long(der.size())));
  if (sig == nullptr) return Status::Corruption("not a DER ECDSA signature");
  RawSignature raw{};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  bool ok = BN_bn2binpad(r, raw.data(), 32) == 32 && BN_bn2binpad(s, raw.data() + 32, 32) == 32;
  if (!ok) return Status::Corruption("ECDSA signature component larger than 32 bytes");
  return raw;
}

Result<Bytes> RawSignatureToDer(ByteSpan raw) {
  if (raw.size() != 64) {
    return Status::InvalidArgument("raw ECDSA signature must be 64 bytes, got " +
                                   std::to_string(raw.size()));
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BignumPtr r(BN_bin2bn(raw.data(), 32, nullptr));
  BignumPtr s(BN_bin2bn(raw.data() + 32, 32, nullptr));
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Status::Internal("ECDSA_SIG: " + OpenSslError());
  }
  (void)r.release();  // set0 took both
  (void)s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  Bytes der(size_t(len > 0 ? len : 0));
  uint8_t* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

}  // namespace confcom::crypto
