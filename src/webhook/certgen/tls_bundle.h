// The webhook's TLS material: a CA (ECDSA P-256, self-signed, pathlen 0) and a serving
// certificate it signs for the Service's DNS names (SAN dNSName, extendedKeyUsage serverAuth),
// all PEM, issued by pki (pki::TlsCaSpec, pki::TlsServerSpec); and the check that decides
// whether a stored bundle can be kept.
// The CA's private key is not kept anywhere: renewal makes a new CA (certgen_run.h orders the
// caBundle and Secret updates so that both the old and the new certificate verify meanwhile).
// Thread safety: every function is thread-safe (no shared state).
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::webhook::certgen {

struct TlsBundle {
  std::string ca_crt;   // PEM: the CA certificate(s) that sign tls_crt
  std::string tls_crt;  // PEM: the serving certificate
  std::string tls_key;  // PEM (PKCS#8): its private key. Never log it.
};

// Returns "<service>.<namespace>.svc" and "<service>.<namespace>.svc.cluster.local": the names
// the API server uses to call a webhook Service (the first) and the cluster-local FQDN.
std::vector<std::string> ServiceDnsNames(const std::string& service, const std::string& ns);

// Returns a new CA valid from `now` - 1 h (clock skew) for `ca_validity`, and a serving
// certificate for `dns_names` (the first is also its CN) valid for `cert_validity`, never
// beyond the CA.
// Errors: InvalidArgument (no name, a name not [a-zA-Z0-9.-], or cert_validity not in
// (0, ca_validity]), Internal (OpenSSL).
Result<TlsBundle> GenerateBundle(const std::vector<std::string>& dns_names, std::time_t now,
                                 std::chrono::seconds ca_validity,
                                 std::chrono::seconds cert_validity);

// OK when all three parse, tls_key is tls_crt's key, tls_crt (with any intermediates after it)
// chains to a CA in ca_crt and is valid at `now` for serverAuth, it names every one of
// `dns_names`, and both it and the CA that issued it stay valid for at least `renew_before`
// after `now`. Otherwise the reason, never containing key material: Corruption (something
// does not parse, or the key is not the certificate's), InvalidArgument (no chain, a name
// missing), DeadlineExceeded (expires within `renew_before`).
Status CheckBundle(const TlsBundle& bundle, const std::vector<std::string>& dns_names,
                   std::time_t now, std::chrono::seconds renew_before);

// Returns the notAfter of the first certificate in `pem` (0 if none parses); for log lines.
std::time_t NotAfter(const std::string& pem);

}  // namespace confcom::webhook::certgen
