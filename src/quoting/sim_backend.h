// The simulated platform's quoting backend: produces byte-exact DCAP v3 ECDSA quotes with the
// simulated PKI of a SimPlatform, for app reports made with the SDK's simulation-mode EREPORT.
//
// Per quote it checks the report MAC (both SDK key-derivation layouts), then signs
// header ‖ app report body with the attestation key. Everything after the signature — the
// attestation key, the QE report and its PCK signature, the QE authentication data and the
// PCK chain — depends only on the TCB profile (chosen by the report's CPUSVN), as on hardware
// where QE3 certifies its key once, so it is built once per profile at construction.
// Thread-safe: Quote() may run on many threads at once.
#pragma once

#include <vector>

#include "quoting/backend.h"
#include "sim/platform.h"

namespace confcom::quoting {

class SimBackend final : public QuotingBackend {
 public:
  static Result<std::unique_ptr<SimBackend>> Create(sim::SimPlatform platform);

  std::string_view name() const override { return "sim"; }
  bool simulated() const override { return true; }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override;
  QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) override;
  QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) override;
  QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                           sgx::QeReportInfo* qe_report_info) override;

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
