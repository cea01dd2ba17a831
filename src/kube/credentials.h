// Where the Kubernetes API server is and how to prove who we are: from the pod's service
// account (in cluster) or from a kubeconfig file (kubectl's format), as client-go does.
//
// In cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host is
// bracketed), the CA bundle <dir>/ca.crt and the bearer token <dir>/token, dir defaulting to
// /var/run/secrets/kubernetes.io/serviceaccount. The token file is named, not copied: the
// kubelet rotates it, so the client reads it for every request.
// Kubeconfig: the context named (or current-context), its cluster's server and CA
// (certificate-authority-data, base64 PEM, or certificate-authority, a file relative to the
// kubeconfig's folder), its user's token, tokenFile, or client certificate and key (-data or
// file). Refused with a clear error: insecure-skip-tls-verify (TLS is always verified), a
// server that is not https://, exec and auth-provider plugins (not supported), a missing CA.
// Nothing here is logged; Describe() names the server and the kind of credential only.
#pragma once

#include <string>

#include "common/status.h"

namespace confcom::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct Credentials {
  std::string server;           // "https://host:port", no trailing slash
  std::string ca_pem;           // the CA bundle that must sign the server's certificate
  std::string token;            // bearer token, or
  std::string token_file;       //   a file holding it (read per request)
  std::string client_cert_pem;  // or a client certificate and its key
  std::string client_key_pem;
  std::string source;           // "in-cluster" or "kubeconfig <path> context <name>"

  std::string Describe() const;
};

// `host`/`port` as read from the environment (empty = unset).
Result<Credentials> InCluster(const std::string& host, const std::string& port,
                              const std::string& dir = kServiceAccountDir);
// Reads KUBERNETES_SERVICE_HOST/PORT from the environment.
Result<Credentials> InClusterFromEnv(const std::string& dir = kServiceAccountDir);
Result<Credentials> FromKubeconfig(const std::string& path, const std::string& context = "");

// The token to send now: `token`, or the trimmed contents of `token_file`.
Result<std::string> BearerToken(const Credentials& c);

}  // namespace confcom::kube
