#include "attest/token/request.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string Encode(ByteSpan bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(bytes[i]) << 16 | (rest == 2 ? uint32_t(bytes[i + 1]) << 8 : 0);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(3 - rest, '=');
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Deepest nesting of arrays and objects in `text`, counting only brackets outside strings.
int JsonDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

Result<json> ParseJson(std::string_view text, std::string_view what) {
  if (int depth = JsonDepth(text); depth > kMaxJsonDepth) {
    return Status::InvalidArgument(fmt::format(
        "{} nests {} levels of arrays and objects; at most {}", what, depth, kMaxJsonDepth));
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(
        fmt::format("{} is not JSON: at byte {}: {}", what, e.byte, e.what()));
  } catch (const json::exception& e) {  // e.g. out_of_range: a number beyond double (1e400)
    return Status::InvalidArgument(fmt::format("{} is not usable JSON: {}", what, e.what()));
  }
}

// The members of `object`, keyed by lower-case name; null values dropped. Two members whose
// names differ only in case are refused: which one a client meant is unknowable.
Result<std::map<std::string, const json*>> MembersByLowerName(const json& object,
                                                              std::string_view what) {
  std::map<std::string, const json*> members;
  for (const auto& [name, value] : object.items()) {
    if (value.is_null()) continue;
    auto [it, inserted] = members.emplace(Lower(name), &value);
    if (!inserted) {
      return Status::InvalidArgument(
          fmt::format("{} has member \"{}\" twice (names match case-insensitively)", what, name));
    }
  }
  return members;
}

const json* Member(const std::map<std::string, const json*>& members, std::string_view lower) {
  auto it = members.find(std::string(lower));
  return it == members.end() ? nullptr : it->second;
}

Result<std::string> StringMember(const json& value, std::string_view what, size_t max_size) {
  if (!value.is_string()) {
    return Status::InvalidArgument(
        fmt::format("{} must be a string, not {}", what, value.type_name()));
  }
  const auto& s = value.get_ref<const std::string&>();
  if (s.size() > max_size) {
    return Status::InvalidArgument(
        fmt::format("{} has {} characters; at most {}", what, s.size(), max_size));
  }
  return s;
}

Result<Bytes> Base64Member(const json& value, std::string_view what, size_t max_bytes) {
  // 4 characters carry 3 bytes; padding adds at most 2.
  CONFCOM_ASSIGN_OR_RETURN(std::string text, StringMember(value, what, max_bytes / 3 * 4 + 6));
  CONFCOM_ASSIGN_OR_RETURN(Bytes bytes, DecodeBase64Any(text, what));
  if (bytes.size() > max_bytes) {
    return Status::InvalidArgument(
        fmt::format("{} decodes to {} bytes; at most {}", what, bytes.size(), max_bytes));
  }
  return bytes;
}

Result<AttestData> ParseData(const json& value, std::string_view what) {
  if (!value.is_object()) {
    return Status::InvalidArgument(fmt::format(
        "{} must be an object {{\"data\", \"dataType\"}}, not {}", what, value.type_name()));
  }
  CONFCOM_ASSIGN_OR_RETURN(auto members, MembersByLowerName(value, what));
  AttestData out;
  const json* data = Member(members, "data");
  if (data == nullptr) return Status::InvalidArgument(fmt::format("{}.data is missing", what));
  CONFCOM_ASSIGN_OR_RETURN(out.data,
                           Base64Member(*data, fmt::format("{}.data", what), kMaxDataBytes));
  // MAA's REST spec makes dataType optional; its SDKs always send it. Absent or "" (a
  // placeholder some clients send) means Binary.
  if (const json* type = Member(members, "datatype"); type != nullptr && *type != "") {
    CONFCOM_ASSIGN_OR_RETURN(std::string name,
                             StringMember(*type, fmt::format("{}.dataType", what), 16));
    std::string lower = Lower(name);
    if (lower == "binary") {
      out.type = DataType::kBinary;
    } else if (lower == "json") {
      out.type = DataType::kJson;
    } else {
      return Status::InvalidArgument(
          fmt::format("{}.dataType is \"{}\"; expected \"Binary\" or \"JSON\"", what, name));
    }
  }
  if (out.type == DataType::kJson) {
    CONFCOM_ASSIGN_OR_RETURN(
        out.json, ParseJson(AsChars(out.data), fmt::format("{}.data (dataType JSON)", what)));
  }
  return out;
}

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

}  // namespace

