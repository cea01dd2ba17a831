// attest_request_fuzzer: what reaches sgx-attest's POST /attest/SgxEnclave and
// /attest/OpenEnclave after the HTTPS layer (src/attest/token/request.h).
//
// Input: byte 0 bit 0 picks the route (SgxEnclave or OpenEnclave); the rest is the body. The
// whole input is also given to the api-version check, the base64 decoder, the Open Enclave
// header parser and the token verifier (as a token, and as a JWKS).
//
// Invariants checked:
//  - no exception escapes and every refusal is InvalidArgument with a message, whose MAA error
//    body is valid JSON;
//  - an accepted request respects the bounds (quote, data, nonce, policy sizes) and has JSON
//    data exactly when dataType is JSON;
//  - an accepted request, written back canonically (base64url, camelCase), parses to the same
//    request (the parser reads what the client meant, whatever base64 or case it used);
//  - whatever base64 decodes, re-encodes (standard, padded) and decodes to the same bytes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/token/request.h"
#include "attest/token/signing.h"
#include "fuzz_util.h"

using namespace confcom;
using namespace confcom::attest;
using nlohmann::json;

namespace {

json DataJson(const AttestData& d) {
  return {{"data", Base64UrlEncode(d.data)},
          {"dataType", d.type == DataType::kJson ? "JSON" : "Binary"}};
}

void CheckAccepted(const AttestRequest& r, EvidenceKind kind) {
  FUZZ_CHECK(r.quote.size() <= kMaxQuoteBytes, "quote over the bound");
  for (const auto* d : {&r.runtime_data, &r.init_time_data}) {
    if (!d->has_value()) continue;
    FUZZ_CHECK((*d)->data.size() <= kMaxDataBytes, "data over the bound");
    FUZZ_CHECK((*d)->type == DataType::kJson || (*d)->json.is_null(),
               "JSON data without dataType JSON");
  }
  FUZZ_CHECK(!r.nonce || r.nonce->size() <= kMaxNonceBytes, "nonce over the bound");
  FUZZ_CHECK(!r.draft_policy || r.draft_policy->size() <= kMaxDraftPolicyBytes,
             "policy over the bound");

  // Canonical re-encoding parses to the same request.
  json body = json::object();
  if (kind == EvidenceKind::kSgxQuote) {
    body["quote"] = Base64UrlEncode(r.quote);
  } else {
    Bytes report(kOpenEnclaveHeaderSize + r.quote.size());
    StoreLe32(report.data(), 1);
    StoreLe32(report.data() + 4, 2);
    StoreLe64(report.data() + 8, r.quote.size());
    std::copy(r.quote.begin(), r.quote.end(), report.begin() + kOpenEnclaveHeaderSize);
    body["report"] = Base64UrlEncode(report);
  }
  if (r.runtime_data) body["runtimeData"] = DataJson(*r.runtime_data);
  if (r.init_time_data) body["initTimeData"] = DataJson(*r.init_time_data);
  if (r.draft_policy) body["draftPolicyForAttestation"] = *r.draft_policy;
  if (r.nonce) body["nonce"] = *r.nonce;
  auto again = ParseAttestRequest(body.dump(-1, ' ', false, json::error_handler_t::replace), kind);
  FUZZ_CHECK(again.ok(), "canonical form refused: " + again.status().ToString());
  FUZZ_CHECK(again->quote == r.quote, "quote changed in the round trip");
  FUZZ_CHECK(again->runtime_data.has_value() == r.runtime_data.has_value(), "runtimeData presence");
  if (r.runtime_data) {
    FUZZ_CHECK(again->runtime_data->data == r.runtime_data->data, "runtimeData bytes");
    FUZZ_CHECK(again->runtime_data->type == r.runtime_data->type, "runtimeData type");
  }
  FUZZ_CHECK(again->init_time_data.has_value() == r.init_time_data.has_value(),
             "initTimeData presence");
  // Strings with invalid UTF-8 are replaced when dumped, so only valid ones must survive as is.
  bool valid_utf8 = true;
  try {
    (void)json(r.nonce.value_or("")).dump();
  } catch (const json::exception&) {
    valid_utf8 = false;
  }
  if (valid_utf8) FUZZ_CHECK(again->nonce == r.nonce, "nonce changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  EvidenceKind kind = (data[0] & 1) ? EvidenceKind::kOpenEnclaveReport : EvidenceKind::kSgxQuote;
  std::string_view body = fuzz::AsView(data + 1, size - 1);

  auto r = ParseAttestRequest(body, kind);
  if (r.ok()) {
    CheckAccepted(*r, kind);
  } else {
    FUZZ_CHECK(r.status().code() == Status::Code::kInvalidArgument, r.status().ToString());
    FUZZ_CHECK(!r.status().message().empty(), "empty message");
    std::string error =
        ApiErrorBody(MakeApiError(ApiErrorKind::kInvalidRequest, r.status().message()));
    FUZZ_CHECK(json::accept(error), "error body is not JSON: " + error);
  }

  Status v = CheckApiVersion(body.substr(0, 64));
  FUZZ_CHECK(v.ok() || json::accept(ApiErrorBody(ApiVersionError(v))), "api-version error body");

  auto decoded = DecodeBase64Any(body, "input");
  if (decoded.ok()) {
    auto again = DecodeBase64Any(Base64Encode(*decoded), "again");
    FUZZ_CHECK(again.ok() && *again == *decoded, "base64 round trip");
    auto url = DecodeBase64Any(Base64UrlEncode(*decoded), "again");
    FUZZ_CHECK(url.ok() && *url == *decoded, "base64url round trip");
  }
  // A relying party's check of an untrusted token never throws, whatever the token or JWKS.
  static const std::string kJwks = R"({"keys":[{"kid":"k","x5c":["AAAA"]},{"kid":5},7]})";
  auto verified = VerifyToken(body, kJwks, 1767225600);
  FUZZ_CHECK(!verified.ok(), "a token verified against a JWKS without a usable key");
  (void)VerifyToken(R"(e30.e30.AAAA)", body, 1767225600);
  auto quote = QuoteFromOpenEnclaveReport(AsBytes(body));
  FUZZ_CHECK(!quote.ok() || quote->size() + kOpenEnclaveHeaderSize == body.size(),
             "OE header size");
  return 0;
}
