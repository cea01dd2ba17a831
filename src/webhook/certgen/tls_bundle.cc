#include "webhook/certgen/tls_bundle.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/time_format.h"
#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"
#include "kube/names.h"
#include "pki/x509.h"

namespace confcom::webhook::certgen {
namespace {

using crypto::X509Ptr;

std::string ToPem(X509* x) {
  crypto::BioPtr bio = crypto::NewMemoryBio();
  PEM_write_bio_X509(bio.get(), x);
  return crypto::MemoryBioText(bio.get());
}

// Every certificate in a PEM concatenation (none: an empty vector).
std::vector<X509Ptr> ParsePemChain(const std::string& pem) {
  std::vector<X509Ptr> out;
  crypto::BioPtr bio = crypto::MemoryBioOver(pem);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the loop ends on a "no start line" error
  return out;
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
    if (!kube::IsDnsSubdomain(n)) return Status::InvalidArgument("not a DNS name: '" + n + "'");
  }
  if (cert_validity.count() <= 0 || ca_validity < cert_validity) {
    return Status::InvalidArgument(
        "the serving certificate must be valid for some time, and "
        "not longer than its CA");
  }
  const std::time_t not_before = now - 3600;  // nodes whose clocks lag still accept it
  CONFCOM_ASSIGN_OR_RETURN(crypto::EcKey ca_key, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(crypto::EcKey key, crypto::EcKey::Generate());
  const pki::CertificateSpec ca_spec = pki::TlsCaSpec(
      "sgx-webhook-ca " + dns_names.front(), not_before, now + std::time_t(ca_validity.count()));
  CONFCOM_ASSIGN_OR_RETURN(pki::Certificate ca,
                           pki::IssueCertificate(ca_spec, ca_key, nullptr, ca_key));
  const pki::CertificateSpec spec =
      pki::TlsServerSpec(dns_names, not_before, now + std::time_t(cert_validity.count()));
  CONFCOM_ASSIGN_OR_RETURN(pki::Certificate cert, pki::IssueCertificate(spec, key, &ca, ca_key));
  TlsBundle b;
  b.ca_crt = ca.ToPem();
  b.tls_crt = cert.ToPem();
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
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(crypto::MemoryBioOver(bundle.tls_key).get(),
                                                 nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key) return Status::Corruption("tls.key holds no PEM private key");
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return Status::Corruption("tls.key is not the key of tls.crt");
  }
  // The chain, at `now`, to one of the CAs in ca.crt (intermediates in tls.crt allowed).
  crypto::X509StorePtr store(X509_STORE_new());
  for (auto& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
  crypto::X509StackViewPtr untrusted(sk_X509_new_null());  // certs keeps ownership
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
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
