// `sgx-webhook certgen` without the daemon around it: the tests run this process exactly as
// sgx-webhook's main runs the subcommand (argv[0] = "certgen").
#include "webhook/certgen/certgen.h"

int main(int argc, char** argv) {
  static char name[] = "certgen";
  argv[0] = name;
  return confcom::webhook::RunCertgen(argc, argv);
}
