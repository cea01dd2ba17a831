// attest_policy_fuzzer: what an administrator (or anyone who can reach PUT /policies) and a
// draftPolicyForAttestation send sgx-attest: policy text in MAA's language, and the JWS that
// carries it.
//
// Input: the bytes are, at once, a policy text (Policy::Parse, then Evaluate over a fixed SGX
// claim set) and a compact JWS (DecodePolicyJws), and a base64url string.
//
// Invariants checked:
//  - Parse fails only with InvalidArgument or Unsupported, and a positioned message names a
//    line and column inside the text;
//  - a parsed policy evaluates (or hits a stated bound, InvalidArgument) deterministically;
//    permitted <=> decided_by is a permit rule and reason is empty; not permitted => no
//    issued claims and a reason; every issued claim has a non-empty type and a string,
//    integer or boolean value;
//  - DecodePolicyJws fails only with InvalidArgument; the unsigned JWS of a valid policy
//    decodes back to the same text; base64url decode then encode gives the input back.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "attest/policy/policy.h"
#include "attest/policy/policy_jws.h"
#include "fuzz_util.h"

using confcom::Status;
using namespace confcom::attest;

namespace {

const std::vector<Claim>& SgxClaims() {
  static const std::vector<Claim> claims = {
      {"x-ms-attestation-type", "sgx"},
      {"x-ms-sgx-is-debuggable", false},
      {"x-ms-sgx-mrenclave", std::string(64, 'e')},
      {"x-ms-sgx-mrsigner", std::string(64, 'a')},
      {"x-ms-sgx-product-id", 1},
      {"x-ms-sgx-svn", 3},
      {"x-ms-sgx-svn", -7},
      {"$is-debuggable", true},
      {"custom", "c", "CustomClaim"},
  };
  return claims;
}

void CheckPositioned(const Status& st, std::string_view text) {
  const std::string& m = st.message();
  if (m.rfind("line ", 0) != 0) {
    FUZZ_CHECK(m.rfind("policy is ", 0) == 0, m);
    return;
  }
  int line = 0, column = 0;
  FUZZ_CHECK(std::sscanf(m.c_str(), "line %d, column %d:", &line, &column) == 2, m);
  int lines = 1;
  for (char c : text) lines += c == '\n';
  FUZZ_CHECK(
      line >= 1 && line <= lines && column >= 1 && static_cast<size_t>(column) <= text.size() + 1,
      m);
}

void CheckOutcome(const PolicyOutcome& o) {
  if (o.permitted) {
    FUZZ_CHECK(o.decided_by.has_value() && o.reason.empty(), o.reason);
    std::string compact;
    for (char c : o.decided_by->text) {
      if (c != ' ')
        compact.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    FUZZ_CHECK(compact.size() >= 9 && compact.compare(compact.size() - 9, 9, "permit();") == 0,
               o.decided_by->text);
  } else {
    FUZZ_CHECK(o.issued.empty() && !o.reason.empty(), o.reason);
  }
  for (const auto* list : {&o.issued, &o.properties}) {
    for (const Claim& c : *list) {
      FUZZ_CHECK(!c.type.empty(), "issued claim without a type");
      FUZZ_CHECK(c.value.is_string() || c.value.is_boolean() || c.value.is_number_integer(),
                 c.value.dump());
      FUZZ_CHECK(c.issuer == "AttestationPolicy", c.issuer);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = confcom::fuzz::AsView(data, size);

  confcom::Result<Policy> policy = Policy::Parse(text);
  if (!policy.ok()) {
    const auto code = policy.status().code();
    FUZZ_CHECK(code == Status::Code::kInvalidArgument || code == Status::Code::kUnsupported,
               policy.status().ToString());
    CheckPositioned(policy.status(), text);
  } else {
    confcom::Result<PolicyOutcome> a = policy->Evaluate(SgxClaims());
    confcom::Result<PolicyOutcome> b = policy->Evaluate(SgxClaims());
    FUZZ_CHECK(a.ok() == b.ok(), "evaluation is not deterministic");
    if (a.ok()) {
      CheckOutcome(*a);
      FUZZ_CHECK(a->permitted == b->permitted && a->issued.size() == b->issued.size() &&
                     a->reason == b->reason,
                 "evaluation is not deterministic");
    } else {
      FUZZ_CHECK(a.status().code() == Status::Code::kInvalidArgument, a.status().ToString());
      FUZZ_CHECK(a.status().message() == b.status().message(), a.status().message());
    }
    confcom::Result<PolicyJws> round = DecodePolicyJws(EncodeUnsignedPolicyJws(text));
    FUZZ_CHECK(round.ok() && round->policy_text == std::string(text),
               round.ok() ? "round trip changed the text" : round.status().ToString());
  }

  confcom::Result<PolicyJws> jws = DecodePolicyJws(text);
  if (!jws.ok()) {
    FUZZ_CHECK(jws.status().code() == Status::Code::kInvalidArgument, jws.status().ToString());
  } else {
    FUZZ_CHECK(jws->alg == "none" ? jws->signature.empty() : !jws->signature.empty(), jws->alg);
    FUZZ_CHECK(jws->signing_input.size() < text.size(), "signing input longer than the JWS");
    if (jws->policy_text) (void)Policy::Parse(*jws->policy_text);
  }

  confcom::Result<std::string> decoded = Base64UrlDecode(text);
  if (decoded.ok()) {
    FUZZ_CHECK(Base64UrlEncode(*decoded) == text, "base64url is not canonical");
  }
  return 0;
}
