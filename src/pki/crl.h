// X.509 certificate revocation lists: issuance (for the simulated PKI) and the checks a quote
// verifier makes (signature by the issuer, issuer name, validity window, crlNumber and AKI
// present, whether a serial is revoked).
#pragma once

#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pki/x509.h"

namespace confcom::pki {

class Crl {
 public:
  Crl() = default;
  static Result<Crl> FromDer(ByteSpan der);
  static Result<Crl> FromPem(std::string_view pem);

  Bytes ToDer() const;
  std::string ToPem() const;
  std::string Issuer() const;
  std::time_t ThisUpdate() const;
  std::time_t NextUpdate() const;  // 0 if absent
  bool HasCrlNumber() const;
  bool HasAuthorityKeyId() const;
  bool IsSignedBy(const Certificate& issuer) const;
  // The DER contents of a CRL extension's OCTET STRING, if the CRL has it.
  std::optional<Bytes> ExtensionValue(const std::string& oid) const;
  // Serial numbers (uppercase hex, as Certificate::SerialHex()) listed as revoked.
  const std::set<std::string>& revoked_serials() const { return revoked_; }
  bool Revokes(const Certificate& cert) const { return revoked_.count(cert.SerialHex()) > 0; }

 private:
  explicit Crl(X509_CRL* crl);
  std::shared_ptr<X509_CRL> crl_;
  std::set<std::string> revoked_;
};

struct CrlSpec {
  std::time_t this_update = 0;
  std::time_t next_update = 0;
  long crl_number = 1;
  std::vector<const Certificate*> revoked;
  // Further non-critical extensions: {dotted OID, DER of the value}.
  std::vector<std::pair<std::string, Bytes>> extensions;
};

// Issues a CRL signed by `issuer_key`, with crlNumber and AKI extensions.
Result<Crl> IssueCrl(const CrlSpec& spec, const Certificate& issuer,
                     const crypto::EcKey& issuer_key);

}  // namespace confcom::pki
