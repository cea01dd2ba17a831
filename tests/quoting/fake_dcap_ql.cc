// A test double of Intel's libsgx_dcap_ql.so.1: the same C symbols and buffer layouts, quotes
// made by confcom's simulated platform, and failures on demand.
//   FAKE_DCAP_STATE=DIR      state dir of the simulated platform (created on first use)
//   FAKE_DCAP_TRACE=FILE     append one line per call (and one at load) to FILE
//   FAKE_DCAP_FAIL=NAME=CODE make call NAME (e.g. get_quote) return quote3_error_t CODE (hex)
//   FAKE_DCAP_DELAY_MS=N     make get_quote take N ms
// Built three ways: complete; without sgx_ql_get_quote (no QE report for apps); without
// sgx_qe_get_quote (a broken library the backend must refuse).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "quoting/sim_backend.h"

namespace {

void Trace(const std::string& line) {
  if (const char* path = std::getenv("FAKE_DCAP_TRACE"))
    std::ofstream(path, std::ios::app) << line << "\n";
}

// The code to fail `name` with, or 0.
uint32_t Failure(const char* name) {
  const char* spec = std::getenv("FAKE_DCAP_FAIL");
  if (spec == nullptr) return 0;
  std::string s(spec);
  auto eq = s.find('=');
  if (eq == std::string::npos || s.substr(0, eq) != name) return 0;
  return uint32_t(std::stoul(s.substr(eq + 1), nullptr, 16));
}

confcom::quoting::SimBackend* Backend() {
  static std::mutex mu;
  static std::unique_ptr<confcom::quoting::SimBackend> backend;
  std::lock_guard<std::mutex> lock(mu);
  if (!backend) {
    const char* dir = std::getenv("FAKE_DCAP_STATE");
    auto platform = confcom::sim::SimPlatform::LoadOrCreate(dir ? dir : "/tmp/fake-dcap-state");
    if (!platform.ok()) return nullptr;
    auto b = confcom::quoting::SimBackend::Create(std::move(platform).value());
    if (!b.ok()) return nullptr;
    backend = std::move(b).value();
  }
  return backend.get();
}

constexpr uint32_t kUnexpected = 0xE001, kInvalidReport = 0xE015, kInvalidParameter = 0xE002;

uint32_t MakeQuote(const uint8_t* report, uint8_t* qe_report_info, uint8_t* quote, uint32_t size) {
  if (const char* delay = std::getenv("FAKE_DCAP_DELAY_MS")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
  }
  auto* b = Backend();
  if (b == nullptr) return kUnexpected;
  confcom::sgx::QeReportInfo info;
  if (qe_report_info != nullptr) info = *confcom::sgx::QeReportInfo::Decode({qe_report_info, 960});
  auto q =
      b->Quote({report, 432}, confcom::sgx::EcdsaP256AttKeyId(), qe_report_info ? &info : nullptr);
  if (!q.ok())
    return q.error().code == confcom::aesm::AesmError::kInvalidReport ? kInvalidReport
                                                                      : kUnexpected;
  if (q->size() > size) return kInvalidParameter;
  std::memcpy(quote, q->data(), q->size());
  if (qe_report_info != nullptr) {
    auto encoded = info.Encode();
    std::memcpy(qe_report_info, encoded.data(), encoded.size());
  }
  return 0;
}

__attribute__((constructor)) void OnLoad() {
  Trace(std::string("load aesm_addr=") + (std::getenv("SGX_AESM_ADDR") ? "set" : "unset"));
}

}  // namespace

extern "C" {

uint32_t sgx_qe_set_enclave_load_policy(int policy) {
  Trace("set_enclave_load_policy " + std::to_string(policy));
  return Failure("set_enclave_load_policy");
}

uint32_t sgx_qe_get_target_info(uint8_t* target_info) {
  Trace("get_target_info");
  if (uint32_t f = Failure("get_target_info")) return f;
  auto* b = Backend();
  if (b == nullptr) return kUnexpected;
  auto ti = b->Init(confcom::sgx::EcdsaP256AttKeyId())->qe_target_info.Encode();
  std::memcpy(target_info, ti.data(), ti.size());
  return 0;
}

uint32_t sgx_qe_get_quote_size(uint32_t* size) {
  Trace("get_quote_size");
  if (uint32_t f = Failure("get_quote_size")) return f;
  auto* b = Backend();
  if (b == nullptr) return kUnexpected;
  *size = *b->QuoteSize(confcom::sgx::EcdsaP256AttKeyId());
  return 0;
}

#ifndef FAKE_DCAP_OMIT_GET_QUOTE
uint32_t sgx_qe_get_quote(const uint8_t* report, uint32_t size, uint8_t* quote) {
  Trace("get_quote");
  if (uint32_t f = Failure("get_quote")) return f;
  return MakeQuote(report, nullptr, quote, size);
}
#endif

uint32_t sgx_qe_cleanup_by_policy() {
  Trace("cleanup_by_policy");
  return 0;
}

#ifndef FAKE_DCAP_NO_QE_REPORT
uint32_t sgx_ql_get_quote(const uint8_t* report, const uint8_t* /*att_key_id*/,
                          uint8_t* qe_report_info, uint8_t* quote, uint32_t size) {
  Trace("ql_get_quote");
  if (uint32_t f = Failure("get_quote")) return f;
  return MakeQuote(report, qe_report_info, quote, size);
}
#endif

}  // extern "C"
