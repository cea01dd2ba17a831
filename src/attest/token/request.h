// The wire pieces of sgx-attest's attest routes, as Azure Attestation (MAA) defines them:
// the api-version check, the bodies of POST /attest/SgxEnclave and /attest/OpenEnclave, the
// base64 variants clients send, and MAA's error shape. docs/attest-api.md gives each rule with
// its source and where we knowingly differ from MAA.
// Thread safety: everything here is a pure function or a plain value.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace confcom::attest {

// Bounds on one request, checked after the server's own body limit. A DCAP quote with its
// PCK chain is ~4.6 KiB; 64 KiB leaves room for larger certification data. Runtime data is
// usually a key or a hash (MAA's samples: < 1 KiB); 32 KiB bounds what a token echoes back.
inline constexpr size_t kMaxQuoteBytes = 64 << 10;
inline constexpr size_t kMaxDataBytes = 32 << 10;
inline constexpr size_t kMaxDraftPolicyBytes = 64 << 10;
inline constexpr size_t kMaxNonceBytes = 1024;
inline constexpr int kMaxJsonDepth = 16;  // JSON runtime data nests a few levels (JWKs: 3)

// "2020-10-01", "2022-08-01" and any later date YYYY-MM-DD. Errors: NotFound (absent or
// empty), InvalidArgument (any other value; the message names it).
Status CheckApiVersion(std::optional<std::string_view> api_version);

// Base64 as clients send it: standard or URL-safe alphabet, with or without '=' padding.
// Errors: InvalidArgument "<what> is not base64: character N is 'c' (0xNN)" or a bad length.
Result<Bytes> DecodeBase64Any(std::string_view text, std::string_view what);
std::string Base64Encode(ByteSpan bytes);     // standard alphabet, padded (x5c)
std::string Base64UrlEncode(ByteSpan bytes);  // URL-safe, unpadded (JWS, x-ms-sgx-ehd)

enum class DataType { kBinary, kJson };

// runtimeData or initTimeData. `json` holds the parsed bytes when type is kJson.
struct AttestData {
  Bytes data;
  DataType type = DataType::kBinary;
  nlohmann::json json;
};

enum class EvidenceKind {
  kSgxQuote,           // POST /attest/SgxEnclave, member "quote"
  kOpenEnclaveReport,  // POST /attest/OpenEnclave, member "report" (16-byte header + quote)
};

struct AttestRequest {
  Bytes quote;  // the SGX quote; for kOpenEnclaveReport the header is already removed
  std::optional<AttestData> runtime_data;
  std::optional<AttestData> init_time_data;
  std::optional<std::string> draft_policy;  // draftPolicyForAttestation, as text
  std::optional<std::string> nonce;
};

// Parses an attest body. Member names match case-insensitively; null members, data that
// decodes to no bytes and an empty draft policy count as absent; an empty dataType means
// Binary; unknown members are ignored (as MAA does). Errors: InvalidArgument naming the
// member and what is wrong (not JSON with the byte offset, too deep, missing quote/report,
// wrong JSON type, bad base64, over a bound, unknown dataType, JSON data that does not parse).
Result<AttestRequest> ParseAttestRequest(std::string_view body, EvidenceKind kind);

// Open Enclave's oe_report_header_t (little-endian): uint32 version (1), uint32 report_type
// (2 = SGX remote), uint64 report_size, then report_size bytes of quote.
inline constexpr size_t kOpenEnclaveHeaderSize = 16;
// The quote inside an Open Enclave report. Errors: InvalidArgument (short, wrong version or
// type, size that disagrees with the bytes that follow).
Result<Bytes> QuoteFromOpenEnclaveReport(ByteSpan report);

// MAA's error body and status. MAA's troubleshooting guide gives the 400 codes
// (PolicyEvaluationError, InvalidParameter for quotes, collateral and the TCB baseline,
// PolicyParsingError, InvalidOperation) and 401 Unauthorized; docs/attest-api.md marks the
// others as ours.
enum class ApiErrorKind {
  kMissingApiVersion,    // 400 MissingApiVersionParameter
  kInvalidApiVersion,    // 400 InvalidApiVersionParameter
  kInvalidRequest,       // 400 InvalidParameter: body does not parse or breaks a bound
  kInvalidQuote,         // 400 InvalidParameter: the quote or its collateral does not verify
  kTcbRefused,           // 400 InvalidParameter: platform TCB below the baseline
  kRuntimeDataMismatch,  // 400 InvalidParameter: runtimeData/initTimeData hash mismatch
  kPolicyDenied,         // 400 PolicyEvaluationError: authorization rules denied
  kInvalidPolicy,        // 400 PolicyParsingError: draft or uploaded policy does not parse
  kInvalidOperation,     // 400 InvalidOperation: policy upload that is not a usable JWT
  kBodyTooLarge,         // 413 RequestEntityTooLarge
  kUnauthorized,         // 401 Unauthorized
  kForbidden,            // 403 Forbidden
  kNotFound,             // 404 NotFound
  kUnavailable,          // 503 ServiceUnavailable: collateral cannot be fetched
  kInternal,             // 500 InternalServerError
};

struct ApiError {
  int http_status = 500;
  std::string code;
  std::string message;
};

// The status and code of `kind` with `message`; pure.
ApiError MakeApiError(ApiErrorKind kind, std::string message);
// {"error":{"code":"...","message":"..."}}; never fails.
std::string ApiErrorBody(const ApiError& error);
// The error for a failed CheckApiVersion (NotFound -> missing, else invalid).
ApiError ApiVersionError(const Status& status);

}  // namespace confcom::attest
