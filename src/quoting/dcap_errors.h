// Intel DCAP's quote3_error_t codes, their names, and the aesm_error_t an Intel client
// understands for each (aesmd's own table for the ECDSA path, plus the out-of-proc codes).
#pragma once

#include <cstdint>
#include <string>

#include "aesm/protocol.h"

namespace confcom::quoting {

inline constexpr uint32_t kQlSuccess = 0x0000;
inline constexpr uint32_t kQlErrorUnexpected = 0xE001;
inline constexpr uint32_t kQlErrorInvalidParameter = 0xE002;
inline constexpr uint32_t kQlNoPlatformCertData = 0xE011;
inline constexpr uint32_t kQlOutOfEpc = 0xE012;
inline constexpr uint32_t kQlEnclaveLoadError = 0xE016;
inline constexpr uint32_t kQlUnableToGenerateQeReport = 0xE017;
inline constexpr uint32_t kQlNoDevice = 0xE03F;
inline constexpr uint32_t kQlServiceUnavailable = 0xE040;
inline constexpr uint32_t kQlErrorBusy = 0xE043;

// "SGX_QL_ENCLAVE_LOAD_ERROR" etc.; "quote3_error_t 0x...." for codes we do not name.
std::string Quote3ErrorName(uint32_t code);
// The aesm_error_t aesmd answers for `code`; UNEXPECTED for codes without a row. Both are pure.
aesm::AesmError MapQuote3Error(uint32_t code);

}  // namespace confcom::quoting
