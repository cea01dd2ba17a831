#include "https/cert_reloader.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "crypto/openssl_ptr.h"

namespace confcom::https {

struct CertReloader::Pair {
  crypto::X509Ptr cert;
  crypto::EvpPkeyPtr key;
  crypto::X509StackPtr chain;
};

namespace {

using crypto::OpenSslError;

std::string StatFingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

}  // namespace

CertReloader::~CertReloader() = default;

std::string CertReloader::Fingerprint() const {
  return StatFingerprint(cert_file_) + "|" + StatFingerprint(key_file_);
}

Result<std::unique_ptr<CertReloader>> CertReloader::Open(std::string cert_file,
                                                         std::string key_file) {
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
  {
    crypto::BioPtr cb(BIO_new_file(cert_file_.c_str(), "r"));
    if (!cb)
      return Status::IoError("--tls-cert-file " + cert_file_ + ": cannot open: " + OpenSslError());
    pair->cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (pair->cert) {
      pair->chain.reset(sk_X509_new_null());
      while (crypto::X509Ptr extra{PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)}) {
        if (sk_X509_push(pair->chain.get(), extra.get()) > 0)
          (void)extra.release();  // the chain owns it
      }
    }
  }
  ERR_clear_error();  // the end of the chain reads as an error
  if (!pair->cert)
    return Status::InvalidArgument("--tls-cert-file " + cert_file_ + ": no PEM certificate in it");
  {
    crypto::BioPtr kb(BIO_new_file(key_file_.c_str(), "r"));
    if (!kb)
      return Status::IoError("--tls-private-key-file " + key_file_ +
                             ": cannot open: " + OpenSslError());
    pair->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  }
  if (!pair->key) {
    return Status::InvalidArgument("--tls-private-key-file " + key_file_ +
                                   ": no PEM private key in it: " + OpenSslError());
  }
  if (X509_check_private_key(pair->cert.get(), pair->key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("--tls-private-key-file " + key_file_ +
                                   " does not match the certificate in " + cert_file_);
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
  if (SSL_use_certificate(ssl, pair->cert.get()) != 1 ||
      SSL_use_PrivateKey(ssl, pair->key.get()) != 1 ||
      SSL_set1_chain(ssl, pair->chain.get()) != 1) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

void CertReloader::Install(SSL_CTX* ctx) {
  SSL_CTX_set_cert_cb(ctx, &CertReloader::CertCallback, this);
}

}  // namespace confcom::https
