#include "attest/token/request.h"

#include <gtest/gtest.h>

#include <string>

namespace confcom::attest {
namespace {

using nlohmann::json;

Bytes SomeBytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 37 + 11);
  return b;
}

std::string StdPadded(ByteSpan b) { return Base64Encode(b); }
std::string UrlUnpadded(ByteSpan b) { return Base64UrlEncode(b); }
std::string UrlPadded(ByteSpan b) {
  std::string s = Base64UrlEncode(b);
  s.append((4 - s.size() % 4) % 4, '=');
  return s;
}

TEST(ApiVersionTest, AcceptsMaaVersionsAndLaterDates) {
  EXPECT_TRUE(CheckApiVersion("2020-10-01").ok());
  EXPECT_TRUE(CheckApiVersion("2022-08-01").ok());
  EXPECT_TRUE(CheckApiVersion("2025-06-01").ok());
}

TEST(ApiVersionTest, RefusesMissingAsMaaWithItsMessage) {
  Status st = CheckApiVersion(std::nullopt);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  ApiError e = ApiVersionError(st);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "MissingApiVersionParameter");
  EXPECT_EQ(e.message,
            "The api-version query parameter (?api-version=) is required for all requests.");
  EXPECT_EQ(CheckApiVersion("").code(), Status::Code::kNotFound);
}

TEST(ApiVersionTest, RefusesUnknownValuesNamingThem) {
  for (const char* v : {"2018-09-01-preview", "2021-06-01", "2022-07-31", "latest", "2023-13-01",
                        "2023-1-01", "2025-06-01-preview"}) {
    Status st = CheckApiVersion(v);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << v;
    EXPECT_NE(st.message().find(v), std::string::npos) << st.message();
    EXPECT_EQ(ApiVersionError(st).code, "InvalidApiVersionParameter");
  }
}

TEST(Base64Test, DecodesAllThreeClientForms) {
  for (size_t n : {0, 1, 2, 3, 4, 5, 63, 64, 65}) {
    Bytes b = SomeBytes(n);
    EXPECT_EQ(*DecodeBase64Any(StdPadded(b), "x"), b) << n;
    EXPECT_EQ(*DecodeBase64Any(UrlUnpadded(b), "x"), b) << n;
    EXPECT_EQ(*DecodeBase64Any(UrlPadded(b), "x"), b) << n;
    std::string std_unpadded = StdPadded(b);
    while (!std_unpadded.empty() && std_unpadded.back() == '=') std_unpadded.pop_back();
    EXPECT_EQ(*DecodeBase64Any(std_unpadded, "x"), b) << n;
  }
}

TEST(Base64Test, EncodersMatchRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(AsBytes("foob")), "Zm9vYg==");
  EXPECT_EQ(Base64UrlEncode(AsBytes("foob")), "Zm9vYg");
  Bytes fb = {0xfb, 0xff};
  EXPECT_EQ(Base64Encode(fb), "+/8=");
  EXPECT_EQ(Base64UrlEncode(fb), "-_8");
}

TEST(Base64Test, ErrorsSayWhichCharacter) {
  auto r = DecodeBase64Any("QUJD!EFG", "runtimeData.data");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "runtimeData.data is not base64: character 4 is '!' (0x21)");
  EXPECT_FALSE(DecodeBase64Any("QUJDR", "x").ok());      // lone 6-bit group
  EXPECT_FALSE(DecodeBase64Any("QUJ D", "x").ok());      // whitespace
  EXPECT_FALSE(DecodeBase64Any("QU=J", "x").ok());       // '=' inside
  EXPECT_FALSE(DecodeBase64Any("QUJDRA=", "x").ok());    // wrong padding count
  EXPECT_FALSE(DecodeBase64Any("QUJDRA===", "x").ok());  // three '='
}

TEST(AttestRequestTest, ParsesTheSdkShape) {
  Bytes quote = SomeBytes(1000), rt = SomeBytes(40);
  json body = {{"quote", UrlUnpadded(quote)},
               {"runtimeData", {{"data", UrlUnpadded(rt)}, {"dataType", "Binary"}}},
               {"initTimeData", {{"data", StdPadded(AsBytes(R"({"a":1})"))}, {"dataType", "JSON"}}},
               {"draftPolicyForAttestation", "version=1.0; authorizationrules{=>permit();};"},
               {"nonce", "n-123"}};
  auto r = ParseAttestRequest(body.dump(), EvidenceKind::kSgxQuote);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->quote, quote);
  ASSERT_TRUE(r->runtime_data.has_value());
  EXPECT_EQ(r->runtime_data->data, rt);
  EXPECT_EQ(r->runtime_data->type, DataType::kBinary);
  ASSERT_TRUE(r->init_time_data.has_value());
  EXPECT_EQ(r->init_time_data->type, DataType::kJson);
  EXPECT_EQ(r->init_time_data->json, json({{"a", 1}}));
  EXPECT_EQ(*r->draft_policy, "version=1.0; authorizationrules{=>permit();};");
  EXPECT_EQ(*r->nonce, "n-123");
}

