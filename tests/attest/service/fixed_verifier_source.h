// A VerifierSource for tests: one collateral bundle and one trust root, made once. It never
// fetches nor refreshes (the daemon's CollateralCache does, src/attest/collateral).
// Thread safety: immutable after Create(); VerifierFor() may run on any number of threads.
#pragma once

#include <memory>

#include "attest/collateral/verifier_source.h"
#include "pki/x509.h"
#include "verify/collateral.h"

namespace confcom::attest {

class FixedVerifierSource : public VerifierSource {
 public:
  // `simulated_root`: `root` is a simulated platform's (tokens say so). Errors: those of
  // verify::QuoteVerifier::Create (collateral that does not parse).
  static Result<std::unique_ptr<FixedVerifierSource>> Create(verify::Collateral collateral,
                                                             const pki::Certificate& root,
                                                             bool simulated_root);
  // Returns the one verifier (cache_hit true). Errors: NotFound when a TCB evaluation data
  // number other than the collateral's is asked for (the message names both).
  Result<PlatformVerifier> VerifierFor(ByteSpan quote,
                                       std::optional<uint32_t> tcb_evaluation_data_number) override;

 private:
  FixedVerifierSource() = default;
  PlatformVerifier verifier_;
  long tcb_evaluation_data_number_ = 0;
};

}  // namespace confcom::attest
