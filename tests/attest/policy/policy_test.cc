#include "attest/policy/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace confcom::attest {
namespace {

using nlohmann::json;

// The parse error of `text`, "" if it parses.
std::string ParseError(std::string_view text) {
  Result<Policy> p = Policy::Parse(text);
  return p.ok() ? "" : p.status().message();
}

Policy MustParse(std::string_view text) {
  Result<Policy> p = Policy::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status().ToString() << "\n" << text;
  return std::move(p).value();
}

PolicyOutcome MustEvaluate(const Policy& p, const std::vector<Claim>& claims) {
  Result<PolicyOutcome> r = p.Evaluate(claims);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : PolicyOutcome{};
}

// The incoming claims of an SGX attestation, as the service makes them.
std::vector<Claim> SgxClaims(bool debuggable = false, int svn = 3) {
  return {
      {"x-ms-attestation-type", "sgx"},
      {"x-ms-sgx-is-debuggable", debuggable},
      {"x-ms-sgx-mrenclave", std::string(64, 'e')},
      {"x-ms-sgx-mrsigner", std::string(64, 'a')},
      {"x-ms-sgx-product-id", 7},
      {"x-ms-sgx-svn", svn},
  };
}

std::vector<std::string> IssuedTypes(const PolicyOutcome& o) {
  std::vector<std::string> out;
  for (const Claim& c : o.issued) out.push_back(c.type);
  return out;
}

// ---- MAA's default SGX policy ----

TEST(DefaultSgxPolicyTest, ParsesAsVersion11WithEightRules) {
  Policy p = MustParse(kDefaultSgxPolicy);
  EXPECT_EQ(p.version(), "1.1");
  EXPECT_EQ(p.rule_count(), 8u);
  EXPECT_EQ(p.text(), kDefaultSgxPolicy);
}

TEST(DefaultSgxPolicyTest, IssuesTheOlderClaimNamesAndTheTcbIdentifier) {
  Policy p = MustParse(kDefaultSgxPolicy);
  PolicyOutcome o = MustEvaluate(p, SgxClaims());
  ASSERT_TRUE(o.permitted);
  ASSERT_TRUE(o.decided_by);
  EXPECT_EQ(o.decided_by->line, 6);
  EXPECT_EQ(o.decided_by->text, "=> permit();");
  EXPECT_EQ(IssuedTypes(o),
            (std::vector<std::string>{"is-debuggable", "sgx-mrsigner", "sgx-mrenclave",
                                      "product-id", "svn", "tee"}));
  EXPECT_EQ(o.issued[0].value, json(false));
  EXPECT_EQ(o.issued[1].value, json(std::string(64, 'a')));
  EXPECT_EQ(o.issued[2].value, json(std::string(64, 'e')));
  EXPECT_EQ(o.issued[3].value, json(7));
  EXPECT_EQ(o.issued[4].value, json(3));
  EXPECT_EQ(o.issued[5].value, json("sgx"));
  for (const Claim& c : o.issued) EXPECT_EQ(c.issuer, "AttestationPolicy");
  ASSERT_EQ(o.properties.size(), 1u);
  EXPECT_EQ(o.properties[0].type, "x-ms-sgx-tcbidentifier");
  EXPECT_EQ(o.tcb_identifier, "azuredefault");
  EXPECT_TRUE(o.reason.empty());
}

TEST(DefaultSgxPolicyTest, MissingClaimsAreSimplyNotIssued) {
  Policy p = MustParse(kDefaultSgxPolicy);
  PolicyOutcome o = MustEvaluate(p, {{"x-ms-sgx-svn", 1}});
  EXPECT_TRUE(o.permitted);
  EXPECT_EQ(IssuedTypes(o), std::vector<std::string>{"svn"});
}

// ---- Policies from Microsoft's docs and SDK tests parse ----

TEST(PolicyParseTest, MicrosoftSamplesParse) {
  const char* samples[] = {
      // The JS SDK's policy tests.
      "version=1.0; authorizationrules{=> permit();}; issuancerules{};",
      // "Examples of an attestation policy": custom SGX policy (placeholders filled in).
      "version= 1.0;\nauthorizationrules\n{\n"
      "       [ type==\"x-ms-sgx-is-debuggable\", value==false ]\n"
      "        && [ type==\"x-ms-sgx-product-id\", value==1 ]\n"
      "        && [ type==\"x-ms-sgx-svn\", value>= 0 ]\n"
      "        && [ type==\"x-ms-sgx-mrsigner\", value==\"aa\"]\n"
      "    => permit();\n};\nissuancerules {\n"
      "c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"custom\", value=c.value);\n};\n",
      // Multiple enclaves: authorization rules only.
      "version= 1.0;\nauthorizationrules \n{\n"
      "\t[ type==\"x-ms-sgx-is-debuggable\", value==true ]&&\n"
      "\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner1\"] => permit(); \n"
      "\t[ type==\"x-ms-sgx-is-debuggable\", value==true ]&& \n"
      "\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner2\"] => permit(); \n};\n",
      // Custom TCB baseline (its stray typographic quote corrected), capitalised section name.
      "version = 1.1;  \nconfigurationrules  \n{  \n=> issueproperty (  \n"
      "type = \"x-ms-sgx-tcbidentifier\", value = \"11\"  \n);  \n};  \n\n"
      "authorizationrules  \n{  \n=> permit();  \n};  \nIssuancerules  \n{  \n"
      "c:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);  \n};  \n",
      // Policy version 1.1's TPM sample: integer and boolean properties.
      "version=1.1;\n\nconfigurationrules{\n=> issueproperty(type = \"required_pcr_mask\", "
      "value = 15);\n=> issueproperty(type = \"require_valid_aik_cert\", value = false);\n};\n\n"
      "authorizationrules { \n    => permit();\n};\n\nissuancerules\n{\n"
      "[type==\"aikValidated\", value==true]&& \n[type==\"secureBootEnabled\", value==true] => "
      "issue(type=\"PlatformAttested\", value=true);\n};\n",
      // The claim rule grammar page: bindings referenced by later conditions and actions.
      "version=1.0;authorizationrules{=>permit();};issuancerules{\n"
      "F1:[type==\"OSName\" , issuer==\"CustomClaim\"] && \n"
      "[type==\"OSName\" , issuer==\"AttestationService\", value== F1.value ] \n"
      "=> issueproperty(type=\"report_validity_in_minutes\", value=1440);\n"
      "F1:[type==\"OSName\" , issuer==\"CustomClaim\"] && \n"
      "C2:[type==\"OSName\" , issuer==\"AttestationService\", value== F1.value ] \n"
      "=> issue(claim = C2);\n};",
      // Version 1.2: comments and the not-condition.
      "version=1.2;\n\nauthorizationrules { \n    => permit();\n};\n\nissuancerules\n{\n"
      "// Verify if secure boot is enabled.\n"
      "![type==\"secureBootEnabled\", issuer==\"AttestationPolicy\"] => "
      "add(type=\"secureBootEnabled\", value=false);\n};\n",
  };
  for (const char* s : samples) EXPECT_EQ(ParseError(s), "") << s;
}

TEST(PolicyParseTest, KeywordsAreCaseInsensitiveNamesAreNot) {
  EXPECT_EQ(ParseError("VERSION=1.0; AuthorizationRules{ C:[Type==\"x\"] => Permit(); };"), "");
  EXPECT_EQ(ParseError("version=1.0; authorizationrules{ C:[type==\"x\"] => add(type=\"y\", "
                       "value=c.value); };"),
            "line 1, column 71: 'c' is not bound by an earlier condition of this rule (bind it "
            "with c:[...])");
}

TEST(PolicyParseTest, ValuesOfEachKind) {
  EXPECT_EQ(
      ParseError("version=1.0; authorizationrules{ [value==-5] && [value<=9223372036854775807]"
                 " && [value==\"s\\\"q\\\\\"] && [value!=True] => permit(); };"),
      "");
  EXPECT_EQ(ParseError("version=1.0; authorizationrules{ [] => permit(); };"), "");
}

// ---- Errors: what was expected, with its exact line and column ----

struct BadPolicy {
  const char* text;
  const char* error;
};

TEST(PolicyParseTest, ErrorsNameLineAndColumn) {
  const BadPolicy cases[] = {
      {"", "line 1, column 1: expected 'version=1.0;' (or 1.1, 1.2), found the end of the policy"},
      {"version=2.0;", "line 1, column 9: unsupported version 2.0 (MAA defines 1.0, 1.1 and 1.2)"},
      {"version=1;", "line 1, column 9: unsupported version 1 (MAA defines 1.0, 1.1 and 1.2)"},
      {"version 1.0;", "line 1, column 9: expected '=' after 'version', found '1.0'"},
      {"version=1.0",
       "line 1, column 12: expected ';' after the version, found the end of the "
       "policy"},
      {"version=1.0;\nauthorizationrules {\n  => permit()\n};",
       "line 4, column 1: expected ';' after the rule's action, found '}'"},
      {"version=1.0;\nauthorizationrules\n{\n    c:[type=\"secureBootEnabled\"]=> permit();\n};",
       "line 4, column 12: expected '==', found '=' (conditions compare with '==')"},
      {"version=1.0;\nauthorizationrules{\n=> permit();\n};\nissuancerules{\n"
       "=> issue(type = \"x\", value = \"11\xE2\x80\x9D\n);\n};",
       "line 6, column 30: unterminated string (a string ends with '\"' on its line)"},
      {"version=1.0;\nauthorizationrules{ [type==\xE2\x80\x9Cx\"] => permit(); };",
       "line 2, column 28: unexpected character U+201C (a typographic quote; strings use '\"')"},
      {"version=1.0;\nconfigurationrules{\n};",
       "line 2, column 1: configurationrules needs version=1.1 or later"},
      {"version=1.1;\nauthorizationrules{ ![type==\"x\"] => permit(); };",
       "line 2, column 21: '![...]' (no such claim) needs version=1.2"},
      {"version=1.0; authorizationrules{ => permit(); }; issuancerules{ => permit(); };",
       "line 1, column 68: permit() is not allowed in issuancerules (allowed there: add, issue "
       "and issueproperty)"},
      {"version=1.0; authorizationrules{ => issue(type=\"a\", value=1); };",
       "line 1, column 37: issue() is not allowed in authorizationrules (allowed there: permit, "
       "deny and add)"},
      {"version=1.1; configurationrules{ => permit(); }; authorizationrules{ => permit(); };",
       "line 1, column 37: permit() is not allowed in configurationrules (allowed there: "
       "issueproperty)"},
      {"version=1.0; authorizationrules{};\nauthorizationrules{};",
       "line 2, column 1: a second authorizationrules section (the first is at line 1)"},
      {"version=1.0; issuancerules{};",
       "line 1, column 30: expected an authorizationrules section (every policy needs one)"},
      {"version=1.0; authorizationrules{}; foo",
       "line 1, column 36: expected a section (configurationrules, authorizationrules or "
       "issuancerules) or the end of the policy, found 'foo'"},
      {"version=1.0; authorizationrules{ => permit(); }",
       "line 1, column 48: expected ';' after the '}' of authorizationrules, found the end of the "
       "policy"},
      {"version=1.0; authorizationrules{ => permit();",
       "line 1, column 46: expected '}' closing authorizationrules (line 1), found the end of the "
       "policy"},
      {"version=1.0; authorizationrules{ [type==\"x\", value < \"5\"] => permit(); };",
       "line 1, column 52: '<' compares integers; strings and booleans allow only == and !="},
      {"version=1.0; authorizationrules{ [type >= \"x\"] => permit(); };",
       "line 1, column 40: '>=' needs integers; type is a string (use == or !=)"},
      {"version=1.0; authorizationrules{ [issuer == 5] => permit(); };",
       "line 1, column 45: issuer is a string: compare it with a string"},
      {"version=1.0; authorizationrules{ [value == 99999999999999999999] => permit(); };",
       "line 1, column 44: integer 99999999999999999999 is out of range (64-bit signed)"},
      {"version=1.0; authorizationrules{ [value == 1.5] => permit(); };",
       "line 1, column 44: 1.5 is not an integer (claim values are integers, strings or "
       "booleans)"},
      {"version=1.0; authorizationrules{ [value == \"a\\n\"] => permit(); };",
       "line 1, column 46: unknown escape in a string (only \\\" and \\\\)"},
      {"version=1.0; authorizationrules{ [valu == 1] => permit(); };",
       "line 1, column 35: expected 'type', 'value' or 'issuer', found 'valu'"},
      {"version=1.0; authorizationrules{ [type == \"x\"] permit(); };",
       "line 1, column 48: expected '&&' or '=>' after a condition, found 'permit'"},
      {"version=1.0; authorizationrules{ [type == \"x\" value == 1] => permit(); };",
       "line 1, column 47: expected ',' or ']' in a condition, found 'value'"},
      {"version=1.0; authorizationrules{ => allow(); };",
       "line 1, column 37: expected an action: permit(), deny(), add(...), issue(...) or "
       "issueproperty(...), found 'allow'"},
      {"version=1.0; authorizationrules{ => permit(1); };",
       "line 1, column 44: expected ')' (permit() takes no arguments), found '1'"},
      {"version=1.0; authorizationrules{ => permit(); }; issuancerules{ => issue(type=\"a\"); };",
       "line 1, column 82: expected ', value=...', found ')'"},
      {"version=1.0; authorizationrules{ => permit(); }; issuancerules{ => issue(\"a\", "
       "value=1); };",
       "line 1, column 74: expected 'type=', 'value=' or 'claim=' in issue(), found a string"},
      {"version=1.0; authorizationrules{ => permit(); }; issuancerules{ => issue(type=1, "
       "value=1); };",
       "line 1, column 79: a claim's type is a string"},
      {"version=1.0; authorizationrules{ => permit(); }; issuancerules{ => issue(claim=c); };",
       "line 1, column 80: expected a name bound by a condition of this rule after 'claim=', "
       "found 'c'"},
      {"version=1.0; authorizationrules{ c:[type==\"a\"] && c:[type==\"b\"] => permit(); };",
       "line 1, column 51: 'c' is already bound in this rule"},
      {"version=1.0; authorizationrules{ c:[type==\"a\", value==c.value] => permit(); };",
       "line 1, column 55: 'c' is not bound by an earlier condition of this rule (bind it with "
       "c:[...])"},
      {"version=1.1; configurationrules{ => issueproperty(type=\"x-ms-sgx-tcbidentifier\", "
       "value=11); }; authorizationrules{ => permit(); };",
       "line 1, column 88: x-ms-sgx-tcbidentifier takes a string, e.g. \"azuredefault\""},
      {"version=1.0; authorizationrules{ => permit(); } # ",
       "line 1, column 49: unexpected character '#'"},
      // Columns count characters, not bytes: "é" is one column.
      {"version=1.0; authorizationrules{ [type==\"\xC3\xA9\xC3\xA9\"] => nope(); };",
       "line 1, column 50: expected an action: permit(), deny(), add(...), issue(...) or "
       "issueproperty(...), found 'nope'"},
      {"version=1.0; authorizationrules{ [type==\"\xC3\x28\"] => permit(); };",
       "line 1, column 42: invalid UTF-8 sequence"},
      {"version=1.0; // comment\n\n  authorizationrules{ => permit() };",
       "line 3, column 35: expected ';' after the rule's action, found '}'"},
  };
  for (const BadPolicy& c : cases) {
    EXPECT_EQ(ParseError(c.text), c.error) << c.text;
  }
}

TEST(PolicyParseTest, FunctionsOfVersion12AreUnsupportedNotMalformed) {
  Result<Policy> p = Policy::Parse(
      "version=1.2; authorizationrules{ => permit(); }; issuancerules{\n"
      "  c:[type==\"events\"] => add(type=\"x\", value=JmesPath(c.value, \"foo\"));\n};");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kUnsupported);
  EXPECT_EQ(p.status().message(),
            "line 2, column 45: function JmesPath() is not supported (MAA policy 1.2's functions "
            "such as JmesPath() are not implemented here)");
}

