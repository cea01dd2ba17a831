// The hardware quoting backend: Intel's DCAP quote library (libsgx_dcap_ql.so.1), loaded at
// run time with dlopen so confcom builds and runs without Intel's packages. Calls into the
// library are serialised and the queue bounded (BUSY beyond `max_waiting`); a QE report for the
// app needs the library's sgx_ql_get_quote; pub_key_id is learned from the first quote. Why each
// of these, and what Create() checks at start: docs/hardware.md, "The DCAP backend".
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

// Thread-safe: calls into the library run one at a time under a lock; at most `max_waiting`
// callers wait for it.
class DcapBackend final : public QuotingBackend {
 public:
  // Removes SGX_AESM_ADDR from the environment, loads the library, sets the persistent enclave
  // load policy and asks for the QE's target info once. Errors: NotFound (library not loadable),
  // InvalidArgument (a required symbol missing), Unavailable (the QE does not start).
  static Result<std::unique_ptr<DcapBackend>> Create(const DcapOptions& options);
  ~DcapBackend() override;

  std::string_view name() const override { return "dcap"; }
  bool simulated() const override { return false; }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override;
  QuoteResult<InitInfo> Init(const sgx::AttKeyId& key_id) override;
  QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId& key_id) override;
  QuoteResult<Bytes> Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                           sgx::QeReportInfo* qe_report_info) override;

  // Errors of Init/QuoteSize/Quote: BUSY when `max_waiting` calls already wait, the library's
  // quote3_error_t mapped by MapQuote3Error(), PARAMETER for a report not 432 bytes,
  // UNABLE_TO_GENERATE_QE_REPORT for qe_report_info without sgx_ql_get_quote.
  // Whether the library exports sgx_ql_get_quote (a QE report for the app).
  bool offers_qe_report() const { return fns_.get_quote_with_report != nullptr; }
  // Whether SGX_AESM_ADDR had to be removed from the environment.
  bool removed_aesm_addr() const { return removed_aesm_addr_; }

 private:
  using SetPolicyFn = uint32_t (*)(int);
  using TargetInfoFn = uint32_t (*)(uint8_t*);
  using QuoteSizeFn = uint32_t (*)(uint32_t*);
  using GetQuoteFn = uint32_t (*)(const uint8_t*, uint32_t, uint8_t*);
  using CleanupFn = uint32_t (*)();
  using GetQuoteWithReportFn = uint32_t (*)(const uint8_t*, const uint8_t*, uint8_t*, uint8_t*,
                                            uint32_t);
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