Status CheckApiVersion(std::optional<std::string_view> api_version) {
  if (!api_version.has_value() || api_version->empty()) {
    return Status::NotFound(
        "The api-version query parameter (?api-version=) is required for all requests.");
  }
  std::string_view v = *api_version;
  // YYYY-MM-DD with a plausible month and day; previews ("2025-06-01-preview") are refused.
  bool date = v.size() == 10 && v[4] == '-' && v[7] == '-' && IsDigits(v.substr(0, 4)) &&
              IsDigits(v.substr(5, 2)) && IsDigits(v.substr(8, 2));
  if (date) {
    int month = std::stoi(std::string(v.substr(5, 2)));
    int day = std::stoi(std::string(v.substr(8, 2)));
    date = month >= 1 && month <= 12 && day >= 1 && day <= 31;
  }
  if (date && (v == "2020-10-01" || v >= "2022-08-01")) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "The api-version '{}' is invalid. The supported versions are '2020-10-01', '2022-08-01' "
      "and later dates (YYYY-MM-DD).",
      v.substr(0, 64)));
}

Result<Bytes> DecodeBase64Any(std::string_view text, std::string_view what) {
  size_t end = text.size();
  size_t padding = 0;
  while (end > 0 && text[end - 1] == '=' && padding < 2) {
    --end;
    ++padding;
  }
  Bytes out;
  out.reserve(end / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < end; ++i) {
    int v = Base64Value(text[i]);
    if (v < 0) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      return Status::InvalidArgument(fmt::format(
          "{} is not base64: character {} is {} (0x{:02x})", what, i,
          std::isprint(c) ? fmt::format("'{}'", char(c)) : std::string("unprintable"), c));
    }
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (end % 4 == 1) {
    return Status::InvalidArgument(fmt::format(
        "{} is not base64: {} characters of data leave a lone 6-bit group at the end", what, end));
  }
  if (padding > 0 && (end + padding) % 4 != 0) {
    return Status::InvalidArgument(
        fmt::format("{} is not base64: {} '=' after {} characters", what, padding, end));
  }
  return out;
}

std::string Base64Encode(ByteSpan bytes) { return Encode(bytes, kStdAlphabet, true); }
std::string Base64UrlEncode(ByteSpan bytes) { return Encode(bytes, kUrlAlphabet, false); }

