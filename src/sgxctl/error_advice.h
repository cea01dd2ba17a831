// One-line causes and fixes for the SGX/DCAP error codes operators meet most: sgx_status_t
// (0x0001-0x8fff, what apps get from libsgx_quote_ex), quote3_error_t (0xE0xx, DCAP's quote
// library and quote provider) and sgx_qcnl_error_t (0xB0xx, the QCNL inside Intel's quote
// provider, seen in its log). Names and meanings are Intel's (sgx_error.h,
// sgx_ql_lib_common.h, sgx_default_qcnl_wrapper.h); docs/troubleshooting.md has the same table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::sgxctl {

struct ErrorAdvice {
  uint32_t code;
  const char* name;   // Intel's enumerator name
  const char* cause;  // one line
  const char* fix;    // one line
};

// Every entry, by code; a static table, safe from any thread (as are all functions here).
const std::vector<ErrorAdvice>& AllErrorAdvice();
// The entry for `code`; nullptr for codes without advice.
const ErrorAdvice* FindErrorAdvice(uint32_t code);

// "0xe019", "E019", "e019", "0x4004", "4004" (SGX codes are always written in hex, so digits
// alone are read as hex), or an enumerator name ("SGX_QL_NETWORK_ERROR", any case).
// InvalidArgument for text that is neither.
Result<uint32_t> ParseErrorCode(const std::string& text);

// "0xE019 SGX_QL_NETWORK_ERROR\n  cause: …\n  fix:   …\n".
std::string RenderErrorAdvice(const ErrorAdvice& advice);

}  // namespace confcom::sgxctl
