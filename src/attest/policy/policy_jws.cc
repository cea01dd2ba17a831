// The AttestationPolicy JWS carrier and MAA's policy hashes (policy_jws.h).
#include "attest/policy/policy_jws.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "attest/policy/policy.h"
#include "attest/policy/policy_ast.h"
#include "crypto/crypto.h"
#include "kube/json_fields.h"

namespace confcom::attest {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// JSON nesting deeper than this is refused before parsing (nlohmann's parser recurses).
constexpr int kMaxJsonDepth = 16;

Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view what) {
  if (kube::JsonTooDeep(text, kMaxJsonDepth)) {
    return Status::InvalidArgument(
        fmt::format("{} nests deeper than {} levels", what, kMaxJsonDepth));
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(fmt::format("{} is not a JSON object", what));
  }
  return j;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                       uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return Status::InvalidArgument(
        fmt::format("base64url of length {} cannot be decoded (length % 4 == 1)", text.size()));
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = DecodeChar(text[i]);
    if (v < 0) {
      const char c = text[i];
      const std::string shown =
          (c >= 0x20 && c < 0x7f) ? fmt::format("'{}'", c) : fmt::format("0x{:02x}", uint8_t(c));
      std::string hint;
      if (c == '=') hint = " (base64url here has no '=' padding, RFC 7515 section 2)";
      if (c == '+' || c == '/') hint = " (standard base64; base64url uses '-' and '_')";
      return Status::InvalidArgument(
          fmt::format("base64url: character {} at offset {}{}", shown, i, hint));
    }
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument("base64url: the last character has stray bits set");
  }
  return out;
}

Result<PolicyJws> DecodePolicyJws(std::string_view compact) {
  if (compact.size() > kMaxPolicyJwsBytes) {
    return Status::InvalidArgument(
        fmt::format("policy JWS is {} bytes; the limit is {}", compact.size(), kMaxPolicyJwsBytes));
  }
  const size_t dot1 = compact.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return Status::InvalidArgument(
        "policy JWS: expected three base64url parts <header>.<payload>.<signature> (the "
        "signature part is empty for alg \"none\")");
  }
  const std::string_view header_b64 = compact.substr(0, dot1);
  const std::string_view payload_b64 = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = compact.substr(dot2 + 1);
  PolicyJws out;
  out.signing_input = std::string(compact.substr(0, dot2));

  Result<std::string> header_json = Base64UrlDecode(header_b64);
  if (!header_json.ok()) return header_json.status().WithContext("policy JWS header");
  CONFCOM_ASSIGN_OR_RETURN(nlohmann::json header,
                           ParseJsonObject(*header_json, "policy JWS header"));
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Status::InvalidArgument("policy JWS header has no string \"alg\"");
  }
  out.alg = alg->get<std::string>();
  if (auto x5c = header.find("x5c"); x5c != header.end()) {
    if (!x5c->is_array()) return Status::InvalidArgument("policy JWS header: x5c is not an array");
    for (const auto& cert : *x5c) {
      if (!cert.is_string()) {
        return Status::InvalidArgument("policy JWS header: an x5c entry is not a string");
      }
      out.x5c.push_back(cert.get<std::string>());
    }
  }

  Result<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature.ok()) return signature.status().WithContext("policy JWS signature");
  out.signature.assign(signature->begin(), signature->end());
  if (out.alg == "none" && !out.signature.empty()) {
    return Status::InvalidArgument("policy JWS: alg \"none\" with a non-empty signature");
  }
  if (out.alg != "none" && out.signature.empty()) {
    return Status::InvalidArgument(
        fmt::format("policy JWS: alg \"{}\" without a signature", out.alg));
  }

  Result<std::string> payload_json = Base64UrlDecode(payload_b64);
  if (!payload_json.ok()) return payload_json.status().WithContext("policy JWS payload");
  if (payload_json->empty()) return out;  // a reset carries no policy
  CONFCOM_ASSIGN_OR_RETURN(nlohmann::json payload,
                           ParseJsonObject(*payload_json, "policy JWS payload"));
  auto member = payload.find("AttestationPolicy");
  if (member == payload.end() || !member->is_string()) {
    return Status::InvalidArgument(
        "policy JWS payload: expected {\"AttestationPolicy\": \"<base64url policy text>\"}");
  }
  Result<std::string> text = Base64UrlDecode(member->get_ref<const std::string&>());
  if (!text.ok()) return text.status().WithContext("policy JWS: AttestationPolicy");
  if (text->size() > kMaxPolicyBytes) {
    return Status::InvalidArgument(fmt::format(
        "policy JWS: the policy is {} bytes; the limit is {}", text->size(), kMaxPolicyBytes));
  }
  Status utf8 = detail::CheckUtf8(*text);
  if (!utf8.ok()) return utf8.WithContext("policy JWS: AttestationPolicy");
  out.policy_text = std::move(*text);
  return out;
}

std::string EncodeUnsignedPolicyJws(std::string_view policy_text) {
  // The member order and spacing are those of JSON.stringify in Microsoft's JS SDK.
  const std::string payload =
      fmt::format("{{\"AttestationPolicy\":\"{}\"}}", Base64UrlEncode(policy_text));
  return Base64UrlEncode("{\"alg\":\"none\"}") + "." + Base64UrlEncode(payload) + ".";
}

std::string PolicyHash(std::string_view policy_text) {
  const std::string inner = Base64UrlEncode(policy_text);
  const crypto::Sha256Digest d = crypto::Sha256(AsBytes(inner));
  return Base64UrlEncode(AsChars(d));
}

std::string PolicyTokenHash(std::string_view compact_jws) {
  const crypto::Sha256Digest d = crypto::Sha256(AsBytes(compact_jws));
  return Base64UrlEncode(AsChars(d));
}

}  // namespace confcom::attest