TEST(PolicyParseTest, Bounds) {
  std::string big = "version=1.0; authorizationrules{ => permit(); };";
  big += "//" + std::string(kMaxPolicyBytes, 'x');
  EXPECT_EQ(ParseError(big), "policy is 65586 bytes; the limit is 65536");

  std::string many = "version=1.0; authorizationrules{\n";
  for (size_t i = 0; i <= kMaxRules; ++i) many += "=>permit();\n";
  many += "};";
  EXPECT_EQ(ParseError(many), "line 1026, column 1: more than 1024 rules");

  std::string conds = "version=1.0; authorizationrules{ ";
  for (size_t i = 0; i <= kMaxConditionsPerRule; ++i) conds += "[type==\"a\"] && ";
  conds += "[] => permit(); };";
  EXPECT_EQ(ParseError(conds), "line 1, column 514: more than 32 conditions in one rule");

  std::string props = "version=1.0; authorizationrules{ [";
  for (size_t i = 0; i <= kMaxPropertyConditions; ++i) props += "value>=0,";
  props += "value>=0] => permit(); };";
  EXPECT_EQ(ParseError(props), "line 1, column 179: more than 16 comparisons in one condition");
}

TEST(PolicyParseTest, ByteOrderMarkAndCrLf) {
  EXPECT_EQ(ParseError("\xEF\xBB\xBFversion=1.0;\r\nauthorizationrules{\r\n=> permit();\r\n};\r\n"),
            "");
  EXPECT_EQ(ParseError("version=1.0;\r\nauthorizationrules{\r\n=> permit()\r\n};"),
            "line 4, column 1: expected ';' after the rule's action, found '}'");
}

