// `sgx-webhook certgen`: the built-in certificate Job (a CA and a serving certificate in a
// Secret, and the caBundle of both webhook configurations patched through the API server).
//
// Contract with src/webhook/main.cc: main calls RunCertgen with the arguments from the
// subcommand on, so argv[0] is "certgen" and argv[1..argc-1] are its flags. It returns the
// process exit code: 0 success, 1 failure, 2 usage error (it prints its own --help). The
// implementation and its CMakeLists.txt (library target confcom_webhook_certgen) live beside
// this header; without them sgx-webhook says "certgen is not built".
#pragma once

namespace confcom::webhook {

// Call from main's thread only: it sets up the process's logging and prints to stdout.
int RunCertgen(int argc, char** argv);

}  // namespace confcom::webhook
