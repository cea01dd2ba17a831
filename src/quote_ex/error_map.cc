#include "quote_ex/error_map.h"

#include "quote_ex/sgx_uae_quote_ex.h"

#include <cstdio>

namespace confcom::quote_ex {

namespace {

// aesm_error_t values that only matter for the mapping.
enum : uint32_t {
  kEpidBlobError = 4,
  kEpidRevoked = 5,
  kNetworkError = 12,
  kNetworkBusy = 13,
  kProxySettingAssist = 14,
  kSgxProvisionFailed = 16,
  kServiceStopped = 17,
  kBackendServerBusy = 19,
  kUpdateAvailable = 20,
  kUnrecognizedPlatform = 31,
  kEnclaveLost = 46,
};

uint32_t Common(uint32_t e) {
  using aesm::AesmError;
  switch (e) {
    case uint32_t(AesmError::kSuccess): return SGX_SUCCESS;
    case kUpdateAvailable: return SGX_ERROR_UPDATE_NEEDED;
    case uint32_t(AesmError::kUnexpected): return SGX_ERROR_UNEXPECTED;
    case uint32_t(AesmError::kParameter): return SGX_ERROR_INVALID_PARAMETER;
    case kServiceStopped:
    case uint32_t(AesmError::kServiceUnavailable):
    case uint32_t(AesmError::kEnclaveLoadError):
    case kEnclaveLost: return SGX_ERROR_SERVICE_UNAVAILABLE;
    case uint32_t(AesmError::kOutOfMemory): return SGX_ERROR_OUT_OF_MEMORY;
    case uint32_t(AesmError::kBusy): return SGX_ERROR_BUSY;
    case kUnrecognizedPlatform: return SGX_ERROR_UNRECOGNIZED_PLATFORM;
    case kNetworkError:
    case kNetworkBusy:
    case kProxySettingAssist: return SGX_ERROR_NETWORK_FAILURE;
    case uint32_t(AesmError::kNoDevice): return SGX_ERROR_NO_DEVICE;
    default: return SGX_ERROR_UNEXPECTED;
  }
}

// The cases init_quote_ex and get_quote_ex share.
bool QuotingOverride(uint32_t e, uint32_t* out) {
  switch (e) {
    case kEpidBlobError: *out = SGX_ERROR_AE_INVALID_EPIDBLOB; return true;
    case kEpidRevoked: *out = SGX_ERROR_EPID_MEMBER_REVOKED; return true;
    case kBackendServerBusy: *out = SGX_ERROR_BUSY; return true;
    case kSgxProvisionFailed: *out = SGX_ERROR_UNEXPECTED; return true;
    case uint32_t(aesm::AesmError::kOutOfEpc): *out = SGX_ERROR_OUT_OF_EPC; return true;
    default: return false;
  }
}

}  // namespace

uint32_t MapAesmError(Call call, uint32_t e) {
  using aesm::AesmError;
  uint32_t common = Common(e);
  if (common != SGX_ERROR_UNEXPECTED || e == uint32_t(AesmError::kUnexpected)) return common;
  uint32_t out = common;
  switch (call) {
    case Call::kSelectAttKeyId:
      if (e == uint32_t(AesmError::kUnsupportedAttKeyId)) out = SGX_ERROR_UNSUPPORTED_ATT_KEY_ID;
      break;
    case Call::kInitQuoteEx:
      if (e == uint32_t(AesmError::kUnsupportedAttKeyId)) out = SGX_ERROR_UNSUPPORTED_ATT_KEY_ID;
      else if (e == uint32_t(AesmError::kKeyCertificationError))
        out = SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE;
      else if (e == uint32_t(AesmError::kNoPlatformCertData))
        out = SGX_ERROR_PLATFORM_CERT_UNAVAILABLE;
      else QuotingOverride(e, &out);
      break;
    case Call::kGetQuoteSizeEx:
    case Call::kGetQuoteEx:
      if (e == uint32_t(AesmError::kAttKeyNotInitialized)) out = SGX_ERROR_ATT_KEY_UNINITIALIZED;
      else if (e == uint32_t(AesmError::kAttKeyCertDataInvalid)) out = SGX_ERROR_UNEXPECTED;
      else if (e == uint32_t(AesmError::kUnsupportedAttKeyId))
        out = SGX_ERROR_UNSUPPORTED_ATT_KEY_ID;
      else if (call == Call::kGetQuoteEx) {
        if (e == uint32_t(AesmError::kErrorReport) || e == uint32_t(AesmError::kInvalidReport)) {
          out = SGX_ERROR_MAC_MISMATCH;
        } else if (e == uint32_t(AesmError::kUnableToGenerateQeReport)) {
          out = SGX_ERROR_UNEXPECTED;
        } else {
          QuotingOverride(e, &out);
        }
      }
      break;
    case Call::kGetSupportedAttKeyIdNum:
    case Call::kGetSupportedAttKeyIds: break;
  }
  return out;
}

uint32_t MapTransportError(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk: return SGX_SUCCESS;
    case Status::Code::kDeadlineExceeded: return SGX_ERROR_SERVICE_TIMEOUT;
    case Status::Code::kInvalidArgument: return SGX_ERROR_INVALID_PARAMETER;
    case Status::Code::kUnavailable: return SGX_ERROR_SERVICE_UNAVAILABLE;  // cannot connect
    default: return SGX_ERROR_UNEXPECTED;
  }
}

}  // namespace confcom::quote_ex

