#include "attest/service/fixed_verifier_source.h"

namespace confcom::attest {

Result<std::unique_ptr<FixedVerifierSource>> FixedVerifierSource::Create(
    verify::Collateral collateral, const pki::Certificate& root, bool simulated_root) {
  CONFCOM_ASSIGN_OR_RETURN(auto verifier, verify::QuoteVerifier::Create(collateral, root));
  std::unique_ptr<FixedVerifierSource> s(new FixedVerifierSource());
  s->tcb_evaluation_data_number_ = verifier->tcb_info().tcb_evaluation_data_number;
  s->verifier_.verifier = std::move(verifier);
  s->verifier_.collateral = std::make_shared<const verify::Collateral>(std::move(collateral));
  s->verifier_.simulated_root = simulated_root;
  s->verifier_.cache_hit = true;
  return s;
}

Result<PlatformVerifier> FixedVerifierSource::VerifierFor(
    ByteSpan, std::optional<uint32_t> tcb_evaluation_data_number) {
  if (tcb_evaluation_data_number &&
      long(*tcb_evaluation_data_number) != tcb_evaluation_data_number_) {
    return Status::NotFound("the collateral has TCB evaluation data number " +
                            std::to_string(tcb_evaluation_data_number_) + ", the policy asks for " +
                            std::to_string(*tcb_evaluation_data_number));
  }
  return verifier_;
}

}  // namespace confcom::attest
