// The cryptography confcom needs, on OpenSSL 3: SHA-256, AES-128-CMAC and ECDSA P-256 with
// SGX's raw encodings (public key x‖y, signature r‖s, 32-byte big-endian each).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace confcom::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Aes128Key = std::array<uint8_t, 16>;
using Cmac128 = std::array<uint8_t, 16>;
using RawPublicKey = std::array<uint8_t, 64>;  // x‖y
using RawSignature = std::array<uint8_t, 64>;  // r‖s

Sha256Digest Sha256(ByteSpan data);
// SHA-256 of the concatenation of `parts`.
Sha256Digest Sha256(std::initializer_list<ByteSpan> parts);

Result<Cmac128> AesCmac(const Aes128Key& key, ByteSpan data);

// Cryptographically secure random bytes.
Status RandomBytes(std::span<uint8_t> out);

// The most recent OpenSSL error queue entry as text (and clears the queue).
std::string OpenSslError();

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// An ECDSA P-256 key: private (can sign) or public only. Copyable (shares the key).
class EcKey {
 public:
  EcKey() = default;  // empty: no key; only for assignment later
  static Result<EcKey> Generate();
  static Result<EcKey> FromPrivatePem(std::string_view pem);
  static Result<EcKey> FromPublicRaw(ByteSpan xy);
  // Takes a reference to an existing P-256 key (e.g. from a certificate).
  static Result<EcKey> FromEvp(EVP_PKEY* pkey);

  bool has_private() const { return has_private_; }
  // PKCS#8 PEM; never log it.
  Result<std::string> PrivatePem() const;
  RawPublicKey PublicRaw() const;
  EVP_PKEY* evp() const { return pkey_.get(); }

  // ECDSA over SHA-256(message).
  Result<RawSignature> Sign(ByteSpan message) const;
  bool Verify(ByteSpan message, ByteSpan raw_signature) const;

 private:
  EcKey(std::shared_ptr<EVP_PKEY> pkey, bool has_private)
      : pkey_(std::move(pkey)), has_private_(has_private) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  bool has_private_ = false;
  RawPublicKey public_raw_{};
};

// DER ECDSA-Sig-Value <-> raw r‖s.
Result<RawSignature> DerSignatureToRaw(ByteSpan der);
Result<Bytes> RawSignatureToDer(ByteSpan raw);

}  // namespace confcom::crypto
