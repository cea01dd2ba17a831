#include "webhook/cert_reloader.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace confcom::webhook {

struct CertReloader::Pair {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509)* chain = nullptr;
  ~Pair() {
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
  }
};

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no details";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

std::string StatFingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

CertReloader::~CertReloader() = default;

std::string CertReloader::Fingerprint() const {
  return StatFingerprint(cert_file_) + "|" + StatFingerprint(key_file_);
}

Result<std::unique_ptr<CertReloader>> CertReloader::Open(std::string cert_file, std::string key_file) {
  std::unique_ptr<CertReloader> r(new CertReloader());
  r->cert_file_ = std::move(cert_file);
  r->key_file_ = std::move(key_file);
  std::lock_guard<std::mutex> lock(r->mu_);
  r->fingerprint_ = r->Fingerprint();
  Status st = r->LoadLocked();
  if (!st.ok()) return st;
  r->last_ok_ = true;
  return r;
}

Status CertReloader::LoadLocked() {
  ERR_clear_error();
  auto pair = std::make_shared<Pair>();
  BIO* cb = BIO_new_file(cert_file_.c_str(), "r");
  if (!cb) return Status::IoError("--tls-cert-file " + cert_file_ + ": cannot open: " + OpenSslError());
  pair->cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  if (pair->cert) {
    pair->chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr)) sk_X509_push(pair->chain, extra);
  }
  BIO_free(cb);
  ERR_clear_error();  // the end of the chain reads as an error
  if (!pair->cert) return Status::InvalidArgument("--tls-cert-file " + cert_file_ + ": no PEM certificate in it");
  BIO* kb = BIO_new_file(key_file_.c_str(), "r");
  if (!kb) return Status::IoError("--tls-private-key-file " + key_file_ + ": cannot open: " + OpenSslError());
  pair->key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  if (!pair->key) {
    return Status::InvalidArgument("--tls-private-key-file " + key_file_ + ": no PEM private key in it: " +
                                   OpenSslError());
  }
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("--tls-private-key-file " + key_file_ + " does not match the certificate in " +
                                   cert_file_);
  }
  current_ = std::move(pair);
  return Status::Ok();
}

bool CertReloader::Refresh() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string now = Fingerprint();
  if (now == fingerprint_) return last_ok_;
  fingerprint_ = now;
  Status st = LoadLocked();
  last_ok_ = st.ok();
  if (st.ok()) {
    spdlog::info("serving certificate reloaded from {}", cert_file_);
  } else {
    spdlog::warn("serving certificate not reloaded (keeping the previous one): {}", st.message());
  }
  if (on_reload_) on_reload_(st.ok());
  return last_ok_;
}

int CertReloader::CertCallback(SSL* ssl, void* arg) {
  auto* self = static_cast<CertReloader*>(arg);
  self->Refresh();
  std::shared_ptr<Pair> pair;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    pair = self->current_;
  }
  if (!pair) return 0;
  if (SSL_use_certificate(ssl, pair->cert) != 1 || SSL_use_PrivateKey(ssl, pair->key) != 1 ||
      SSL_set1_chain(ssl, pair->chain) != 1) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

void CertReloader::Install(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &CertReloader::CertCallback, this); }

}  // namespace confcom::webhook
