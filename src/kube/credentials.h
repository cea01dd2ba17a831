// Where the Kubernetes API server is and how to prove who we are: from the pod's service
// account (in cluster) or from a kubeconfig file (kubectl's format), as client-go does.
//
// Refused: insecure-skip-tls-verify (TLS is always verified), a server that is not https://, a
// cluster without a CA, exec and auth-provider plugins. A token file is named, not copied (the
// kubelet rotates it). Nothing here is logged. What a kubeconfig may contain and where each
// field comes from: docs/kubernetes-api.md, "Credentials".
#pragma once

#include <string>

#include "common/status.h"

namespace confcom::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// A plain value: thread-compatible.
struct Credentials {
  std::string server;           // "https://host:port", no trailing slash
  std::string ca_pem;           // the CA bundle that must sign the server's certificate
  std::string token;            // bearer token, or
  std::string token_file;       //   a file holding it (read per request)
  std::string client_cert_pem;  // or a client certificate and its key
  std::string client_key_pem;
  std::string source;  // "in-cluster" or "kubeconfig <path> context <name>"

  // Returns "<server> (<source>, <kind of credential>)" for logs; never a secret.
  std::string Describe() const;
};

// Returns the in-cluster credentials: the server https://host:port, the CA <dir>/ca.crt and
// the token file <dir>/token. `host`/`port` as read from the environment (empty = unset).
// Errors: InvalidArgument when host or port is unset (not in a cluster), the CA cannot be
// read or the token file does not exist.
Result<Credentials> InCluster(const std::string& host, const std::string& port,
                              const std::string& dir = kServiceAccountDir);
// InCluster() with KUBERNETES_SERVICE_HOST/PORT read from the environment; same errors.
Result<Credentials> InClusterFromEnv(const std::string& dir = kServiceAccountDir);
// Returns the credentials of `context` (empty = current-context) in the kubeconfig at `path`.
// Errors: Unsupported for exec and auth-provider plugins; InvalidArgument for a file that
// cannot be read or parsed, a missing context, cluster, user, CA or credential, a server that
// is not https://, insecure-skip-tls-verify, or a client certificate without its key.
Result<Credentials> FromKubeconfig(const std::string& path, const std::string& context = "");

// Returns the token to send now: `token`, or the trimmed contents of `token_file` (read on
// every call). Errors: Unavailable when the file cannot be read, is empty or holds a byte outside
// visible ASCII (a CR or LF would add a header line); InvalidArgument for such an inline token.
Result<std::string> BearerToken(const Credentials& c);

}  // namespace confcom::kube
