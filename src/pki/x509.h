// X.509 certificates on OpenSSL: parsing (PEM/DER, PEM chains), the facts a quote inspector
// and verifier need, and the one certificate issuer of confcom: Intel-style SGX certificates
// with our own keys (the simulated PKI) and a service's own TLS CA and serving certificates
// (the webhook's certgen).
// Thread safety: a Certificate is immutable after construction; copies share it and may be
// used from any number of threads at once. The free functions are thread-safe.
#pragma once

#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/crypto.h"
#include "pki/sgx_extension.h"

namespace confcom::pki {

// Subject fields of every Intel SGX certificate after the CN.
inline constexpr char kIntelOrganization[] = "Intel Corporation";
inline constexpr char kIntelLocality[] = "Santa Clara";
inline constexpr char kIntelState[] = "CA";
inline constexpr char kIntelCountry[] = "US";

// Intel's two PCK CAs under the SGX Root CA. A PCK certificate's issuer says which CRL
// revokes it; the names are the values of the PCCS's `ca` parameter.
enum class PckCa { kPlatform, kProcessor };
const char* PckCaName(PckCa ca);  // "platform", "processor"
Result<PckCa> ParsePckCa(std::string_view name);
const char* PckCaCommonName(PckCa ca);  // "Intel SGX PCK Platform CA", "… Processor CA"
std::optional<PckCa> PckCaFromCommonName(std::string_view cn);

class Certificate {
 public:
  Certificate() = default;  // empty: no certificate (x509() is null); only for assignment later
  // Errors: InvalidArgument (not a DER / PEM certificate).
  static Result<Certificate> FromDer(ByteSpan der);
  static Result<Certificate> FromPem(std::string_view pem);
  // Every certificate in a concatenation of PEM blocks, in order (a trailing NUL, as in
  // Intel's certification data, is allowed). Errors: InvalidArgument (none, or one that does
  // not parse; the message says which).
  static Result<std::vector<Certificate>> ChainFromPem(std::string_view pem);
  // Takes ownership of `x`.
  static Certificate Adopt(X509* x) { return Certificate(x); }

  X509* x509() const { return x509_.get(); }  // owned by this certificate (and its copies)
  std::string ToPem() const;
  Bytes ToDer() const;

  // RFC 2253-like one line, most significant last as OpenSSL prints it: "CN=…, O=…, …, C=US".
  std::string Subject() const;
  std::string Issuer() const;
  std::string SubjectCommonName() const;
  std::string SerialHex() const;
  // Length of the DER signature value (70 to 72 bytes for most ECDSA P-256 signatures).
  size_t SignatureSize() const;
  std::time_t NotBefore() const;  // 0 if it does not convert
  std::time_t NotAfter() const;
  // The subject key. Errors: InvalidArgument (none, or not EC P-256).
  Result<crypto::EcKey> PublicKey() const;
  // Checks this certificate's signature with `issuer`'s public key.
  bool IsSignedBy(const Certificate& issuer) const;
  // The DER contents of the extension's OCTET STRING, if the certificate has it.
  std::optional<Bytes> ExtensionValue(const std::string& oid) const;
  // RFC 5280 section 4.2, as `openssl verify` and Intel's QVL apply it: no extension appears
  // twice, and every critical extension is one OpenSSL processes. The error names the OID.
  Status CheckExtensions() const;
  // The SGX extension, decoded. Errors: NotFound (none), InvalidArgument (twice), Corruption.
  Result<SgxExtension> SgxExt() const;

 private:
  explicit Certificate(X509* x) : x509_(crypto::X509Ptr(x)) {}
  std::shared_ptr<X509> x509_;
};

// The subject a certificate gets after its CN.
enum class SubjectStyle {
  kIntel,           // CN, O=Intel Corporation, L=Santa Clara, ST=CA, C=US (the SGX PKI)
  kCommonNameOnly,  // CN alone (a service's own TLS CA and serving certificate)
};

struct CertificateSpec {
  std::string common_name;
  SubjectStyle subject = SubjectStyle::kIntel;
  bool is_ca = false;
  int path_len = -1;      // CA only; -1 for none
  std::string key_usage;  // OpenSSL syntax, e.g. "critical,keyCertSign,cRLSign"; empty: none
  std::string extended_key_usage;      // OpenSSL syntax, e.g. "serverAuth"; empty: none
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries; empty: no SAN
  std::string crl_distribution_point;  // URI, empty for none
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  // Non-critical extensions: {dotted OID, DER of the value}.
  std::vector<std::pair<std::string, Bytes>> extensions;
};

// A service's own TLS CA: subject CN only, basicConstraints critical CA:TRUE pathlen 0 (it
// signs serving certificates only), keyUsage critical keyCertSign, cRLSign.
CertificateSpec TlsCaSpec(std::string common_name, std::time_t not_before, std::time_t not_after);
// A TLS serving certificate for `dns_names` (the first is also the CN; callers check the names):
// subject CN only, CA:FALSE, keyUsage critical digitalSignature (ECDHE signing), extendedKeyUsage
// serverAuth, subjectAltName with each name as a dNSName.
CertificateSpec TlsServerSpec(const std::vector<std::string>& dns_names, std::time_t not_before,
                              std::time_t not_after);

// Issues a certificate for `subject_key`, signed by `issuer_key` with ECDSA SHA-256, with a
// random positive 16-byte serial. `issuer` is null for a self-signed certificate. Extensions
// in this order: SKI, AKI, basicConstraints, keyUsage, extendedKeyUsage, subjectAltName, CRL
// DP (each only if the spec asks), then `spec.extensions`. Errors: InvalidArgument (a bad OID
// in spec.extensions), Internal (a value OpenSSL refuses, e.g. bad key_usage syntax; signing).
Result<Certificate> IssueCertificate(const CertificateSpec& spec, const crypto::EcKey& subject_key,
                                     const Certificate* issuer, const crypto::EcKey& issuer_key);

// DER of an ASN.1 UTF8String, for simple text extensions.
Bytes EncodeUtf8StringDer(std::string_view text);

// A non-critical extension {oid, value DER}, for certificates and CRLs.
// Errors: InvalidArgument (bad OID), Internal.
using ExtensionPtr = crypto::X509ExtensionPtr;
Result<ExtensionPtr> MakeExtension(const std::string& oid, ByteSpan der);
// Dotted text of an OID ("1.2.840.113741.1.13.1").
std::string OidText(const ASN1_OBJECT* obj);

}  // namespace confcom::pki
