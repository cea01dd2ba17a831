#include "attest/policy/policy_jws.h"

#include <gtest/gtest.h>

#include <string>

#include "attest/policy/policy.h"

namespace confcom::attest {
namespace {

// The policy the JS SDK's policy tests set, and what its setPolicy sends for it (checked with
// Python's base64 and json.dumps(separators=(',', ':'))).
constexpr std::string_view kMinimalPolicy =
    "version=1.0; authorizationrules{=> permit();}; issuancerules{};";
constexpr std::string_view kMinimalPolicyJws =
    "eyJhbGciOiJub25lIn0.eyJBdHRlc3RhdGlvblBvbGljeSI6ImRtVnljMmx2YmoweExqQTdJR0YxZEdodmNtbDZZWFJw"
    "YjI1eWRXeGxjM3M5UGlCd1pYSnRhWFFvS1R0OU95QnBjM04xWVc1alpYSjFiR1Z6ZTMwNyJ9.";

// "Examples of an attestation policy", "Unsigned Policy for an SGX enclave with
// PolicyFormat=JWT" (its payload has a space after the colon; its policy uses '-' in base64url).
constexpr std::string_view kDocsUnsignedJws =
    "eyJhbGciOiJub25lIn0.eyJBdHRlc3RhdGlvblBvbGljeSI6ICJkbVZ5YzJsdmJqMGdNUzR3TzJGMWRHaHZjbWw2WVhS"
    "cGIyNXlkV3hsYzN0ak9sdDBlWEJsUFQwaUpHbHpMV1JsWW5WbloyRmliR1VpWFNBOVBpQndaWEp0YVhRb0tUdDlPMmx6"
    "YzNWaGJtTmxjblZzWlhON1l6cGJkSGx3WlQwOUlpUnBjeTFrWldKMVoyZGhZbXhsSWwwZ1BUNGdhWE56ZFdVb2RIbHda"
    "VDBpYVhNdFpHVmlkV2RuWVdKc1pTSXNJSFpoYkhWbFBXTXVkbUZzZFdVcE8yTTZXM1I1Y0dVOVBTSWtjMmQ0TFcxeWMy"
    "bG5ibVZ5SWwwZ1BUNGdhWE56ZFdVb2RIbHdaVDBpYzJkNExXMXljMmxuYm1WeUlpd2dkbUZzZFdVOVl5NTJZV3gxWlNr"
    "N1l6cGJkSGx3WlQwOUlpUnpaM2d0YlhKbGJtTnNZWFpsSWwwZ1BUNGdhWE56ZFdVb2RIbHdaVDBpYzJkNExXMXlaVzVq"
    "YkdGMlpTSXNJSFpoYkhWbFBXTXVkbUZzZFdVcE8yTTZXM1I1Y0dVOVBTSWtjSEp2WkhWamRDMXBaQ0pkSUQwLUlHbHpj"
    "M1ZsS0hSNWNHVTlJbkJ5YjJSMVkzUXRhV1FpTENCMllXeDFaVDFqTG5aaGJIVmxLVHRqT2x0MGVYQmxQVDBpSkhOMmJp"
    "SmRJRDAtSUdsemMzVmxLSFI1Y0dVOUluTjJiaUlzSUhaaGJIVmxQV011ZG1Gc2RXVXBPMk02VzNSNWNHVTlQU0lrZEdW"
    "bElsMGdQVDRnYVhOemRXVW9kSGx3WlQwaWRHVmxJaXdnZG1Gc2RXVTlZeTUyWVd4MVpTazdmVHMifQ.";

TEST(PolicyJwsTest, EncodesExactlyWhatTheSdkSends) {
  EXPECT_EQ(EncodeUnsignedPolicyJws(kMinimalPolicy), kMinimalPolicyJws);
}

TEST(PolicyJwsTest, RoundTrip) {
  for (std::string_view text : {kMinimalPolicy, kDefaultSgxPolicy, std::string_view("\xC3\xA9")}) {
    Result<PolicyJws> jws = DecodePolicyJws(EncodeUnsignedPolicyJws(text));
    ASSERT_TRUE(jws.ok()) << jws.status().ToString();
    EXPECT_EQ(jws->alg, "none");
    EXPECT_EQ(jws->policy_text, std::string(text));
    EXPECT_TRUE(jws->signature.empty());
    EXPECT_TRUE(jws->x5c.empty());
  }
}

TEST(PolicyJwsTest, DecodesMicrosoftsUnsignedSample) {
  Result<PolicyJws> jws = DecodePolicyJws(kDocsUnsignedJws);
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  ASSERT_TRUE(jws->policy_text);
  EXPECT_EQ(jws->policy_text->substr(0, 56),
            "version= 1.0;authorizationrules{c:[type==\"$is-debuggable");
  EXPECT_EQ(jws->signing_input, kDocsUnsignedJws.substr(0, kDocsUnsignedJws.size() - 1));
  Result<Policy> p = Policy::Parse(*jws->policy_text);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->rule_count(), 7u);
}

TEST(PolicyJwsTest, SignedHeaderGivesAlgX5cAndSignature) {
  const std::string header = Base64UrlEncode(R"({"alg":"RS256","x5c":["MIIBAA==","MIIBAB=="]})");
  const std::string payload =
      Base64UrlEncode(R"({"AttestationPolicy":")" + Base64UrlEncode(kMinimalPolicy) + R"("})");
  const std::string sig = Base64UrlEncode(std::string(256, '\x5a'));
  Result<PolicyJws> jws = DecodePolicyJws(header + "." + payload + "." + sig);
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_EQ(jws->alg, "RS256");
  EXPECT_EQ(jws->x5c, (std::vector<std::string>{"MIIBAA==", "MIIBAB=="}));
  EXPECT_EQ(jws->signature.size(), 256u);
  EXPECT_EQ(jws->signing_input, header + "." + payload);
  EXPECT_EQ(jws->policy_text, std::string(kMinimalPolicy));
}

TEST(PolicyJwsTest, AResetCarriesNoPolicy) {
  // What the SDK's resetPolicy sends: an unsigned JWS with an empty payload.
  Result<PolicyJws> jws = DecodePolicyJws("eyJhbGciOiJub25lIn0..");
  ASSERT_TRUE(jws.ok()) << jws.status().ToString();
  EXPECT_FALSE(jws->policy_text);
}

TEST(PolicyJwsTest, MalformedCarriersAreRefusedSayingWhy) {
  const std::string none = Base64UrlEncode(R"({"alg":"none"})");
  const std::string body = Base64UrlEncode(R"({"AttestationPolicy":"dmVyc2lvbj0xLjA7"})");
  const struct {
    std::string jws;
    std::string error;
  } cases[] = {
      {"abc",
       "policy JWS: expected three base64url parts <header>.<payload>.<signature> (the "
       "signature part is empty for alg \"none\")"},
      {none + "." + body,
       "policy JWS: expected three base64url parts <header>.<payload>."
       "<signature> (the signature part is empty for alg \"none\")"},
      {none + "." + body + "..",
       "policy JWS: expected three base64url parts <header>.<payload>."
       "<signature> (the signature part is empty for alg \"none\")"},
      {"eyJhbGciOiJub25lIn0=." + body + ".",
       "policy JWS header: base64url: character '=' at offset 19 (base64url here has no '=' "
       "padding, RFC 7515 section 2)"},
      {none + "." + body + ".ab+c",
       "policy JWS signature: base64url: character '+' at offset 2 (standard base64; base64url "
       "uses '-' and '_')"},
      {none + "." + body + ".AAAA", "policy JWS: alg \"none\" with a non-empty signature"},
      {Base64UrlEncode(R"({"alg":"RS256"})") + "." + body + ".",
       "policy JWS: alg \"RS256\" without a signature"},
      {Base64UrlEncode("[1]") + "." + body + ".", "policy JWS header is not a JSON object"},
      {Base64UrlEncode(R"({"alg":1})") + "." + body + ".",
       "policy JWS header has no string \"alg\""},
      {Base64UrlEncode(R"({"alg":"RS256","x5c":"MII"})") + "." + body + ".AAAA",
       "policy JWS header: x5c is not an array"},
      {none + "." + Base64UrlEncode(R"({"Policy":"eA"})") + ".",
       "policy JWS payload: expected {\"AttestationPolicy\": \"<base64url policy text>\"}"},
      {none + "." + Base64UrlEncode(R"({"AttestationPolicy":1})") + ".",
       "policy JWS payload: expected {\"AttestationPolicy\": \"<base64url policy text>\"}"},
      {none + "." + Base64UrlEncode("not json") + ".", "policy JWS payload is not a JSON object"},
      {none + "." + Base64UrlEncode(R"({"AttestationPolicy":"dmVyc2lvbj0xLjA7=="})") + ".",
       "policy JWS: AttestationPolicy: base64url: character '=' at offset 16 (base64url here has "
       "no '=' padding, RFC 7515 section 2)"},
      {none + "." +
           Base64UrlEncode(R"({"AttestationPolicy":")" + Base64UrlEncode("a\xff") + R"("})") + ".",
       "policy JWS: AttestationPolicy: line 1, column 2: byte 0xff is not UTF-8"},
      {none + "." + Base64UrlEncode(std::string(20, '[') + std::string(20, ']')) + ".",
       "policy JWS payload nests deeper than 16 levels"},
      {std::string(kMaxPolicyJwsBytes + 1, 'a'), "policy JWS is 262145 bytes; the limit is 262144"},
  };
  for (const auto& c : cases) {
    Result<PolicyJws> r = DecodePolicyJws(c.jws);
    ASSERT_FALSE(r.ok()) << c.jws;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.error) << c.jws;
  }
  const std::string huge_policy(kMaxPolicyBytes + 1, ' ');
  Result<PolicyJws> r = DecodePolicyJws(EncodeUnsignedPolicyJws(huge_policy));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "policy JWS: the policy is 65537 bytes; the limit is 65536");
}

