#include "webhook/certgen/tls_bundle.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <memory>

#include "common/time_format.h"
#include "crypto/crypto.h"

namespace confcom::webhook::certgen {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr NewX509() { return X509Ptr(X509_new(), X509_free); }

std::string ToPem(X509* x) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(n));
}

// Every certificate in a PEM concatenation (none: an empty vector).
std::vector<X509Ptr> ParsePemChain(const std::string& pem) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                 BIO_free);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(x, X509_free);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  return out;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    return Status::Internal(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value + ": " +
                            crypto::OpenSslError());
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

struct Spec {
  std::string common_name;
  bool is_ca = false;
  std::vector<std::string> dns_names;
  std::time_t not_before = 0, not_after = 0;
};

// A certificate for `key` signed by `issuer_key` (`issuer` null: self-signed).
Result<X509Ptr> Issue(const Spec& spec, const crypto::EcKey& key, X509* issuer,
                      const crypto::EcKey& issuer_key) {
  X509Ptr cert = NewX509();
  X509* x = cert.get();
  X509_set_version(x, X509_VERSION_3);
  uint8_t serial[16];
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(serial));
  serial[0] = uint8_t((serial[0] & 0x7f) | 0x01);  // positive, 16 bytes
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(x), spec.not_before);
  ASN1_TIME_set(X509_getm_notAfter(x), spec.not_after);
  X509_set_pubkey(x, key.evp());
  X509* signer = issuer != nullptr ? issuer : x;
  CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_subject_key_identifier, "hash"));
  CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_authority_key_identifier, "keyid:always"));
  if (spec.is_ca) {
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_basic_constraints, "critical,CA:FALSE"));
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_key_usage, "critical,digitalSignature"));
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_ext_key_usage, "serverAuth"));
    std::string san;
    for (const auto& n : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    CONFCOM_RETURN_IF_ERROR(AddExtension(x, signer, NID_subject_alt_name, san));
  }
  if (X509_sign(x, issuer_key.evp(), EVP_sha256()) <= 0) {
    return Status::Internal("signing certificate '" + spec.common_name + "': " +
                            crypto::OpenSslError());
  }
  return cert;
}

bool ValidDnsName(const std::string& n) {
  if (n.empty() || n.size() > 253) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return n.front() != '.' && n.back() != '.' && n.find("..") == std::string::npos;
}

}  // namespace

std::vector<std::string> ServiceDnsNames(const std::string& service, const std::string& ns) {
  return {service + "." + ns + ".svc", service + "." + ns + ".svc.cluster.local"};
}

Result<TlsBundle> GenerateBundle(const std::vector<std::string>& dns_names, std::time_t now,
                                 std::chrono::seconds ca_validity,
                                 std::chrono::seconds cert_validity) {
  if (dns_names.empty()) return Status::InvalidArgument("no DNS name for the certificate");
  for (const auto& n : dns_names) {
    if (!ValidDnsName(n)) return Status::InvalidArgument("not a DNS name: '" + n + "'");
  }
  if (cert_validity.count() <= 0 || ca_validity < cert_validity) {
    return Status::InvalidArgument("the serving certificate must be valid for some time, and "
                                   "not longer than its CA");
  }
  const std::time_t not_before = now - 3600;  // nodes whose clocks lag still accept it
  CONFCOM_ASSIGN_OR_RETURN(crypto::EcKey ca_key, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(crypto::EcKey key, crypto::EcKey::Generate());
  Spec ca_spec{"sgx-webhook-ca " + dns_names.front(), true, {}, not_before,
               now + std::time_t(ca_validity.count())};
  CONFCOM_ASSIGN_OR_RETURN(X509Ptr ca, Issue(ca_spec, ca_key, nullptr, ca_key));
  Spec spec{dns_names.front(), false, dns_names, not_before,
            now + std::time_t(cert_validity.count())};
  CONFCOM_ASSIGN_OR_RETURN(X509Ptr cert, Issue(spec, key, ca.get(), ca_key));
  TlsBundle b;
  b.ca_crt = ToPem(ca.get());
  b.tls_crt = ToPem(cert.get());
  CONFCOM_ASSIGN_OR_RETURN(b.tls_key, key.PrivatePem());
  return b;
}

Status CheckBundle(const TlsBundle& bundle, const std::vector<std::string>& dns_names,
                   std::time_t now, std::chrono::seconds renew_before) {
  auto cas = ParsePemChain(bundle.ca_crt);
  if (cas.empty()) return Status::Corruption("ca.crt holds no PEM certificate");
  auto certs = ParsePemChain(bundle.tls_crt);
  if (certs.empty()) return Status::Corruption("tls.crt holds no PEM certificate");
  X509* cert = certs.front().get();
  // The key must parse and be the certificate's (errors never echo the key).
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(bundle.tls_key.data(), int(bundle.tls_key.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  ERR_clear_error();
  if (!key) return Status::Corruption("tls.key holds no PEM private key");
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return Status::Corruption("tls.key is not the key of tls.crt");
  }
  // The chain, at `now`, to one of the CAs in ca.crt (intermediates in tls.crt allowed).
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                X509_STORE_free);
  for (auto& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_free(s); });
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted.get());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, now);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status::InvalidArgument(std::string("tls.crt does not verify against ca.crt: ") +
                                   X509_verify_cert_error_string(err));
  }
  for (const auto& n : dns_names) {
    if (X509_check_host(cert, n.c_str(), n.size(), X509_CHECK_FLAG_NO_WILDCARDS, nullptr) != 1) {
      return Status::InvalidArgument("tls.crt does not name " + n);
    }
  }
  const std::time_t renew_at = now + std::time_t(renew_before.count());
  if (X509_cmp_time(X509_get0_notAfter(cert), const_cast<std::time_t*>(&renew_at)) <= 0) {
    return Status::DeadlineExceeded("tls.crt expires " + FormatRfc3339(NotAfter(bundle.tls_crt)) +
                                    ", within the renewal window");
  }
  for (auto& ca : cas) {
    if (X509_cmp_time(X509_get0_notAfter(ca.get()), const_cast<std::time_t*>(&renew_at)) <= 0 &&
        X509_check_issued(ca.get(), cert) == X509_V_OK) {
      return Status::DeadlineExceeded("the CA of tls.crt expires " +
                                      FormatRfc3339(NotAfter(ToPem(ca.get()))) +
                                      ", within the renewal window");
    }
  }
  return Status::Ok();
}

std::time_t NotAfter(const std::string& pem) {
  auto certs = ParsePemChain(pem);
  if (certs.empty()) return 0;
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certs.front().get()), &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace confcom::webhook::certgen
