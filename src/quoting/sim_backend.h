// The simulated platform's quoting backend: produces byte-exact DCAP v3 ECDSA quotes with the
// simulated PKI of a SimPlatform, for app reports made with the SDK's simulation-mode EREPORT.
//
// Per quote it checks the report MAC (both SDK key-derivation layouts), then signs
// header ‖ app report body with the attestation key. What follows the signature depends only on
// the TCB profile (the report's CPUSVN), so it is built once per profile at construction, as
// QE3 certifies its key once (docs/simulation.md).
#pragma once

#include <vector>

#include "quoting/backend.h"
#include "sim/platform.h"

namespace confcom::quoting {

// Immutable after Create(): every method may run on many threads at once.
class SimBackend final : public QuotingBackend {
 public:
  // Builds the per-profile quote templates. Errors: a signing failure, or Corruption when the
  // platform's PCK certificates differ in length (quotes would not all have QuoteSize()).
  static Result<std::unique_ptr<SimBackend>> Create(sim::SimPlatform platform);

  std::string_view name() const override { return "sim"; }
  bool simulated() const override { return true; }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override;
  QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) override;
  QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) override;
  QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                           sgx::QeReportInfo* qe_report_info) override;

  // Init() and QuoteSize() never fail; Quote() fails with INVALID_REPORT for a report whose MAC
  // is wrong, PARAMETER for one that is malformed, UNABLE_TO_GENERATE_QE_REPORT or UNEXPECTED.
  const sim::SimPlatform& platform() const { return platform_; }
  // The 32 bytes 0x00..0x1f, as Intel's QE3 uses.
  static Bytes QeAuthData();

 private:
  explicit SimBackend(sim::SimPlatform platform) : platform_(std::move(platform)) {}

  sim::SimPlatform platform_;
  sgx::TargetInfo target_info_;
  InitInfo init_info_;
  // One encoded quote per TCB profile with a zero app report and signature: a template.
  std::vector<Bytes> templates_;
  uint32_t quote_size_ = 0;  // every quote has exactly this size
};

}  // namespace confcom::quoting