// ---- Evaluation semantics ----

TEST(PolicyEvaluateTest, NoPermitMeansNotPermitted) {
  Policy p = MustParse(
      "version=1.0;\nauthorizationrules{\n"
      "  [type==\"x-ms-sgx-is-debuggable\", value==false] => permit();\n};");
  PolicyOutcome o = MustEvaluate(p, SgxClaims(/*debuggable=*/true));
  EXPECT_FALSE(o.permitted);
  EXPECT_FALSE(o.decided_by);
  EXPECT_EQ(o.reason,
            "no authorization rule permitted (authorizationrules at line 2: 1 rule, none ending in "
            "permit() matched)");
  EXPECT_TRUE(MustEvaluate(p, SgxClaims(false)).permitted);
}

TEST(PolicyEvaluateTest, EmptyAuthorizationRulesPermitNothing) {
  Policy p = MustParse(
      "version=1.0; authorizationrules{}; issuancerules{ => issue(type=\"a\", "
      "value=1); };");
  PolicyOutcome o = MustEvaluate(p, SgxClaims());
  EXPECT_FALSE(o.permitted);
  EXPECT_TRUE(o.issued.empty());
}

TEST(PolicyEvaluateTest, DenyWinsOverAnEarlierPermitAndNamesItsRule) {
  Policy p = MustParse(
      "version=1.0;\nauthorizationrules{\n  => permit();\n"
      "  [type==\"x-ms-sgx-is-debuggable\", value==true]\n     => deny();\n};\n"
      "issuancerules{ => issue(type=\"a\", value=1); };");
  PolicyOutcome o = MustEvaluate(p, SgxClaims(/*debuggable=*/true));
  EXPECT_FALSE(o.permitted);
  ASSERT_TRUE(o.decided_by);
  EXPECT_EQ(o.decided_by->line, 4);
  EXPECT_EQ(o.decided_by->text, "[type==\"x-ms-sgx-is-debuggable\", value==true] => deny();");
  EXPECT_EQ(o.reason,
            "policy rule at line 4 denied: [type==\"x-ms-sgx-is-debuggable\", value==true] => "
            "deny();");
  EXPECT_TRUE(o.issued.empty());

  PolicyOutcome ok = MustEvaluate(p, SgxClaims(false));
  EXPECT_TRUE(ok.permitted);
  EXPECT_EQ(ok.decided_by->line, 3);
  EXPECT_EQ(IssuedTypes(ok), std::vector<std::string>{"a"});
}

