// Where sgx-attest gets a quote verifier: the one for the platform that made the quote (its
// FMSPC and PCK CA, read from the quote's PCK certificate), built from collateral that is
// current, under the TCB baseline the policy asks for. CollateralCache (collateral_cache.h)
// fetches it from a PCCS or reads it from files; tests use a fixed one.
// Thread safety: implementations must allow VerifierFor() from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "verify/collateral.h"
#include "verify/verifier.h"

namespace confcom::attest {

struct PlatformVerifier {
  std::shared_ptr<const verify::QuoteVerifier> verifier;
  // The collateral the verifier was made from (x-ms-sgx-collateral hashes its documents).
  std::shared_ptr<const verify::Collateral> collateral;
  // The trust anchor is a --trust-root (a simulated platform's root), not Intel's root.
  bool simulated_root = false;
  // Served from the cache without a fetch (for the metrics).
  bool cache_hit = false;
};

class VerifierSource {
 public:
  virtual ~VerifierSource() = default;
  // Returns the verifier for the platform that made `quote`, with collateral under the TCB
  // evaluation data number `tcb_evaluation_data_number` (nullopt: the newest the source has).
  // Errors: InvalidArgument (the quote or its PCK certificate cannot be read, or does not
  // chain to the trust root; says what),
  // NotFound (no collateral for this FMSPC or number), Unavailable (the PCCS cannot be reached
  // and nothing usable is cached; names the URL).
  virtual Result<PlatformVerifier> VerifierFor(
      ByteSpan quote, std::optional<uint32_t> tcb_evaluation_data_number) = 0;
  // Returns Ok when the source can serve (for /readyz); must not block.
  virtual Status Ready() const { return Status::Ok(); }
};

}  // namespace confcom::attest
