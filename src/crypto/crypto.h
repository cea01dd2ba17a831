// The cryptography confcom needs, on OpenSSL 3: SHA-256, AES-128-CMAC and ECDSA P-256 with
// SGX's raw encodings (public key x‖y, signature r‖s, 32-byte big-endian each). Owning
// pointers for OpenSSL objects are in crypto/openssl_ptr.h.
// Thread safety: the free functions are thread-safe; an EcKey may be used from any number of
// threads at once (signing keeps one OpenSSL context per thread and key).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/openssl_ptr.h"

namespace confcom::crypto {

using Sha256Digest = std::array<uint8_t, 32>;
using Aes128Key = std::array<uint8_t, 16>;
using Cmac128 = std::array<uint8_t, 16>;
using RawPublicKey = std::array<uint8_t, 64>;  // x‖y
using RawSignature = std::array<uint8_t, 64>;  // r‖s

// SHA-256 of `data`; never fails.
Sha256Digest Sha256(ByteSpan data);
// SHA-256 of the concatenation of `parts`; never fails.
Sha256Digest Sha256(std::initializer_list<ByteSpan> parts);

// AES-128-CMAC (RFC 4493) of `data`. Errors: Internal if OpenSSL lacks CMAC.
Result<Cmac128> AesCmac(const Aes128Key& key, ByteSpan data);

// Fills `out` with cryptographically secure random bytes. Errors: Internal (no entropy).
Status RandomBytes(std::span<uint8_t> out);

// The oldest entry of this thread's OpenSSL error queue as text, and clears the queue
// ("unknown OpenSSL error" when it is empty).
std::string OpenSslError();

// An ECDSA P-256 key: private (can sign) or public only. Copyable (copies share the key).
class EcKey {
 public:
  EcKey() = default;  // empty: no key (evp() is null); only for assignment later
  // A new random key. Errors: Internal.
  static Result<EcKey> Generate();
  // The private key in a PEM block (PKCS#8 or traditional). Errors: Corruption (no PEM
  // private key), InvalidArgument (not EC P-256).
  static Result<EcKey> FromPrivatePem(std::string_view pem);
  // The public key x‖y (64 bytes). Errors: InvalidArgument (size, or not on the curve).
  static Result<EcKey> FromPublicRaw(ByteSpan xy);
  // A public-only key sharing `pkey` (takes a reference; e.g. a certificate's key).
  // Errors: InvalidArgument (not EC P-256).
  static Result<EcKey> FromEvp(EVP_PKEY* pkey);

  bool has_private() const { return has_private_; }
  // PKCS#8 PEM; never log it. Errors: InvalidArgument (public-only key), Internal.
  Result<std::string> PrivatePem() const;
  RawPublicKey PublicRaw() const;
  EVP_PKEY* evp() const { return pkey_.get(); }  // owned by this key (and its copies)

  // ECDSA over SHA-256(message), raw r‖s. Errors: InvalidArgument (public-only), Internal.
  Result<RawSignature> Sign(ByteSpan message) const;
  // Whether `raw_signature` (r‖s) is this key's over SHA-256(message); false for any error.
  bool Verify(ByteSpan message, ByteSpan raw_signature) const;

 private:
  EcKey(std::shared_ptr<EVP_PKEY> pkey, bool has_private)
      : pkey_(std::move(pkey)), has_private_(has_private) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  bool has_private_ = false;
  RawPublicKey public_raw_{};
};

// DER ECDSA-Sig-Value -> raw r‖s. Errors: Corruption (not DER, or r or s over 32 bytes).
Result<RawSignature> DerSignatureToRaw(ByteSpan der);
// Raw r‖s (64 bytes) -> DER ECDSA-Sig-Value. Errors: InvalidArgument (size), Internal.
Result<Bytes> RawSignatureToDer(ByteSpan raw);

}  // namespace confcom::crypto
