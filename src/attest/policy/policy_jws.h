// The carrier of a policy in MAA's administration API (PUT /policies/{type}): a compact JWS,
// unsigned (`alg: none`, empty signature) or signed (`x5c` in the header), whose payload is
// {"AttestationPolicy": base64url(UTF-8 policy text)}; and the two hashes MAA reports,
// x-ms-policy-hash in attestation tokens and x-ms-policy-token-hash in policy results.
// All functions are pure and thread-safe. docs/attest-policy.md, "The policy carrier".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace confcom::attest {

// A JWS's compact form is at most this long: a 64 KiB policy in base64url inside base64url
// (~117 KiB) plus a header with a certificate chain.
inline constexpr size_t kMaxPolicyJwsBytes = 256 * 1024;

struct PolicyJws {
  std::string alg;                         // the header's "alg": "none", "RS256", ...
  std::optional<std::string> policy_text;  // absent when the payload is empty (a reset)
  std::vector<std::string> x5c;            // the header's "x5c" (standard base64 DER), if any
  std::string signing_input;               // "<header>.<payload>" as received, for verifying
  Bytes signature;                         // empty for alg "none"
};

// Decodes a compact JWS as MAA's PUT/reset bodies carry it. Does not verify a signature (the
// caller checks `signature` over `signing_input` against a trusted signer). InvalidArgument
// saying what is wrong: not three base64url parts (no '=' padding, RFC 7515 section 2), a
// header that is not a JSON object with a string "alg", a non-empty signature with alg "none"
// or an empty one without, a payload that is not {"AttestationPolicy": "<base64url>"}, a
// policy that is not UTF-8 or is over kMaxPolicyBytes, or a JWS over kMaxPolicyJwsBytes.
Result<PolicyJws> DecodePolicyJws(std::string_view compact);

// The unsigned JWS Microsoft's SDKs send for `policy_text`, byte for byte:
// base64url({"alg":"none"}) "." base64url({"AttestationPolicy":"<base64url text>"}) ".".
std::string EncodeUnsignedPolicyJws(std::string_view policy_text);

// x-ms-policy-hash: base64url(SHA-256(base64url(UTF-8 policy text))), no padding, as MAA's
// "Claim sets" page defines it.
std::string PolicyHash(std::string_view policy_text);

// x-ms-policy-token-hash: base64url(SHA-256(the compact JWS exactly as sent)), no padding, as
// the SDKs' policy tests check it.
std::string PolicyTokenHash(std::string_view compact_jws);

// RFC 4648 section 5 without padding; pure. Exposed for the tests and the daemon.
std::string Base64UrlEncode(std::string_view bytes);
// Strict inverse: only [A-Za-z0-9_-], no padding, no stray bits. InvalidArgument naming the
// first bad character's offset.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace confcom::attest