TEST(PolicyEvaluateTest, ARulesTextDropsCommentsAndLineBreaks) {
  Policy p = MustParse(
      "version=1.0;\nauthorizationrules{\n  [type==\"x\"] // no x allowed\n  &&[value==1]=>\n"
      "  deny ( ) ;\n  => permit();\n};");
  PolicyOutcome o = MustEvaluate(p, {{"x", 1}});
  EXPECT_FALSE(o.permitted);
  EXPECT_EQ(o.reason, "policy rule at line 3 denied: [type==\"x\"] &&[value==1]=> deny ( ) ;");
}

TEST(PolicyEvaluateTest, ConfigurationPropertiesSurviveADenial) {
  Policy p = MustParse(
      "version=1.1; configurationrules{ => issueproperty(type=\"x-ms-sgx-tcbidentifier\", "
      "value=\"17\"); }; authorizationrules{ => deny(); };");
  PolicyOutcome o = MustEvaluate(p, SgxClaims());
  EXPECT_FALSE(o.permitted);
  EXPECT_EQ(o.tcb_identifier, "17");
  ASSERT_EQ(o.properties.size(), 1u);
}

struct Comparison {
  const char* condition;
  bool permitted;  // against SgxClaims(): svn 3, product-id 7, mrsigner "aa..a", not debuggable
};

