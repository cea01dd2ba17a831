// AESM protocol vocabulary: error codes on the wire (aesm_error_t), the kinds of request
// (the field number of the one sub-message a Request carries) and classification.
#pragma once

#include <cstdint>

#include "aesm/aesm.pb.h"
#include "common/status.h"

namespace confcom::aesm {

// The generated messages live in Intel's package, ::aesm::message.
namespace message = ::aesm::message;

// aesm_error_t values (the errorCode of every response).
enum class AesmError : uint32_t {
  kSuccess = 0,
  kUnexpected = 1,
  kNoDevice = 2,
  kParameter = 3,
  kNetworkError = 12,
  kFileAccessError = 15,
  kBusy = 18,
  kOutOfMemory = 21,
  kMsgError = 22,
  kOutOfEpc = 29,
  kServiceUnavailable = 30,
  kEcdsaIdMismatch = 32,
  kPathnameBufferOverflow = 33,
  kErrorStoredKey = 34,
  kPubKeyIdMismatch = 35,
  kInvalidPceSigScheme = 36,
  kAttKeyBlobError = 37,
  kUnsupportedAttKeyId = 38,
  kUnsupportedLoadingPolicy = 39,
  kInterfaceUnavailable = 40,
  kPlatformLibUnavailable = 41,
  kAttKeyNotInitialized = 42,
  kAttKeyCertDataInvalid = 43,
  kNoPlatformCertData = 44,
  kErrorReport = 45,
  kEnclaveLost = 46,
  kInvalidReport = 47,
  kEnclaveLoadError = 48,
  kUnableToGenerateQeReport = 49,
  kKeyCertificationError = 50,
};
// "SUCCESS", "BUSY_ERROR", …; "UNKNOWN_AESM_ERROR" for codes without a name. Pure, as is all
// of this file.
const char* AesmErrorName(AesmError e);

// A Request's kind is the field number of its sub-message.
enum class RequestKind : int {
  kInitQuote = 1,
  kGetQuote = 2,
  kGetLaunchToken = 3,
  kReportAttestationError = 4,
  kGetWhiteListSize = 10,
  kGetWhiteList = 11,
  kGetExtendedEpidGroupId = 12,
  kSwitchExtendedEpidGroup = 13,
  kRegister = 14,
  kInitQuoteEx = 15,
  kGetQuoteSizeEx = 16,
  kGetQuoteEx = 17,
  kCheckUpdateStatus = 18,
  kSelectAttKeyId = 19,
  kGetSupportedAttKeyIdNum = 21,
  kGetSupportedAttKeyIds = 22,
};
// "GetQuoteEx", …; "Unknown" for kinds without a name.
const char* RequestKindName(RequestKind kind);

// The kind of a parsed request. InvalidArgument when no known sub-message, or more than one, is
// set: such a request cannot be answered with a matching response field.
Result<RequestKind> Classify(const message::Request& request);

}  // namespace confcom::aesm