Result<AttestRequest> ParseAttestRequest(std::string_view body, EvidenceKind kind) {
  CONFCOM_ASSIGN_OR_RETURN(json doc, ParseJson(body, "request body"));
  if (!doc.is_object()) {
    return Status::InvalidArgument(
        fmt::format("request body must be a JSON object, not {}", doc.type_name()));
  }
  CONFCOM_ASSIGN_OR_RETURN(auto members, MembersByLowerName(doc, "request body"));
  AttestRequest out;
  const char* evidence = kind == EvidenceKind::kSgxQuote ? "quote" : "report";
  const json* quote = Member(members, evidence);
  if (quote == nullptr) {
    return Status::InvalidArgument(fmt::format("request body has no \"{}\"", evidence));
  }
  CONFCOM_ASSIGN_OR_RETURN(Bytes raw,
                           Base64Member(*quote, evidence, kMaxQuoteBytes + kOpenEnclaveHeaderSize));
  if (kind == EvidenceKind::kOpenEnclaveReport) {
    CONFCOM_ASSIGN_OR_RETURN(out.quote, QuoteFromOpenEnclaveReport(raw));
  } else {
    out.quote = std::move(raw);
  }
  if (out.quote.size() > kMaxQuoteBytes) {
    return Status::InvalidArgument(
        fmt::format("{} has {} bytes; at most {}", evidence, out.quote.size(), kMaxQuoteBytes));
  }
  // Empty data and an empty draft policy count as absent: clients send placeholders
  // (accless's client: "draftPolicyForAttestation":"", "initTimeData":{"data":"","dataType":""}).
  if (const json* v = Member(members, "runtimedata")) {
    CONFCOM_ASSIGN_OR_RETURN(AttestData d, ParseData(*v, "runtimeData"));
    if (!d.data.empty()) out.runtime_data = std::move(d);
  }
  if (const json* v = Member(members, "inittimedata")) {
    CONFCOM_ASSIGN_OR_RETURN(AttestData d, ParseData(*v, "initTimeData"));
    if (!d.data.empty()) out.init_time_data = std::move(d);
  }
  if (const json* v = Member(members, "draftpolicyforattestation")) {
    CONFCOM_ASSIGN_OR_RETURN(std::string policy,
                             StringMember(*v, "draftPolicyForAttestation", kMaxDraftPolicyBytes));
    if (!policy.empty()) out.draft_policy = std::move(policy);
  }
  if (const json* v = Member(members, "nonce")) {
    CONFCOM_ASSIGN_OR_RETURN(out.nonce, StringMember(*v, "nonce", kMaxNonceBytes));
  }
  return out;
}

Result<Bytes> QuoteFromOpenEnclaveReport(ByteSpan report) {
  if (report.size() < kOpenEnclaveHeaderSize) {
    return Status::InvalidArgument(
        fmt::format("report has {} bytes, less than Open Enclave's 16-byte header", report.size()));
  }
  uint32_t version = LoadLe32(report.data());
  uint32_t type = LoadLe32(report.data() + 4);
  uint64_t size = LoadLe64(report.data() + 8);
  if (version != 1) {
    return Status::InvalidArgument(
        fmt::format("report header: version {}, expected 1 (OE_REPORT_HEADER_VERSION)", version));
  }
  if (type != 2) {
    return Status::InvalidArgument(
        fmt::format("report header: report_type {}, expected 2 (OE_REPORT_TYPE_SGX_REMOTE){}", type,
                    type == 1 ? "; a local report cannot be attested remotely" : ""));
  }
  uint64_t have = report.size() - kOpenEnclaveHeaderSize;
  if (size != have) {
    return Status::InvalidArgument(
        fmt::format("report header: report_size {} but {} bytes follow the header", size, have));
  }
  return Bytes(report.begin() + kOpenEnclaveHeaderSize, report.end());
}

ApiError MakeApiError(ApiErrorKind kind, std::string message) {
  struct Row {
    int status;
    const char* code;
  };
  // One row per kind, in the enum's order.
  static constexpr std::array<Row, 15> kTable = {{
      {400, "MissingApiVersionParameter"},
      {400, "InvalidApiVersionParameter"},
      {400, "InvalidParameter"},
      {400, "InvalidParameter"},
      {400, "InvalidParameter"},
      {400, "InvalidParameter"},
      {400, "PolicyEvaluationError"},
      {400, "PolicyParsingError"},
      {400, "InvalidOperation"},
      {413, "RequestEntityTooLarge"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "NotFound"},
      {503, "ServiceUnavailable"},
      {500, "InternalServerError"},
  }};
  static_assert(kTable.size() == size_t(ApiErrorKind::kInternal) + 1, "one row per kind");
  const Row& row = kTable[static_cast<size_t>(kind)];
  return ApiError{row.status, row.code, std::move(message)};
}

std::string ApiErrorBody(const ApiError& error) {
  json body = {{"error", {{"code", error.code}, {"message", error.message}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiError ApiVersionError(const Status& status) {
  return MakeApiError(status.code() == Status::Code::kNotFound ? ApiErrorKind::kMissingApiVersion
                                                               : ApiErrorKind::kInvalidApiVersion,
                      status.message());
}

}  // namespace confcom::attest