TEST(PolicyEvaluateTest, ComparisonOperators) {
  const Comparison cases[] = {
      {"[type==\"x-ms-sgx-svn\", value==3]", true},
      {"[type==\"x-ms-sgx-svn\", value!=3]", false},
      {"[type==\"x-ms-sgx-svn\", value<3]", false},
      {"[type==\"x-ms-sgx-svn\", value<=3]", true},
      {"[type==\"x-ms-sgx-svn\", value>2]", true},
      {"[type==\"x-ms-sgx-svn\", value>=4]", false},
      {"[type==\"x-ms-sgx-svn\", value>=-1]", true},
      {"[type==\"x-ms-sgx-svn\", value>=0, value<=10]", true},
      {"[type==\"x-ms-sgx-svn\", value==\"3\"]", false},  // no coercion across kinds
      {"[type==\"x-ms-sgx-svn\", value!=\"3\"]", false},  // nor for !=
      {"[type==\"x-ms-sgx-is-debuggable\", value==false]", true},
      {"[type==\"x-ms-sgx-is-debuggable\", value!=true]", true},
      {"[type==\"x-ms-sgx-is-debuggable\", value==0]", false},
      {"[type==\"x-ms-sgx-mrsigner\", value==\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
       "AAAAAAAAAAAA\"]",
       false},  // case-sensitive
      {"[type!=\"x-ms-sgx-svn\"]", true},
      {"[type==\"X-MS-SGX-SVN\"]", false},
      {"[type==\"x-ms-sgx-svn\", issuer==\"AttestationService\"]", true},
      {"[type==\"x-ms-sgx-svn\", issuer==\"AttestationPolicy\"]", false},
      {"[type==\"nope\"]", false},
      {"[value==7]", true},  // any claim with value 7
      {"[]", true},
      {"c:[type==\"x-ms-sgx-svn\"] && [type==\"x-ms-sgx-product-id\", value > c.value]", true},
      {"c:[type==\"x-ms-sgx-svn\"] && [type==\"x-ms-sgx-product-id\", value < c.value]", false},
      {"c:[type==\"x-ms-sgx-mrsigner\"] && [type==\"x-ms-sgx-mrenclave\", value == c.value]",
       false},
      {"c:[type==\"x-ms-sgx-mrsigner\"] && [type==\"x-ms-sgx-mrenclave\", value < c.value]", false},
      {"c:[type==\"x-ms-sgx-svn\"] && [type==c.type, value==c.value]", true},
  };
  for (const Comparison& c : cases) {
    Policy p = MustParse(std::string("version=1.0; authorizationrules{ ") + c.condition +
                         " => permit(); };");
    EXPECT_EQ(MustEvaluate(p, SgxClaims()).permitted, c.permitted) << c.condition;
  }
}