TEST(PolicyHashTest, DefinitionsFromMaaDocsAndSdkTests) {
  // x-ms-policy-hash = base64url(SHA-256(base64url(policy))) (python hashlib).
  EXPECT_EQ(PolicyHash(kMinimalPolicy), "z0FRjKS0ssQTNur1V6BV8WIrh9M3fzgTo0EfHRvapWU");
  // x-ms-policy-token-hash = base64url(SHA-256(the JWS as sent)).
  EXPECT_EQ(PolicyTokenHash(kMinimalPolicyJws), "c6sEJQItV50OeP9IrP_bzywAMOVvj5uDPbklA_bwdYQ");
  EXPECT_EQ(PolicyHash(kMinimalPolicy).size(), 43u);
}

TEST(Base64UrlTest, EncodeDecode) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xfe"}) {
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64UrlDecode("Zg=").status().message(),
            "base64url: character '=' at offset 2 (base64url here has no '=' padding, RFC 7515 "
            "section 2)");
  EXPECT_EQ(Base64UrlDecode("Zh").status().message(),
            "base64url: the last character has stray bits set");
  EXPECT_EQ(Base64UrlDecode("Zm9vY").status().message(),
            "base64url of length 5 cannot be decoded (length % 4 == 1)");
  EXPECT_EQ(Base64UrlDecode("Zm\n9").status().message(), "base64url: character 0x0a at offset 2");
}

}  // namespace
}  // namespace confcom::attest
