// The hardware quoting backend: Intel's DCAP quote library (libsgx_dcap_ql.so.1), loaded at
// run time with dlopen so confcom builds and runs without Intel's packages.
//
// Create() first removes SGX_AESM_ADDR from this process's environment (DCAP reads it when the
// library loads and would otherwise send every request back to our own socket), loads the
// library (every required symbol must be there), sets the persistent enclave load policy (QE3
// and PCE stay loaded) and asks for the QE's target info once, so a broken platform fails at
// start, not at the first app.
//
// DCAP's quoting is serialised inside the library (and aesmd holds a global lock too); we
// serialise calls here and bound the queue: a request that finds `max_waiting` others already
// waiting gets BUSY at once instead of waiting without end.
//
// qe_report_info: libsgx_dcap_ql's public API has no QE report for the app. When the loaded
// library also exports QE3 logic's sgx_ql_get_quote (which takes one), it is used; otherwise a
// request with qe_report_info gets UNABLE_TO_GENERATE_QE_REPORT with a message saying so.
// pub_key_id: DCAP does not expose it before a quote; it is learned from the first quote's QE
// report data (SHA-256(attestation key ‖ QE auth data)) and is all zeros until then.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "quoting/backend.h"

namespace confcom::quoting {

struct DcapOptions {
  std::string library_path;  // a path, or a name for the dynamic loader's search
  size_t max_waiting = 64;   // requests allowed to wait for the library
};

class DcapBackend final : public QuotingBackend {
 public:
  static Result<std::unique_ptr<DcapBackend>> Create(const DcapOptions& options);
  ~DcapBackend() override;

  std::string_view name() const override { return "dcap"; }
  bool simulated() const override { return false; }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override;
  QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) override;
  QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) override;
  QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                           sgx::QeReportInfo* qe_report_info) override;

  bool offers_qe_report() const { return fns_.get_quote_with_report != nullptr; }
  // Whether SGX_AESM_ADDR had to be removed from the environment.
  bool removed_aesm_addr() const { return removed_aesm_addr_; }

 private:
  using SetPolicyFn = uint32_t (*)(int);
  using TargetInfoFn = uint32_t (*)(uint8_t*);
  using QuoteSizeFn = uint32_t (*)(uint32_t*);
  using GetQuoteFn = uint32_t (*)(const uint8_t*, uint32_t, uint8_t*);
  using CleanupFn = uint32_t (*)();
  using GetQuoteWithReportFn = uint32_t (*)(const uint8_t*, const uint8_t*, uint8_t*, uint8_t*, uint32_t);
  struct Functions {
    SetPolicyFn set_policy = nullptr;
    TargetInfoFn target_info = nullptr;
    QuoteSizeFn quote_size = nullptr;
    GetQuoteFn get_quote = nullptr;
    CleanupFn cleanup = nullptr;
    GetQuoteWithReportFn get_quote_with_report = nullptr;  // optional
  };

  DcapBackend() = default;
  // Runs `call` under the library lock, or returns BUSY if too many are waiting.
  template <typename Fn>
  QuoteResult<uint32_t> Serialized(const char* what, Fn call);

  void* handle_ = nullptr;
  Functions fns_;
  DcapOptions options_;
  bool removed_aesm_addr_ = false;
  std::mutex library_mu_;
  std::atomic<size_t> waiting_{0};
  std::mutex pub_key_mu_;
  std::array<uint8_t, 32> pub_key_id_{};
};

}  // namespace confcom::quoting
