// Owning pointers for OpenSSL objects: std::unique_ptr aliases whose deleters call the
// matching *_free, so no code path (early return, error) leaks or frees twice. Every module
// that holds an OpenSSL object uses these, not a private set or manual frees.
// Thread safety: as std::unique_ptr; the objects themselves follow OpenSSL's rules.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace confcom::crypto {

// Calls `Free` (any OpenSSL free function) on a non-null pointer.
template <auto Free>
struct OpenSslFree {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslFree<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslFree<EVP_MD_CTX_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslFree<EVP_MAC_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslFree<ECDSA_SIG_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslFree<X509_CRL_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpenSslFree<ASN1_OBJECT_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslFree<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslFree<ASN1_TIME_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OpenSslFree<ASN1_STRING_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslFree<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;

// Memory OpenSSL allocated for the caller (BN_bn2hex, i2d_* with a null buffer).
struct OpenSslMemoryFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpenSslMemoryPtr = std::unique_ptr<T, OpenSslMemoryFree>;

// A STACK_OF(X509) that owns its certificates (sk_X509_pop_free), and one that only holds
// pointers owned elsewhere (sk_X509_free).
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
struct X509StackViewFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using X509StackViewPtr = std::unique_ptr<STACK_OF(X509), X509StackViewFree>;
// A SEQUENCE OF ANY (d2i_ASN1_SEQUENCE_ANY) that owns its items.
struct Asn1TypeStackFree {
  void operator()(STACK_OF(ASN1_TYPE) * s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using Asn1TypeStackPtr = std::unique_ptr<STACK_OF(ASN1_TYPE), Asn1TypeStackFree>;

// A new, empty memory BIO (null only when out of memory).
inline BioPtr NewMemoryBio() { return BioPtr(BIO_new(BIO_s_mem())); }

// A read-only memory BIO over `text`, which must outlive it.
inline BioPtr MemoryBioOver(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), int(text.size())));
}

// Everything written to the memory BIO `bio` so far ("" for a null BIO).
inline std::string MemoryBioText(BIO* bio) {
  if (bio == nullptr) return std::string();
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, size_t(len)) : std::string();
}

}  // namespace confcom::crypto
