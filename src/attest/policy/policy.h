// Azure Attestation's (MAA) policy language: parse a policy, evaluate it against the claims an
// attestation produced. `version=1.0|1.1|1.2;` then configurationrules (1.1+),
// authorizationrules and issuancerules, each a list of `conditions => action;` rules.
// docs/attest-policy.md gives the grammar, the evaluation semantics and what differs from MAA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace confcom::attest {

// Bounds. The default policy is 614 bytes; 64 KiB holds ~800 rules of its size (~80 bytes).
inline constexpr size_t kMaxPolicyBytes = 64 * 1024;
inline constexpr size_t kMaxRules = 1024;             // all sections together
inline constexpr size_t kMaxConditionsPerRule = 32;   // `[...] && [...]`
inline constexpr size_t kMaxPropertyConditions = 16;  // inside one `[...]`
inline constexpr size_t kMaxIncomingClaims = 1024;
inline constexpr size_t kMaxClaims = 4096;                // incoming + added by the policy
inline constexpr size_t kMaxMatchesPerRule = 1024;        // claim combinations one rule acts on
inline constexpr uint64_t kMaxEvaluationSteps = 1000000;  // claim-condition tests (<30 ms)

// One claim: `value` is a JSON string, integer or boolean (MAA's String, Integer, Boolean).
// `issuer` is "AttestationService" for the service's claims, "AttestationPolicy" for those a
// policy adds, as MAA names them.
struct Claim {
  std::string type;
  nlohmann::json value;
  std::string issuer = "AttestationService";
};

// A rule of the policy: its first line (1-based) and its text on one line.
struct PolicyRule {
  int line = 0;
  std::string text;
};

struct PolicyOutcome {
  // True when an authorization rule permitted and none denied.
  bool permitted = false;
  // The deny() rule that refused, or the permit() rule that allowed; absent when no
  // authorization rule fired (then permitted is false).
  std::optional<PolicyRule> decided_by;
  // When !permitted, one sentence for the error message, e.g.
  // "policy rule at line 7 denied: [type==\"x-ms-sgx-is-debuggable\", value==true] => deny();".
  std::string reason;
  // issue() claims in the order issued (issuer "AttestationPolicy"); empty when !permitted.
  std::vector<Claim> issued;
  // issueproperty() claims in order, configuration rules first (also when !permitted).
  std::vector<Claim> properties;
  // The last "x-ms-sgx-tcbidentifier" property's value, if one was issued as a string.
  std::optional<std::string> tcb_identifier;
};

namespace detail {
struct PolicyAst;
}

// A parsed policy. Immutable: const methods are safe from many threads; copies share the parse.
class Policy {
 public:
  // Parses `text`. InvalidArgument "line L, column C: <what was expected>" for a syntax error
  // (columns count characters from 1), or naming the bound exceeded (kMaxPolicyBytes,
  // kMaxRules, ...); Unsupported "line L, column C: ..." for MAA features not implemented
  // here (policy 1.2's functions such as JmesPath()).
  static Result<Policy> Parse(std::string_view text);

  // Runs configuration, authorization and (when permitted) issuance rules over `incoming`.
  // Returns the outcome; InvalidArgument for a claim whose value is not a string, integer or
  // boolean, more than kMaxIncomingClaims claims, or an evaluation that passes a bound
  // (kMaxClaims, kMaxMatchesPerRule, kMaxEvaluationSteps), naming the rule's line.
  Result<PolicyOutcome> Evaluate(std::span<const Claim> incoming) const;

  // "1.0", "1.1" or "1.2".
  const std::string& version() const;
  // The text as given to Parse.
  const std::string& text() const;
  // Number of rules in all sections.
  size_t rule_count() const;

 private:
  explicit Policy(std::shared_ptr<const detail::PolicyAst> ast) : ast_(std::move(ast)) {}
  std::shared_ptr<const detail::PolicyAst> ast_;
};

// MAA's default policy for SgxEnclave, as Microsoft's "Examples of an attestation policy"
// page prints it (tabs, "\n" line ends, no newline after the last "};").
extern const std::string_view kDefaultSgxPolicy;

// Maps MAA's `x-ms-sgx-tcbidentifier` property to a TCB evaluation data number: "azuredefault"
// gives nullopt (the service's own baseline), a decimal number N in [1, 1000000] gives N.
// InvalidArgument for anything else.
Result<std::optional<uint32_t>> TcbEvaluationDataNumber(std::string_view tcb_identifier);

}  // namespace confcom::attest
