// The serving certificate and key of an HTTPS daemon, reloaded when their files change
// (rotation: cert-manager or `sgx-webhook certgen` rewrite the Secret, the kubelet swaps the
// mounted files). At each TLS handshake the files are stat'ed (device, inode, size, mtime);
// after a change the pair is loaded (certificate file: leaf first, then its chain). A pair
// that does not load or does not match is refused and the previous one keeps serving, so the
// next handshake after a good rotation presents the new certificate. docs/https.md.
// Thread safety: every method may be called from any thread at once (one mutex).
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace confcom::https {

class CertReloader {
 public:
  // Loads the pair now. Errors (naming the flag --tls-cert-file or --tls-private-key-file and
  // the path, never key material): IoError (cannot open), InvalidArgument (no PEM certificate
  // or key in it, or the key is not the certificate's).
  static Result<std::unique_ptr<CertReloader>> Open(std::string cert_file, std::string key_file);
  ~CertReloader();

  // Makes every handshake on `ctx` present the current pair (an OpenSSL certificate
  // callback); the reloader must outlive ctx's use.
  void Install(SSL_CTX* ctx);
  // Reloads if the files changed since the last attempt (logging the outcome once per change);
  // returns whether the pair in use is the files' content (false: a broken rotation, the
  // previous pair serves).
  bool Refresh();
  // `f(ok)` is called after each reload attempt (e.g. a metric). Set it before serving.
  void set_on_reload(std::function<void(bool ok)> f) { on_reload_ = std::move(f); }

 private:
  struct Pair;
  CertReloader() = default;
  static int CertCallback(SSL* ssl, void* arg);
  Status LoadLocked();
  std::string Fingerprint() const;

  std::string cert_file_, key_file_;
  std::mutex mu_;
  std::string fingerprint_;  // of the files at the last attempt
  bool last_ok_ = false;
  std::shared_ptr<Pair> current_;
  std::function<void(bool)> on_reload_;
};

}  // namespace confcom::https
