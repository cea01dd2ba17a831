#include "aesm/protocol.h"

#include <string>

namespace confcom::aesm {

const char* AesmErrorName(AesmError e) {
  switch (e) {
    case AesmError::kSuccess: return "SUCCESS";
    case AesmError::kUnexpected: return "UNEXPECTED_ERROR";
    case AesmError::kNoDevice: return "NO_DEVICE_ERROR";
    case AesmError::kParameter: return "PARAMETER_ERROR";
    case AesmError::kNetworkError: return "NETWORK_ERROR";
    case AesmError::kFileAccessError: return "FILE_ACCESS_ERROR";
    case AesmError::kMsgError: return "MSG_ERROR";
    case AesmError::kEcdsaIdMismatch: return "ECDSA_ID_MISMATCH";
    case AesmError::kPathnameBufferOverflow: return "PATHNAME_BUFFER_OVERFLOW_ERROR";
    case AesmError::kErrorStoredKey: return "ERROR_STORED_KEY";
    case AesmError::kPubKeyIdMismatch: return "PUB_KEY_ID_MISMATCH";
    case AesmError::kInvalidPceSigScheme: return "INVALID_PCE_SIG_SCHEME";
    case AesmError::kAttKeyBlobError: return "ATT_KEY_BLOB_ERROR";
    case AesmError::kUnsupportedLoadingPolicy: return "UNSUPPORTED_LOADING_POLICY";
    case AesmError::kInterfaceUnavailable: return "INTERFACE_UNAVAILABLE";
    case AesmError::kPlatformLibUnavailable: return "PLATFORM_LIB_UNAVAILABLE";
    case AesmError::kEnclaveLost: return "ENCLAVE_LOST";
    case AesmError::kBusy: return "BUSY";
    case AesmError::kOutOfMemory: return "OUT_OF_MEMORY_ERROR";
    case AesmError::kOutOfEpc: return "OUT_OF_EPC";
    case AesmError::kServiceUnavailable: return "SERVICE_UNAVAILABLE";
    case AesmError::kUnsupportedAttKeyId: return "UNSUPPORTED_ATT_KEY_ID";
    case AesmError::kAttKeyNotInitialized: return "ATT_KEY_NOT_INITIALIZED";
    case AesmError::kAttKeyCertDataInvalid: return "ATT_KEY_CERT_DATA_INVALID";
    case AesmError::kNoPlatformCertData: return "NO_PLATFORM_CERT_DATA";
    case AesmError::kErrorReport: return "ERROR_REPORT";
    case AesmError::kInvalidReport: return "INVALID_REPORT";
    case AesmError::kEnclaveLoadError: return "ENCLAVE_LOAD_ERROR";
    case AesmError::kUnableToGenerateQeReport: return "UNABLE_TO_GENERATE_QE_REPORT";
    case AesmError::kKeyCertificationError: return "KEY_CERTIFICATION_ERROR";
  }
  return "UNKNOWN_AESM_ERROR";
}

const char* RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kInitQuote: return "InitQuote";
    case RequestKind::kGetQuote: return "GetQuote";
    case RequestKind::kGetLaunchToken: return "GetLaunchToken";
    case RequestKind::kReportAttestationError: return "ReportAttestationError";
    case RequestKind::kGetWhiteListSize: return "GetWhiteListSize";
    case RequestKind::kGetWhiteList: return "GetWhiteList";
    case RequestKind::kGetExtendedEpidGroupId: return "GetExtendedEpidGroupId";
    case RequestKind::kSwitchExtendedEpidGroup: return "SwitchExtendedEpidGroup";
    case RequestKind::kRegister: return "Register";
    case RequestKind::kInitQuoteEx: return "InitQuoteEx";
    case RequestKind::kGetQuoteSizeEx: return "GetQuoteSizeEx";
    case RequestKind::kGetQuoteEx: return "GetQuoteEx";
    case RequestKind::kCheckUpdateStatus: return "CheckUpdateStatus";
    case RequestKind::kSelectAttKeyId: return "SelectAttKeyID";
    case RequestKind::kGetSupportedAttKeyIdNum: return "GetSupportedAttKeyIDNum";
    case RequestKind::kGetSupportedAttKeyIds: return "GetSupportedAttKeyIDs";
  }
  return "Unknown";
}

Result<RequestKind> Classify(const message::Request& r) {
  int count = 0;
  RequestKind kind{};
  auto check = [&](bool has, RequestKind k) {
    if (has) {
      ++count;
      kind = k;
    }
  };
  check(r.has_initquotereq(), RequestKind::kInitQuote);
  check(r.has_getquotereq(), RequestKind::kGetQuote);
  check(r.has_getlictokenreq(), RequestKind::kGetLaunchToken);
  check(r.has_reporterrreq(), RequestKind::kReportAttestationError);
  check(r.has_getwhitelistsizereq(), RequestKind::kGetWhiteListSize);
  check(r.has_getwhitelistreq(), RequestKind::kGetWhiteList);
  check(r.has_sgxgetextendedepidgroupidreq(), RequestKind::kGetExtendedEpidGroupId);
  check(r.has_sgxswitchextendedepidgroupreq(), RequestKind::kSwitchExtendedEpidGroup);
  check(r.has_sgxregisterreq(), RequestKind::kRegister);
  check(r.has_initquoteexreq(), RequestKind::kInitQuoteEx);
  check(r.has_getquotesizeexreq(), RequestKind::kGetQuoteSizeEx);
  check(r.has_getquoteexreq(), RequestKind::kGetQuoteEx);
  check(r.has_checkupdatestatusreq(), RequestKind::kCheckUpdateStatus);
  check(r.has_selectattkeyidreq(), RequestKind::kSelectAttKeyId);
  check(r.has_getsupportedattkeyidnumreq(), RequestKind::kGetSupportedAttKeyIdNum);
  check(r.has_getsupportedattkeyidsreq(), RequestKind::kGetSupportedAttKeyIds);
  if (count == 0) return Status::InvalidArgument("request carries no known message");
  if (count > 1) {
    return Status::InvalidArgument("request carries " + std::to_string(count) +
                                   " messages; exactly one is allowed");
  }
  return kind;
}

}  // namespace confcom::aesm