namespace confcom::quote_ex {

std::string SgxStatusName(uint32_t s) {
  switch (s) {
    case SGX_SUCCESS: return "SGX_SUCCESS";
    case SGX_ERROR_UNEXPECTED: return "SGX_ERROR_UNEXPECTED";
    case SGX_ERROR_INVALID_PARAMETER: return "SGX_ERROR_INVALID_PARAMETER";
    case SGX_ERROR_OUT_OF_MEMORY: return "SGX_ERROR_OUT_OF_MEMORY";
    case SGX_ERROR_OUT_OF_EPC: return "SGX_ERROR_OUT_OF_EPC";
    case SGX_ERROR_NO_DEVICE: return "SGX_ERROR_NO_DEVICE";
    case SGX_ERROR_MAC_MISMATCH: return "SGX_ERROR_MAC_MISMATCH";
    case SGX_ERROR_SERVICE_UNAVAILABLE: return "SGX_ERROR_SERVICE_UNAVAILABLE";
    case SGX_ERROR_SERVICE_TIMEOUT: return "SGX_ERROR_SERVICE_TIMEOUT";
    case SGX_ERROR_AE_INVALID_EPIDBLOB: return "SGX_ERROR_AE_INVALID_EPIDBLOB";
    case SGX_ERROR_EPID_MEMBER_REVOKED: return "SGX_ERROR_EPID_MEMBER_REVOKED";
    case SGX_ERROR_UPDATE_NEEDED: return "SGX_ERROR_UPDATE_NEEDED";
    case SGX_ERROR_NETWORK_FAILURE: return "SGX_ERROR_NETWORK_FAILURE";
    case SGX_ERROR_BUSY: return "SGX_ERROR_BUSY";
    case SGX_ERROR_UNRECOGNIZED_PLATFORM: return "SGX_ERROR_UNRECOGNIZED_PLATFORM";
    case SGX_ERROR_UNSUPPORTED_ATT_KEY_ID: return "SGX_ERROR_UNSUPPORTED_ATT_KEY_ID";
    case SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE: return "SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE";
    case SGX_ERROR_ATT_KEY_UNINITIALIZED: return "SGX_ERROR_ATT_KEY_UNINITIALIZED";
    case SGX_ERROR_INVALID_ATT_KEY_CERT_DATA: return "SGX_ERROR_INVALID_ATT_KEY_CERT_DATA";
    case SGX_ERROR_PLATFORM_CERT_UNAVAILABLE: return "SGX_ERROR_PLATFORM_CERT_UNAVAILABLE";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "SGX_ERROR_0x%04x", s);
      return buf;
    }
  }
}

}  // namespace confcom::quote_ex
