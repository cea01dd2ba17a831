// `sgx-webhook certgen`: the built-in alternative to cert-manager, run as a Job. It makes a CA
// and a serving certificate for the webhook Service, keeps them in a kubernetes.io/tls Secret
// and sets the caBundle of every webhook of the two webhook configurations through the API
// server. See certgen_run.h for what it does and docs/webhook-deployment.md.
#pragma once

namespace confcom::webhook {

// argv[0] is "certgen" (the subcommand); the flags follow. Returns 0 on success, 1 on failure,
// 2 on a usage error (after printing it); --help and --version print and return 0.
int RunCertgen(int argc, char** argv);

}  // namespace confcom::webhook
