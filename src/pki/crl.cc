#include "pki/crl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace confcom::pki {

namespace {

std::string SerialHex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::time_t AsnTime(const ASN1_TIME* t) {
  if (t == nullptr) return 0;
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

Crl::Crl(X509_CRL* crl) : crl_(crl, X509_CRL_free) {
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
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
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
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(bio, crl_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(len));
  BIO_free(bio);
  return out;
}

std::string Crl::Issuer() const {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_CRL_get_issuer(crl_.get()), 0,
                     XN_FLAG_SEP_CPLUS_SPC | (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(len));
  BIO_free(bio);
  return out;
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
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  if (obj == nullptr) return std::nullopt;
  int idx = X509_CRL_get_ext_by_OBJ(crl_.get(), obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_CRL_get_ext(crl_.get(), idx));
  return Bytes(data->data, data->data + data->length);
}

Result<Crl> IssueCrl(const CrlSpec& spec, const Certificate& issuer, const crypto::EcKey& issuer_key) {
  X509_CRL* raw = X509_CRL_new();
  if (raw == nullptr) return Status::Internal("X509_CRL_new failed");
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(raw, X509_CRL_free);
  X509_CRL_set_version(raw, X509_CRL_VERSION_2);
  X509_CRL_set_issuer_name(raw, X509_get_subject_name(issuer.x509()));
  ASN1_TIME* t = ASN1_TIME_new();
  ASN1_TIME_set(t, spec.this_update);
  X509_CRL_set1_lastUpdate(raw, t);
  ASN1_TIME_set(t, spec.next_update);
  X509_CRL_set1_nextUpdate(raw, t);
  for (const Certificate* cert : spec.revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(cert->x509()));
    ASN1_TIME_set(t, spec.this_update);
    X509_REVOKED_set_revocationDate(r, t);
    X509_CRL_add0_revoked(raw, r);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(raw);

  ASN1_INTEGER* number = ASN1_INTEGER_new();
  ASN1_INTEGER_set(number, spec.crl_number);
  X509_CRL_add1_ext_i2d(raw, NID_crl_number, number, 0, 0);
  ASN1_INTEGER_free(number);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.x509(), nullptr, nullptr, raw, 0);
  X509_EXTENSION* aki = X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always");
  if (aki == nullptr) return Status::Internal("CRL AKI: " + crypto::OpenSslError());
  X509_CRL_add_ext(raw, aki, -1);
  X509_EXTENSION_free(aki);
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