TEST(AttestRequestTest, PascalCaseWithNullsAsTheDotNetSampleSends) {
  Bytes quote = SomeBytes(500);
  std::string body = R"({"Quote":")" + StdPadded(quote) +
                     R"(","RuntimeData":{"Data":"AAEC","DataType":"binary"},"InitTimeData":null,)"
                     R"("DraftPolicyForAttestation":null,"Nonce":null,"SomethingNew":{"x":[1]}})";
  auto r = ParseAttestRequest(body, EvidenceKind::kSgxQuote);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->quote, quote);
  EXPECT_EQ(r->runtime_data->data, (Bytes{0, 1, 2}));
  EXPECT_FALSE(r->init_time_data.has_value());
  EXPECT_FALSE(r->draft_policy.has_value());
  EXPECT_FALSE(r->nonce.has_value());
}

TEST(AttestRequestTest, CppSdkInittimeDataSpelling) {
  std::string body = R"({"quote":"AAAA","inittimeData":{"data":"AQ","dataType":"Binary"}})";
  auto r = ParseAttestRequest(body, EvidenceKind::kSgxQuote);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->init_time_data->data, Bytes{1});
}

TEST(AttestRequestTest, EmptyPlaceholdersCountAsAbsent) {
  std::string body =
      R"({"draftPolicyForAttestation":"","nodeData":{"gid":"baz"},"initTimeData":{"data":"","dataType":""},)"
      R"("quote":"AAAA","runtimeData":{"data":"AQID","dataType":"Binary"}})";
  auto r = ParseAttestRequest(body, EvidenceKind::kSgxQuote);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->draft_policy.has_value());
  EXPECT_FALSE(r->init_time_data.has_value());
  EXPECT_EQ(r->runtime_data->data, (Bytes{1, 2, 3}));
}

TEST(AttestRequestTest, DataTypeAbsentMeansBinary) {
  auto r = ParseAttestRequest(R"({"quote":"AAAA","runtimeData":{"data":"AQ"}})",
                              EvidenceKind::kSgxQuote);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->runtime_data->type, DataType::kBinary);
}

void ExpectError(const std::string& body, const std::string& fragment,
                 EvidenceKind kind = EvidenceKind::kSgxQuote) {
  auto r = ParseAttestRequest(body, kind);
  ASSERT_FALSE(r.ok()) << body;
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(fragment), std::string::npos)
      << "message: " << r.status().message() << "\nwant: " << fragment;
}

TEST(AttestRequestTest, ErrorsNameTheMemberAndTheProblem) {
  ExpectError("", "request body is not JSON: at byte");
  ExpectError("{\"quote\": ", "request body is not JSON");
  ExpectError("[1]", "request body must be a JSON object, not array");
  ExpectError(R"({"quote":"AAAA","x":1e400})",
              "request body is not usable JSON");  // found by fuzzing
  ExpectError("{}", "request body has no \"quote\"");
  ExpectError(R"({"quote":null})", "request body has no \"quote\"");
  ExpectError(R"({"quote":5})", "quote must be a string, not number");
  ExpectError(R"({"quote":"AA*A"})", "quote is not base64: character 2 is '*' (0x2a)");
  ExpectError(R"({"quote":"AAAA","runtimeData":"AAAA"})",
              "runtimeData must be an object {\"data\", \"dataType\"}, not string");
  ExpectError(R"({"quote":"AAAA","runtimeData":{}})", "runtimeData.data is missing");
  ExpectError(R"({"quote":"AAAA","runtimeData":{"data":"AA#A"}})",
              "runtimeData.data is not base64: character 2 is '#'");
  ExpectError(R"({"quote":"AAAA","runtimeData":{"data":"AAAA","dataType":"Text"}})",
              "runtimeData.dataType is \"Text\"; expected \"Binary\" or \"JSON\"");
  ExpectError(
      R"({"quote":"AAAA","runtimeData":{"data":"e30","dataType":"JSON","DataType":"JSON"}})",
      "twice");
  ExpectError(R"({"quote":"AAAA","initTimeData":{"data":"eyJh","dataType":"JSON"}})",
              "initTimeData.data (dataType JSON) is not JSON");
  ExpectError(R"({"quote":"AAAA","nonce":7})", "nonce must be a string, not number");
  ExpectError(R"({"quote":"AAAA","draftPolicyForAttestation":{}})",
              "draftPolicyForAttestation must be a string, not object");
  ExpectError(R"({"quote":"AAAA"})", "request body has no \"report\"",
              EvidenceKind::kOpenEnclaveReport);
}

