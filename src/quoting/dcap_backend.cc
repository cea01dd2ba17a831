#include "quoting/dcap_backend.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <spdlog/spdlog.h>

#include "quoting/dcap_errors.h"
#include "sgx/quote_v3.h"

namespace confcom::quoting {

namespace {

constexpr int kPersistentPolicy = 0;  // SGX_QL_PERSISTENT

QuoteError Err(uint32_t code, const std::string& what) {
  return {MapQuote3Error(code), what + " failed: " + Quote3ErrorName(code)};
}

}  // namespace

Result<std::unique_ptr<DcapBackend>> DcapBackend::Create(const DcapOptions& options) {
  std::unique_ptr<DcapBackend> b(new DcapBackend());
  b->options_ = options;
  if (std::getenv("SGX_AESM_ADDR") != nullptr) {
    ::unsetenv("SGX_AESM_ADDR");
    b->removed_aesm_addr_ = true;
    spdlog::warn(
        "SGX_AESM_ADDR was set in the helper's environment: removed it before loading {}, which "
        "would otherwise send every quote request back to this very service",
        options.library_path);
  }
  b->handle_ = ::dlopen(options.library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (b->handle_ == nullptr) {
    return Status::NotFound(std::string("cannot load the DCAP quote library: ") + ::dlerror());
  }
  auto sym = [&](const char* name) { return ::dlsym(b->handle_, name); };
  struct Required {
    const char* name;
    void** slot;
  } required[] = {
      {"sgx_qe_set_enclave_load_policy", reinterpret_cast<void**>(&b->fns_.set_policy)},
      {"sgx_qe_get_target_info", reinterpret_cast<void**>(&b->fns_.target_info)},
      {"sgx_qe_get_quote_size", reinterpret_cast<void**>(&b->fns_.quote_size)},
      {"sgx_qe_get_quote", reinterpret_cast<void**>(&b->fns_.get_quote)},
      {"sgx_qe_cleanup_by_policy", reinterpret_cast<void**>(&b->fns_.cleanup)},
  };
  for (const auto& r : required) {
    *r.slot = sym(r.name);
    if (*r.slot == nullptr) {
      return Status::InvalidArgument(options.library_path + " lacks " + r.name +
                                     ": not a DCAP quote library (libsgx_dcap_ql.so.1)?");
    }
  }
  b->fns_.get_quote_with_report = reinterpret_cast<GetQuoteWithReportFn>(sym("sgx_ql_get_quote"));
  spdlog::info("loaded {}; QE report for apps (qe_report_info): {}", options.library_path,
               b->offers_qe_report() ? "available (sgx_ql_get_quote)"
                                     : "NOT available: this library exports no sgx_ql_get_quote");

  if (uint32_t rc = b->fns_.set_policy(kPersistentPolicy); rc != kQlSuccess) {
    return Status::Unavailable("sgx_qe_set_enclave_load_policy(PERSISTENT) failed: " +
                               Quote3ErrorName(rc));
  }
  uint8_t ti[sgx::TargetInfo::kSize] = {};
  if (uint32_t rc = b->fns_.target_info(ti); rc != kQlSuccess) {
    return Status::Unavailable(
        "the quoting enclave does not start: sgx_qe_get_target_info failed: " +
        Quote3ErrorName(rc));
  }
  return b;
}

DcapBackend::~DcapBackend() {
  if (handle_ != nullptr) {
    if (fns_.cleanup != nullptr) fns_.cleanup();
    ::dlclose(handle_);
  }
}

std::vector<sgx::AttKeyId> DcapBackend::SupportedKeyIds() const {
  return {sgx::EcdsaP256AttKeyId()};
}

template <typename Fn>
QuoteResult<uint32_t> DcapBackend::Serialized(const char* what, Fn call) {
  if (waiting_.fetch_add(1) >= options_.max_waiting) {
    waiting_.fetch_sub(1);
    return QuoteError{aesm::AesmError::kBusy, std::string(what) + ": " +
                                                  std::to_string(options_.max_waiting) +
                                                  " requests already wait for the quoting enclave"};
  }
  std::lock_guard<std::mutex> lock(library_mu_);
  waiting_.fetch_sub(1);
  return call();
}

QuoteResult<InitInfo> DcapBackend::Init(const sgx::AttKeyId&) {
  uint8_t ti[sgx::TargetInfo::kSize] = {};
  auto rc = Serialized("sgx_qe_get_target_info", [&] { return fns_.target_info(ti); });
  if (!rc.ok()) return rc.error();
  if (*rc != kQlSuccess) return Err(*rc, "sgx_qe_get_target_info");
  InitInfo info;
  info.qe_target_info = *sgx::TargetInfo::Decode(ti);
  std::lock_guard<std::mutex> lock(pub_key_mu_);
  info.pub_key_id = pub_key_id_;
  return info;
}

QuoteResult<uint32_t> DcapBackend::QuoteSize(const sgx::AttKeyId&) {
  uint32_t size = 0;
  auto rc = Serialized("sgx_qe_get_quote_size", [&] { return fns_.quote_size(&size); });
  if (!rc.ok()) return rc.error();
  if (*rc != kQlSuccess) return Err(*rc, "sgx_qe_get_quote_size");
  return size;
}

QuoteResult<Bytes> DcapBackend::Quote(ByteSpan app_report, const sgx::AttKeyId& key_id,
                                      sgx::QeReportInfo* qe_report_info) {
  if (app_report.size() != sgx::Report::kSize) {
    return QuoteError{aesm::AesmError::kParameter, "report must be 432 bytes"};
  }
  if (qe_report_info != nullptr && !offers_qe_report()) {
    return QuoteError{aesm::AesmError::kUnableToGenerateQeReport,
                      "qe_report_info requested, but " + options_.library_path +
                          " offers no QE report for apps (no sgx_ql_get_quote); call without it"};
  }
  Bytes quote;
  std::array<uint8_t, sgx::QeReportInfo::kSize> info_bytes{};
  if (qe_report_info != nullptr) info_bytes = qe_report_info->Encode();
  auto rc = Serialized("sgx_qe_get_quote", [&]() -> uint32_t {
    uint32_t size = 0;
    if (uint32_t r = fns_.quote_size(&size); r != kQlSuccess) return r;
    if (size == 0 || size > (1u << 20)) return kQlErrorUnexpected;
    quote.assign(size, 0);
    if (qe_report_info != nullptr) {
      return fns_.get_quote_with_report(app_report.data(), key_id.data(), info_bytes.data(),
                                        quote.data(), size);
    }
    return fns_.get_quote(app_report.data(), size, quote.data());
  });
  if (!rc.ok()) return rc.error();
  if (*rc != kQlSuccess) return Err(*rc, qe_report_info ? "sgx_ql_get_quote" : "sgx_qe_get_quote");
  if (qe_report_info != nullptr) {
    auto decoded = sgx::QeReportInfo::Decode(info_bytes);
    if (!decoded.ok()) return QuoteError{aesm::AesmError::kUnexpected, decoded.status().message()};
    *qe_report_info = *decoded;
  }
  // Learn DCAP's ECDSA id (the QE report's binding hash) and trim the buffer to the quote.
  if (auto parsed = sgx::ParseQuoteV3(quote); parsed.ok()) {
    std::lock_guard<std::mutex> lock(pub_key_mu_);
    std::copy_n(parsed->quote.qe_report.report_data.begin(), 32, pub_key_id_.begin());
    quote.resize(parsed->quote.EncodedSize());
  }
  return quote;
}

}  // namespace confcom::quoting