TEST(PolicyEvaluateTest, NotConditionNeedsTheClaimAbsent) {
  Policy p = MustParse(
      "version=1.2; authorizationrules{ => permit(); }; issuancerules{\n"
      "  ![type==\"secureBootEnabled\"] => add(type=\"secureBootEnabled\", value=false);\n"
      "  ![type==\"secureBootEnabled\"] => issue(type=\"never\", value=1);\n"
      "  c:[type==\"secureBootEnabled\", issuer==\"AttestationPolicy\"] => issue(claim=c);\n};");
  PolicyOutcome o = MustEvaluate(p, {});
  ASSERT_EQ(o.issued.size(), 1u);
  EXPECT_EQ(o.issued[0].type, "secureBootEnabled");
  EXPECT_EQ(o.issued[0].value, json(false));

  PolicyOutcome present = MustEvaluate(p, {{"secureBootEnabled", true}});
  ASSERT_EQ(present.issued.size(), 0u);  // the service's claim has the other issuer
}

TEST(PolicyEvaluateTest, ABoundConditionActsOnEveryMatchingClaimInOrder) {
  Policy p = MustParse(
      "version=1.0; authorizationrules{ => permit(); }; issuancerules{\n"
      "  c:[type==\"k\"] => issue(claim=c);\n"
      "  a:[type==\"k\", issuer==\"AttestationService\"] && b:[type==\"k\", value > a.value, "
      "issuer==\"AttestationService\"] => issue(type=\"pair\", "
      "value=b.value);\n};");
  PolicyOutcome o = MustEvaluate(p, {{"k", 1}, {"other", "x"}, {"k", 2}, {"k", 3}});
  std::vector<json> values;
  for (const Claim& c : o.issued) values.push_back(c.value);
  // k 1,2,3 (issued claims join the set, hence the second rule's issuer conditions); then the pairs
  // (1,2), (1,3), (2,3) give b = 2, 3, 3.
  EXPECT_EQ(values, (std::vector<json>{1, 2, 3, 2, 3, 3}));
  EXPECT_EQ(IssuedTypes(o), (std::vector<std::string>{"k", "k", "k", "pair", "pair", "pair"}));
}

