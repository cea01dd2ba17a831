#include "pki/crl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace confcom::pki {

namespace {

std::string SerialHex(const ASN1_INTEGER* serial) {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  crypto::OpenSslMemoryPtr<char> hex(BN_bn2hex(bn.get()));
  return std::string(hex.get());
}

std::time_t AsnTime(const ASN1_TIME* t) {
  if (t == nullptr) return 0;
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

Crl::Crl(X509_CRL* crl) : crl_(crypto::X509CrlPtr(crl)) {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    revoked_.insert(SerialHex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
  }
}

Result<Crl> Crl::FromDer(ByteSpan der) {
  const uint8_t* p = der.data();
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, long(der.size()));
  if (crl == nullptr) return Status::InvalidArgument("not a DER CRL: " + crypto::OpenSslError());
  return Crl(crl);
}

Result<Crl> Crl::FromPem(std::string_view pem) {
  X509_CRL* crl =
      PEM_read_bio_X509_CRL(crypto::MemoryBioOver(pem).get(), nullptr, nullptr, nullptr);
  if (crl == nullptr) return Status::InvalidArgument("not a PEM CRL: " + crypto::OpenSslError());
  return Crl(crl);
}

Bytes Crl::ToDer() const {
  int len = i2d_X509_CRL(crl_.get(), nullptr);
  Bytes out(size_t(len > 0 ? len : 0));
  uint8_t* p = out.data();
  i2d_X509_CRL(crl_.get(), &p);
  return out;
}

std::string Crl::ToPem() const {
  crypto::BioPtr bio = crypto::NewMemoryBio();
  PEM_write_bio_X509_CRL(bio.get(), crl_.get());
  return crypto::MemoryBioText(bio.get());
}

std::string Crl::Issuer() const {
  crypto::BioPtr bio = crypto::NewMemoryBio();
  X509_NAME_print_ex(bio.get(), X509_CRL_get_issuer(crl_.get()), 0,
                     XN_FLAG_SEP_CPLUS_SPC | (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB));
  return crypto::MemoryBioText(bio.get());
}

std::time_t Crl::ThisUpdate() const { return AsnTime(X509_CRL_get0_lastUpdate(crl_.get())); }
std::time_t Crl::NextUpdate() const { return AsnTime(X509_CRL_get0_nextUpdate(crl_.get())); }

bool Crl::HasCrlNumber() const {
  return X509_CRL_get_ext_by_NID(crl_.get(), NID_crl_number, -1) >= 0;
}

bool Crl::HasAuthorityKeyId() const {
  return X509_CRL_get_ext_by_NID(crl_.get(), NID_authority_key_identifier, -1) >= 0;
}

bool Crl::IsSignedBy(const Certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.x509());
  bool ok = key != nullptr && X509_CRL_verify(crl_.get(), key) == 1;
  ERR_clear_error();
  return ok;
}

std::optional<Bytes> Crl::ExtensionValue(const std::string& oid) const {
  crypto::Asn1ObjectPtr obj(OBJ_txt2obj(oid.c_str(), 1));
  if (obj == nullptr) return std::nullopt;
  int idx = X509_CRL_get_ext_by_OBJ(crl_.get(), obj.get(), -1);
  if (idx < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_CRL_get_ext(crl_.get(), idx));
  return Bytes(data->data, data->data + data->length);
}

Result<Crl> IssueCrl(const CrlSpec& spec, const Certificate& issuer,
                     const crypto::EcKey& issuer_key) {
  crypto::X509CrlPtr crl(X509_CRL_new());
  if (crl == nullptr) return Status::Internal("X509_CRL_new failed");
  X509_CRL* raw = crl.get();
  X509_CRL_set_version(raw, X509_CRL_VERSION_2);
  X509_CRL_set_issuer_name(raw, X509_get_subject_name(issuer.x509()));
  crypto::Asn1TimePtr t(ASN1_TIME_new());
  ASN1_TIME_set(t.get(), spec.this_update);
  X509_CRL_set1_lastUpdate(raw, t.get());
  ASN1_TIME_set(t.get(), spec.next_update);
  X509_CRL_set1_nextUpdate(raw, t.get());
  for (const Certificate* cert : spec.revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(cert->x509()));
    ASN1_TIME_set(t.get(), spec.this_update);
    X509_REVOKED_set_revocationDate(r, t.get());
    X509_CRL_add0_revoked(raw, r);  // the CRL owns it
  }
  X509_CRL_sort(raw);

  crypto::Asn1IntegerPtr number(ASN1_INTEGER_new());
  ASN1_INTEGER_set(number.get(), spec.crl_number);
  X509_CRL_add1_ext_i2d(raw, NID_crl_number, number.get(), 0, 0);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.x509(), nullptr, nullptr, raw, 0);
  crypto::X509ExtensionPtr aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (aki == nullptr) return Status::Internal("CRL AKI: " + crypto::OpenSslError());
  X509_CRL_add_ext(raw, aki.get(), -1);
  for (const auto& [oid, der] : spec.extensions) {
    CONFCOM_ASSIGN_OR_RETURN(ExtensionPtr ext, MakeExtension(oid, der));
    X509_CRL_add_ext(raw, ext.get(), -1);
  }

  if (X509_CRL_sign(raw, issuer_key.evp(), EVP_sha256()) <= 0) {
    return Status::Internal("signing CRL: " + crypto::OpenSslError());
  }
  return Crl::FromDer([&] {
    int len = i2d_X509_CRL(raw, nullptr);
    Bytes der(size_t(len > 0 ? len : 0));
    uint8_t* p = der.data();
    i2d_X509_CRL(raw, &p);
    return der;
  }());
}

}  // namespace confcom::pki