TEST(AttestRequestTest, BoundsDepthAndSizes) {
  std::string deep = R"({"quote":"AAAA","x":)" + std::string(40, '[') + std::string(40, ']') + "}";
  ExpectError(deep, "nests 41 levels");
  // Brackets inside strings do not count.
  std::string in_string = R"({"quote":"AAAA","x":")" + std::string(40, '[') + "\"}";
  EXPECT_TRUE(ParseAttestRequest(in_string, EvidenceKind::kSgxQuote).ok());
  ExpectError(json({{"quote", Base64UrlEncode(SomeBytes(kMaxQuoteBytes + 1))}}).dump(),
              "quote has 65537 bytes; at most 65536");
  ExpectError(json({{"quote", "AAAA"},
                    {"runtimeData", {{"data", Base64UrlEncode(SomeBytes(kMaxDataBytes + 1))}}}})
                  .dump(),
              "runtimeData.data decodes to 32769 bytes; at most 32768");
  ExpectError(json({{"quote", "AAAA"}, {"nonce", std::string(kMaxNonceBytes + 1, 'n')}}).dump(),
              "nonce has 1025 characters; at most 1024");
}

Bytes OpenEnclaveReport(ByteSpan quote, uint32_t version = 1, uint32_t type = 2,
                        int64_t size_delta = 0) {
  Bytes report(kOpenEnclaveHeaderSize + quote.size());
  StoreLe32(report.data(), version);
  StoreLe32(report.data() + 4, type);
  StoreLe64(report.data() + 8, uint64_t(int64_t(quote.size()) + size_delta));
  std::copy(quote.begin(), quote.end(), report.begin() + kOpenEnclaveHeaderSize);
  return report;
}

TEST(OpenEnclaveTest, StripsTheSixteenByteHeader) {
  Bytes quote = SomeBytes(700);
  json body = {{"report", Base64UrlEncode(OpenEnclaveReport(quote))}};
  auto r = ParseAttestRequest(body.dump(), EvidenceKind::kOpenEnclaveReport);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->quote, quote);
}

TEST(OpenEnclaveTest, RefusesBadHeaders) {
  Bytes quote = SomeBytes(100);
  EXPECT_NE(QuoteFromOpenEnclaveReport(Bytes(15)).status().message().find("less than"),
            std::string::npos);
  EXPECT_NE(
      QuoteFromOpenEnclaveReport(OpenEnclaveReport(quote, 2)).status().message().find("version 2"),
      std::string::npos);
  EXPECT_NE(QuoteFromOpenEnclaveReport(OpenEnclaveReport(quote, 1, 1))
                .status()
                .message()
                .find("local report"),
            std::string::npos);
  EXPECT_NE(QuoteFromOpenEnclaveReport(OpenEnclaveReport(quote, 1, 2, 1))
                .status()
                .message()
                .find("report_size 101 but 100 bytes"),
            std::string::npos);
}

TEST(ApiErrorTest, BodyHasMaasShape) {
  ApiError e = MakeApiError(ApiErrorKind::kRuntimeDataMismatch, "runtimeData: SHA-256 \"x\"");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(
      json::parse(ApiErrorBody(e)),
      json({{"error", {{"code", "InvalidParameter"}, {"message", "runtimeData: SHA-256 \"x\""}}}}));
  // MAA's troubleshooting guide: quote, collateral and baseline failures are InvalidParameter.
  EXPECT_EQ(MakeApiError(ApiErrorKind::kInvalidQuote, "").code, "InvalidParameter");
  EXPECT_EQ(MakeApiError(ApiErrorKind::kTcbRefused, "").code, "InvalidParameter");
  EXPECT_EQ(MakeApiError(ApiErrorKind::kPolicyDenied, "").code, "PolicyEvaluationError");
  EXPECT_EQ(MakeApiError(ApiErrorKind::kInvalidPolicy, "").code, "PolicyParsingError");
  EXPECT_EQ(MakeApiError(ApiErrorKind::kInvalidOperation, "").code, "InvalidOperation");
  EXPECT_EQ(MakeApiError(ApiErrorKind::kUnauthorized, "").http_status, 401);
  EXPECT_EQ(MakeApiError(ApiErrorKind::kBodyTooLarge, "").http_status, 413);
  EXPECT_EQ(MakeApiError(ApiErrorKind::kUnavailable, "").http_status, 503);
  EXPECT_EQ(MakeApiError(ApiErrorKind::kInternal, "").http_status, 500);
  // Invalid UTF-8 in a message (e.g. an echoed member name) still gives valid JSON.
  EXPECT_TRUE(json::accept(ApiErrorBody(MakeApiError(ApiErrorKind::kInvalidRequest, "\xff"))));
}

}  // namespace
}  // namespace confcom::attest