TEST(PolicyEvaluateTest, AddIsSeenByLaterRulesNotByItselfNorTheToken) {
  Policy p = MustParse(
      "version=1.0;\nauthorizationrules{\n"
      "  c:[type==\"x-ms-sgx-svn\"] => add(type=\"svn-copy\", value=c.value);\n"
      "  c:[type==\"svn-copy\", issuer==\"AttestationPolicy\", value==3] => permit();\n};\n"
      "issuancerules{\n"
      "  c:[type==\"n\"] => add(type=\"n\", value=c.value);\n"
      "  c:[type==\"n\"] => issue(claim=c);\n"
      "  c:[type==\"svn-copy\"] => issue(type=\"copied\", value=c.value);\n};");
  PolicyOutcome o = MustEvaluate(p, [] {
    auto claims = SgxClaims();
    claims.push_back({"n", "once"});
    return claims;
  }());
  ASSERT_TRUE(o.permitted);
  EXPECT_EQ(o.decided_by->line, 4);
  // The rule adding "n" did not see its own addition: two "n" claims, not an endless loop.
  EXPECT_EQ(IssuedTypes(o), (std::vector<std::string>{"n", "n", "copied"}));
  EXPECT_EQ(o.issued[2].value, json(3));
}

TEST(PolicyEvaluateTest, IssuedClaimsAreVisibleToLaterIssuanceRules) {
  Policy p = MustParse(
      "version=1.0; authorizationrules{ => permit(); }; issuancerules{\n"
      "  => issue(type=\"level\", value=100);\n"
      "  c:[type==\"level\", issuer==\"AttestationPolicy\"] => issueproperty(type=\"lvl\", "
      "value=c.value);\n};");
  PolicyOutcome o = MustEvaluate(p, {});
  EXPECT_EQ(IssuedTypes(o), std::vector<std::string>{"level"});
  ASSERT_EQ(o.properties.size(), 1u);
  EXPECT_EQ(o.properties[0].type, "lvl");
  EXPECT_EQ(o.properties[0].value, json(100));
  EXPECT_FALSE(o.tcb_identifier);
}

TEST(PolicyEvaluateTest, MicrosoftsSignedSampleDeniesDebuggableEnclaves) {
  // The payload of the signed policy on "Examples of an attestation policy" (one line).
  Policy p = MustParse(
      "version=1.0;authorizationrules {c:[type==\"$is-debuggable\"] && [value==true] => "
      "deny();=> permit();};issuancerules {    c:[type==\"$is-debuggable\"] => "
      "issue(type=\"NotDebuggable\", value=c.value);};");
  PolicyOutcome o = MustEvaluate(p, {{"$is-debuggable", true}});
  EXPECT_FALSE(o.permitted);
  EXPECT_EQ(o.reason,
            "policy rule at line 1 denied: c:[type==\"$is-debuggable\"] && [value==true] => "
            "deny();");
  PolicyOutcome ok = MustEvaluate(p, {{"$is-debuggable", false}});
  EXPECT_TRUE(ok.permitted);
  EXPECT_EQ(IssuedTypes(ok), std::vector<std::string>{"NotDebuggable"});
}

