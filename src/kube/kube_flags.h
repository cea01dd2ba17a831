// The command-line flags that say how to reach the Kubernetes API server, defined once for
// every program that talks to it (CLI11, header-only like common/daemon_flags.h): in cluster
// the pod's service account (default), out of cluster a kubeconfig file and context.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "kube/credentials.h"

namespace confcom::kube {

struct KubeFlags {
  std::string kubeconfig;  // --kubeconfig: empty = in cluster
  std::string context;     // --kube-context: empty = the kubeconfig's current-context
  std::string serviceaccount_dir = kServiceAccountDir;  // --serviceaccount-dir
};

// Adds --kubeconfig, --kube-context and --serviceaccount-dir to `app`, writing into `*flags`
// (which must outlive the parse). `when`, if not empty, starts each help text with the
// condition under which the flag matters ("With --register-epc" gives "With --register-epc
// out of cluster: ..."); empty gives "Out of cluster: ...". Call while building `app`, from
// the thread that parses it.
inline void AddKubeFlags(CLI::App& app, KubeFlags* flags, std::string_view when = "") {
  const std::string w(when);
  app.add_option("--kubeconfig", flags->kubeconfig,
                 (w.empty() ? "Out" : w + " out") +
                     " of cluster: kubectl's config file (default: the pod's service account)");
  app.add_option("--kube-context", flags->context,
                 "With --kubeconfig: the context to use (default: current-context)");
  app.add_option("--serviceaccount-dir", flags->serviceaccount_dir,
                 (w.empty() ? "In" : w + " in") +
                     " cluster: folder of the service account's token and ca.crt")
      ->capture_default_str();
}

// Returns the credentials the flags name: the kubeconfig's context when --kubeconfig is given,
// else the service account in --serviceaccount-dir with KUBERNETES_SERVICE_HOST/PORT from the
// environment. Errors as FromKubeconfig and InClusterFromEnv (InvalidArgument saying what is
// missing, Unsupported for exec plugins). Reads files and the environment; thread-safe.
inline Result<Credentials> CredentialsFromFlags(const KubeFlags& flags) {
  return flags.kubeconfig.empty() ? InClusterFromEnv(flags.serviceaccount_dir)
                                  : FromKubeconfig(flags.kubeconfig, flags.context);
}

}  // namespace confcom::kube
