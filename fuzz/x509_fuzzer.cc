// x509_fuzzer: the certificate, CRL and SGX-extension parsing behind quote inspection and
// verification (a quote's certification data is attacker-chosen PEM; collateral brings DER
// CRLs and PEM chains).
//
// Every input is tried as each format: pki::Certificate::ChainFromPem, FromPem and FromDer,
// pki::Crl::FromDer and FromPem, pki::DecodeSgxExtension. Seeds (fuzz/corpus/x509_fuzzer):
// the simulated PCK chain PEM (with Intel's trailing NUL), each certificate's DER, both CRLs'
// DER, and SGX extension values of each TCB profile.
//
// Invariants checked:
//  - every accessor of a parsed certificate works (subject, issuer, serial, validity, public
//    key, SGX extension, signature checks against itself and the next certificate);
//  - DER and PEM round trips: FromDer(ToDer(c)) re-encodes to the same DER; FromPem(ToPem(c))
//    too; the same for CRLs, with the same issuer and revoked serials;
//  - a decoded SGX extension re-encodes and decodes to an equal value (also when it came out
//    of a certificate).
#include "fuzz_util.h"
#include "pki/crl.h"
#include "pki/sgx_extension.h"
#include "pki/x509.h"

namespace {

using namespace confcom;

void CheckSgxExtension(const pki::SgxExtension& ext, const char* where) {
  auto encoded = pki::EncodeSgxExtension(ext);
  FUZZ_CHECK(encoded.ok(), std::string(where) + ": a decoded SGX extension does not encode: " +
                               encoded.status().message());
  auto again = pki::DecodeSgxExtension(*encoded);
  FUZZ_CHECK(again.ok(), std::string(where) + ": our own SGX extension encoding does not decode: " +
                             again.status().message());
  FUZZ_CHECK(*again == ext, std::string(where) + ": SGX extension changes in a round trip");
}

void CheckCertificate(const pki::Certificate& c, const pki::Certificate* next) {
  (void)c.Subject();
  (void)c.Issuer();
  (void)c.SubjectCommonName();
  (void)c.SerialHex();
  (void)c.SignatureSize();
  (void)c.NotBefore();
  (void)c.NotAfter();
  (void)c.PublicKey();
  (void)c.ExtensionValue("1.3.6.1.4.1.32473.5353.1");  // the simulation marker
  (void)c.CheckExtensions();
  (void)c.IsSignedBy(c);
  if (next != nullptr) (void)c.IsSignedBy(*next);
  if (auto ext = c.SgxExt(); ext.ok()) CheckSgxExtension(*ext, "certificate");

  Bytes der = c.ToDer();
  FUZZ_CHECK(!der.empty(), "a parsed certificate has no DER");
  auto from_der = pki::Certificate::FromDer(der);
  FUZZ_CHECK(from_der.ok(),
             "our own certificate DER does not parse: " + from_der.status().message());
  FUZZ_CHECK(from_der->ToDer() == der, "certificate DER changes in a round trip");
  FUZZ_CHECK(from_der->Subject() == c.Subject() && from_der->SerialHex() == c.SerialHex(),
             "certificate fields change in a DER round trip");
  auto from_pem = pki::Certificate::FromPem(c.ToPem());
  FUZZ_CHECK(from_pem.ok(),
             "our own certificate PEM does not parse: " + from_pem.status().message());
  FUZZ_CHECK(from_pem->ToDer() == der, "certificate changes in a PEM round trip");
}

void CheckCrl(const pki::Crl& crl) {
  (void)crl.Issuer();
  (void)crl.ThisUpdate();
  (void)crl.NextUpdate();
  (void)crl.HasCrlNumber();
  (void)crl.HasAuthorityKeyId();
  Bytes der = crl.ToDer();
  FUZZ_CHECK(!der.empty(), "a parsed CRL has no DER");
  auto again = pki::Crl::FromDer(der);
  FUZZ_CHECK(again.ok(), "our own CRL DER does not parse: " + again.status().message());
  FUZZ_CHECK(again->ToDer() == der, "CRL DER changes in a round trip");
  FUZZ_CHECK(again->Issuer() == crl.Issuer(), "CRL issuer changes in a round trip");
  FUZZ_CHECK(again->revoked_serials() == crl.revoked_serials(), "revoked serials change");
  auto from_pem = pki::Crl::FromPem(crl.ToPem());
  FUZZ_CHECK(from_pem.ok() && from_pem->ToDer() == der, "CRL changes in a PEM round trip");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsView(data, size);
  ByteSpan bytes(data, size);

  if (auto chain = pki::Certificate::ChainFromPem(text); chain.ok()) {
    FUZZ_CHECK(!chain->empty(), "ChainFromPem succeeded with no certificate");
    FUZZ_CHECK(chain->size() <= size / 64 + 1, "more certificates than the input can hold");
    for (size_t i = 0; i < chain->size(); ++i) {
      CheckCertificate((*chain)[i], i + 1 < chain->size() ? &(*chain)[i + 1] : nullptr);
    }
  }
  if (auto cert = pki::Certificate::FromPem(text); cert.ok()) CheckCertificate(*cert, nullptr);
  if (auto cert = pki::Certificate::FromDer(bytes); cert.ok()) CheckCertificate(*cert, nullptr);
  if (auto crl = pki::Crl::FromDer(bytes); crl.ok()) CheckCrl(*crl);
  if (auto crl = pki::Crl::FromPem(text); crl.ok()) CheckCrl(*crl);
  if (auto ext = pki::DecodeSgxExtension(bytes); ext.ok()) CheckSgxExtension(*ext, "input");
  return 0;
}
