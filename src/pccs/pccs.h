// A PCCS-compatible collateral endpoint for the simulated platform (Intel's PCCS API v4
// paths and issuer-chain headers), and the client side that fetches collateral from any PCCS.
//
// Served (GET):
//   /sgx/certification/v4/tcb?fmspc=<12 hex>     TCB Info JSON; header TCB-Info-Issuer-Chain
//   /sgx/certification/v4/qe/identity            QE Identity JSON; SGX-Enclave-Identity-Issuer-Chain
//   /sgx/certification/v4/pckcrl?ca=processor    PCK CRL of that CA; SGX-PCK-CRL-Issuer-Chain
//   /sgx/certification/v4/pckcrl?ca=platform
//   /sgx/certification/v4/rootcacrl              Root CA CRL
// CRLs are DER unless encoding=pem. Issuer chains are URL-encoded PEM, as Intel sends them.
// An unknown FMSPC or CA, or an unknown path, is 404; a missing parameter is 400. A simulated
// platform's responses carry the header "Confcom-Simulated: true" (verifiers ignore it).
//
// Slow clients: kServerThreads workers, each freed after kReadTimeoutSeconds by a connection
// that sends no request (keep-alive connections after 1 s idle). Request lines are logged with
// control characters escaped, at most ~100 per second.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <ctime>
#include <string>

#include "pki/x509.h"
#include "sgx/types.h"
#include "verify/collateral.h"

namespace httplib {
class Server;
}

namespace confcom::pccs {

std::string PercentEncode(std::string_view s);
Result<std::string> PercentDecode(std::string_view s);

inline constexpr size_t kServerThreads = 32;
inline constexpr time_t kReadTimeoutSeconds = 2;

class PccsServer {
 public:
  // `collateral` gives TCB Info, QE Identity and the Root CA CRL; `pck_crls` the PCK CRL of
  // each CA by its `ca` name ("platform", "processor").
  PccsServer(verify::Collateral collateral, sgx::Array<6> fmspc,
             std::map<std::string, verify::PckCrlBundle> pck_crls, bool simulated);
  ~PccsServer();

  // Binds `host:port` (port 0: any free port). Then Serve() blocks until Stop().
  Status Bind(const std::string& host, int port);
  int port() const { return port_; }
  Status Serve();
  void Stop();

 private:
  verify::Collateral collateral_;
  sgx::Array<6> fmspc_;
  std::map<std::string, verify::PckCrlBundle> pck_crls_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

// Fetches the collateral for `fmspc` from a PCCS at `base_url` (e.g. http://127.0.0.1:8081),
// with the PCK CRL of `ca`: the CA that issued the PCK certificate to be checked.
Result<verify::Collateral> FetchCollateral(const std::string& base_url, const sgx::Array<6>& fmspc,
                                           pki::PckCa ca);

}  // namespace confcom::pccs
