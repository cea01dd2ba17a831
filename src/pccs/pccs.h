// A PCCS-compatible collateral endpoint for the simulated platform (Intel's PCCS API v4
// paths and issuer-chain headers), and the client side that fetches collateral from any PCCS.
// Paths, headers, status codes, bounds and what the client requires: docs/dcap-quote.md,
// "PCCS API v4".
#pragma once

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pki/x509.h"
#include "sgx/types.h"
#include "verify/collateral.h"

namespace httplib {
class Server;
}

namespace confcom::pccs {

// Percent-encoding of issuer chains, as Intel sends them. PercentDecode: InvalidArgument for a
// '%' not followed by two hex digits. Both pure.
std::string PercentEncode(std::string_view s);
Result<std::string> PercentDecode(std::string_view s);

// Slow clients: kServerThreads workers, each freed after kReadTimeoutSeconds by a connection
// that sends no request (keep-alive connections after 1 s idle).
inline constexpr size_t kServerThreads = 32;
inline constexpr time_t kReadTimeoutSeconds = 2;

// Serves from its own worker threads; Stop() may be called from any thread, the rest from the
// owner's. Request lines are logged with control characters escaped, at most ~100 per second.
class PccsServer {
 public:
  // `collateral` gives TCB Info, QE Identity and the Root CA CRL; `pck_crls` the PCK CRL of
  // each CA by its `ca` name ("platform", "processor"). /tcb and /qe/identity answer
  // `tcbEvaluationDataNumber=N` with their document when N is its number, else 404.
  PccsServer(verify::Collateral collateral, sgx::Array<6> fmspc,
             std::map<std::string, verify::PckCrlBundle> pck_crls, bool simulated);
  ~PccsServer();

  // Binds `host:port` (port 0: any free port). IoError when the address cannot be bound.
  Status Bind(const std::string& host, int port);
  // The bound port (0 before Bind()).
  int port() const { return port_; }
  // Serves until Stop(); Ok then, IoError if the server stopped with an error.
  Status Serve();
  // Makes a running Serve() return; from any thread.
  void Stop();

 private:
  verify::Collateral collateral_;
  sgx::Array<6> fmspc_;
  std::map<std::string, verify::PckCrlBundle> pck_crls_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

// Where a PCCS's API v4 lives: the origin ("https://pccs:8081") and the path before each
// endpoint ("/sgx/certification/v4").
struct PccsEndpoint {
  std::string origin;
  std::string prefix;
};
// Reads a PCCS URL in either form: the base URL (`https://pccs:8081`, optional '/') or QCNL's
// pccs_url (`https://pccs:8081/sgx/certification/v4/`, also behind a path prefix). Pure.
// InvalidArgument naming both forms for any other URL, and for API v3 (confcom speaks v4).
Result<PccsEndpoint> ParsePccsUrl(std::string_view url);

// Fetches the collateral for `fmspc` from a PCCS at `url` (either form of ParsePccsUrl), with
// the PCK CRL of `ca`: the CA that issued the PCK certificate to be checked. With
// `tcb_evaluation_data_number`, TCB Info and QE Identity are asked for that number (API v4's
// `tcbEvaluationDataNumber`); nullopt: the PCCS's default. Errors: InvalidArgument for an
// unusable URL, a body over 1 MiB or a missing issuer-chain header; Unavailable when the PCCS
// does not answer or answers 429 or 5xx; NotFound for any other answer than 200 (404, 410, …).
Result<verify::Collateral> FetchCollateral(
    const std::string& url, const sgx::Array<6>& fmspc, pki::PckCa ca,
    std::optional<uint32_t> tcb_evaluation_data_number = std::nullopt);

}  // namespace confcom::pccs