TEST(PolicyEvaluateTest, BadClaimsAndBoundsAreErrors) {
  Policy p = MustParse(kDefaultSgxPolicy);
  Result<PolicyOutcome> r = p.Evaluate(std::vector<Claim>{{"x", 1.5}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "incoming claim \"x\": a claim value must be a string, an integer or a boolean, not "
            "number");
  r = p.Evaluate(std::vector<Claim>{{"x", json::object()}});
  EXPECT_FALSE(r.ok());
  r = p.Evaluate(std::vector<Claim>{{"x", json(uint64_t{1} << 63)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "incoming claim \"x\": integer 9223372036854775808 is out of range (64-bit signed)");
  r = p.Evaluate(std::vector<Claim>(kMaxIncomingClaims + 1, Claim{"x", 1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "1025 incoming claims; the limit is 1024");

  Policy pairs = MustParse(
      "version=1.0;\nauthorizationrules{ => permit(); };\nissuancerules{\n"
      "  a:[type==\"x\"] && b:[type==\"x\"] => issue(type=\"p\", value=1);\n};");
  r = pairs.Evaluate(std::vector<Claim>(40, Claim{"x", 1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "policy rule at line 4: more than 1024 claim combinations match");
  EXPECT_TRUE(pairs.Evaluate(std::vector<Claim>(32, Claim{"x", 1})).ok());  // 1024 exactly

  Policy slow = MustParse(
      "version=1.0;\nauthorizationrules{ a:[type==\"x\"] && [type==\"y\"] => permit(); };");
  r = slow.Evaluate(std::vector<Claim>(kMaxIncomingClaims, Claim{"x", 1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "policy rule at line 2: evaluation passed 1000000 claim comparisons");

  Policy bad_type = MustParse(
      "version=1.0;authorizationrules{=>permit();};issuancerules{\n"
      "c:[type==\"n\"] => issue(type=c.value, value=1);};");
  r = bad_type.Evaluate(std::vector<Claim>{{"n", 5}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "policy rule at line 2: the claim's type must be a non-empty string");
  EXPECT_TRUE(bad_type.Evaluate(std::vector<Claim>{{"n", "named"}}).ok());

  Policy growth = MustParse(
      "version=1.0;authorizationrules{=>permit();};issuancerules{\n"
      "c:[type==\"n\"] => add(type=\"n\", value=c.value);\n"
      "c:[type==\"n\"] => add(type=\"n\", value=c.value);\n"
      "c:[type==\"n\"] => add(type=\"n\", value=c.value);\n};");
  r = growth.Evaluate(std::vector<Claim>(1000, Claim{"n", 1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "policy rule at line 3: more than 1024 claim combinations match");
}

TEST(PolicyEvaluateTest, PoliciesAreSharedValues) {
  Policy a = MustParse(kDefaultSgxPolicy);
  Policy b = a;
  EXPECT_EQ(&a.text(), &b.text());
  EXPECT_TRUE(MustEvaluate(b, SgxClaims()).permitted);
}

TEST(TcbEvaluationDataNumberTest, AzureDefaultAndNumbers) {
  EXPECT_EQ(*TcbEvaluationDataNumber("azuredefault"), std::nullopt);
  EXPECT_EQ(*TcbEvaluationDataNumber("10"), std::optional<uint32_t>(10));
  EXPECT_EQ(*TcbEvaluationDataNumber("17"), std::optional<uint32_t>(17));
  for (const char* bad : {"", "0", "011", "-1", "1.5", "AzureDefault", "17 ", "1000001"}) {
    Result<std::optional<uint32_t>> r = TcbEvaluationDataNumber(bad);
    ASSERT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(TcbEvaluationDataNumber("x").status().message(),
            "x-ms-sgx-tcbidentifier \"x\": expected \"azuredefault\" or a TCB evaluation data "
            "number such as \"17\"");
}

}  // namespace
}  // namespace confcom::attest
