#include "quoting/dcap_errors.h"

#include <cstdio>

namespace confcom::quoting {

namespace {

using aesm::AesmError;

struct Entry {
  uint32_t code;
  const char* name;
  AesmError aesm;
};

// quote3_error_t -> aesm_error_t as aesmd's ECDSA quote bundle maps them; codes aesmd leaves to
// its default (UNEXPECTED) but that an out-of-proc path can produce get their aesm twin.
constexpr Entry kTable[] = {
    {0x0000, "SGX_QL_SUCCESS", AesmError::kSuccess},
    {0xE001, "SGX_QL_ERROR_UNEXPECTED", AesmError::kUnexpected},
    {0xE002, "SGX_QL_ERROR_INVALID_PARAMETER", AesmError::kParameter},
    {0xE003, "SGX_QL_ERROR_OUT_OF_MEMORY", AesmError::kOutOfMemory},
    {0xE004, "SGX_QL_ERROR_ECDSA_ID_MISMATCH", AesmError::kEcdsaIdMismatch},
    {0xE005, "SGX_QL_PATHNAME_BUFFER_OVERFLOW_ERROR", AesmError::kPathnameBufferOverflow},
    {0xE006, "SGX_QL_FILE_ACCESS_ERROR", AesmError::kFileAccessError},
    {0xE007, "SGX_QL_ERROR_STORED_KEY", AesmError::kErrorStoredKey},
    {0xE008, "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH", AesmError::kPubKeyIdMismatch},
    {0xE009, "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME", AesmError::kInvalidPceSigScheme},
    {0xE00A, "SGX_QL_ATT_KEY_BLOB_ERROR", AesmError::kAttKeyBlobError},
    {0xE00B, "SGX_QL_UNSUPPORTED_ATT_KEY_ID", AesmError::kUnsupportedAttKeyId},
    {0xE00C, "SGX_QL_UNSUPPORTED_LOADING_POLICY", AesmError::kUnsupportedLoadingPolicy},
    {0xE00D, "SGX_QL_INTERFACE_UNAVAILABLE", AesmError::kInterfaceUnavailable},
    {0xE00E, "SGX_QL_PLATFORM_LIB_UNAVAILABLE", AesmError::kPlatformLibUnavailable},
    {0xE00F, "SGX_QL_ATT_KEY_NOT_INITIALIZED", AesmError::kAttKeyNotInitialized},
    {0xE010, "SGX_QL_ATT_KEY_CERT_DATA_INVALID", AesmError::kAttKeyCertDataInvalid},
    {0xE011, "SGX_QL_NO_PLATFORM_CERT_DATA", AesmError::kNoPlatformCertData},
    {0xE012, "SGX_QL_OUT_OF_EPC", AesmError::kOutOfEpc},
    {0xE013, "SGX_QL_ERROR_REPORT", AesmError::kErrorReport},
    {0xE014, "SGX_QL_ENCLAVE_LOST", AesmError::kEnclaveLost},
    {0xE015, "SGX_QL_INVALID_REPORT", AesmError::kInvalidReport},
    {0xE016, "SGX_QL_ENCLAVE_LOAD_ERROR", AesmError::kEnclaveLoadError},
    {0xE017, "SGX_QL_UNABLE_TO_GENERATE_QE_REPORT", AesmError::kUnableToGenerateQeReport},
    {0xE018, "SGX_QL_KEY_CERTIFCATION_ERROR", AesmError::kKeyCertificationError},
    {0xE019, "SGX_QL_NETWORK_ERROR", AesmError::kNetworkError},
    {0xE01A, "SGX_QL_MESSAGE_ERROR", AesmError::kMsgError},
    {0xE035, "SGX_QL_ERROR_INVALID_PRIVILEGE", AesmError::kUnexpected},
    {0xE03E, "SGX_QL_UNSUPPORTED_MODE", AesmError::kUnexpected},
    {0xE03F, "SGX_QL_NO_DEVICE", AesmError::kNoDevice},
    {0xE040, "SGX_QL_SERVICE_UNAVAILABLE", AesmError::kServiceUnavailable},
    {0xE041, "SGX_QL_NETWORK_FAILURE", AesmError::kNetworkError},
    {0xE042, "SGX_QL_SERVICE_TIMEOUT", AesmError::kServiceUnavailable},
    {0xE043, "SGX_QL_ERROR_BUSY", AesmError::kBusy},
    {0xE047, "SGX_QL_PLATFORM_UNKNOWN", AesmError::kNoPlatformCertData},
    {0xE049, "SGX_QL_CERTS_UNAVAILABLE", AesmError::kNoPlatformCertData},
};

const Entry* Find(uint32_t code) {
  for (const auto& e : kTable) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

}  // namespace

std::string Quote3ErrorName(uint32_t code) {
  if (const Entry* e = Find(code)) return e->name;
  char buf[40];
  std::snprintf(buf, sizeof buf, "quote3_error_t 0x%04X", code);
  return buf;
}

aesm::AesmError MapQuote3Error(uint32_t code) {
  const Entry* e = Find(code);
  return e != nullptr ? e->aesm : AesmError::kUnexpected;
}

}  // namespace confcom::quoting
