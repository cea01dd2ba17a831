// The serving certificate and key, reloaded when their files change (certificate rotation:
// cert-manager or `sgx-webhook certgen` rewrite the Secret, the kubelet swaps the mounted
// files). Install() sets an OpenSSL certificate callback on an SSL_CTX: at each TLS handshake
// it stats both files (device, inode, size, mtime) and, if that changed since the last
// attempt, loads the pair (certificate file: leaf first, then its chain); a pair that does not
// load or does not match is refused, the previous one stays in use and the failure is logged
// once per change. So the next handshake after a rotation presents the new certificate.
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace confcom::webhook {

class CertReloader {
 public:
  // Loads the pair now; fails (clear message) if it cannot.
  static Result<std::unique_ptr<CertReloader>> Open(std::string cert_file, std::string key_file);
  ~CertReloader();

  // Sets the certificate callback (the reloader must outlive ctx's use).
  void Install(SSL_CTX* ctx);
  // Reloads if the files changed; returns whether the current pair is the files' content.
  bool Refresh();
  // Called after each reload attempt with its outcome (metrics).
  void set_on_reload(std::function<void(bool ok)> f) { on_reload_ = std::move(f); }

 private:
  struct Pair;
  CertReloader() = default;
  static int CertCallback(SSL* ssl, void* arg);
  Status LoadLocked();
  std::string Fingerprint() const;

  std::string cert_file_, key_file_;
  std::mutex mu_;
  std::string fingerprint_;   // of the files at the last attempt
  bool last_ok_ = false;
  std::shared_ptr<Pair> current_;
  std::function<void(bool)> on_reload_;
};

}  // namespace confcom::webhook
