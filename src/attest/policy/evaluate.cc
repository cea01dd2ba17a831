// Policy::Evaluate: runs the rules over the claim set (docs/attest-policy.md, "Evaluation").
// A rule's conditions are matched left to right; a condition with a name binds each claim that
// satisfies it in turn, so the action runs once per combination of bound claims (as the claim
// rule language MAA's descends from defines it); a condition without a name only needs one
// claim to exist, `![...]` needs none.
#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "attest/policy/policy.h"
#include "attest/policy/policy_ast.h"

namespace confcom::attest {
namespace {

using detail::ActionKind;
using detail::CompareOp;
using detail::Condition;
using detail::Operand;
using detail::Property;
using detail::Rule;

constexpr std::string_view kPolicyIssuer = "AttestationPolicy";

// A claim value as the policy language sees it.
struct Value {
  enum class Kind { kString, kInteger, kBool } kind = Kind::kString;
  std::string_view text;
  int64_t integer = 0;
  bool boolean = false;
};

Result<Value> ValueOf(const nlohmann::json& v) {
  Value out;
  if (v.is_string()) {
    out.kind = Value::Kind::kString;
    out.text = v.get_ref<const std::string&>();
  } else if (v.is_boolean()) {
    out.kind = Value::Kind::kBool;
    out.boolean = v.get<bool>();
  } else if (v.is_number_integer() && !v.is_number_unsigned()) {
    out.kind = Value::Kind::kInteger;
    out.integer = v.get<int64_t>();
  } else if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(fmt::format("integer {} is out of range (64-bit signed)", u));
    }
    out.kind = Value::Kind::kInteger;
    out.integer = static_cast<int64_t>(u);
  } else {
    return Status::InvalidArgument(fmt::format(
        "a claim value must be a string, an integer or a boolean, not {}", v.type_name()));
  }
  return out;
}

// Compares values of the same kind; values of different kinds satisfy no operator.
bool Compare(const Value& lhs, CompareOp op, const Value& rhs) {
  if (lhs.kind != rhs.kind) return false;
  int cmp = 0;
  switch (lhs.kind) {
    case Value::Kind::kString:
      cmp = lhs.text.compare(rhs.text);
      if (op != CompareOp::kEq && op != CompareOp::kNe) return false;
      break;
    case Value::Kind::kBool:
      cmp = lhs.boolean == rhs.boolean ? 0 : 1;
      if (op != CompareOp::kEq && op != CompareOp::kNe) return false;
      break;
    case Value::Kind::kInteger:
      cmp = lhs.integer < rhs.integer ? -1 : lhs.integer > rhs.integer ? 1 : 0;
      break;
  }
  switch (op) {
    case CompareOp::kEq: return cmp == 0;
    case CompareOp::kNe: return cmp != 0;
    case CompareOp::kLt: return cmp < 0;
    case CompareOp::kLe: return cmp <= 0;
    case CompareOp::kGt: return cmp > 0;
    case CompareOp::kGe: return cmp >= 0;
  }
  return false;
}

// The Value of a claim already checked by ValueOf (every claim in the set is).
Value ViewOf(const nlohmann::json& v) {
  Result<Value> r = ValueOf(v);
  return r.ok() ? *r : Value{};
}

class Evaluator {
 public:
  explicit Evaluator(const detail::PolicyAst& ast) : ast_(ast) {}

  Result<PolicyOutcome> Run(std::span<const Claim> incoming) {
    if (incoming.size() > kMaxIncomingClaims) {
      return Status::InvalidArgument(
          fmt::format("{} incoming claims; the limit is {}", incoming.size(), kMaxIncomingClaims));
    }
    claims_.reserve(incoming.size());
    for (const Claim& c : incoming) {
      Status st = AddClaim(c.type, c.value, c.issuer);
      if (!st.ok()) return st.WithContext(fmt::format("incoming claim \"{}\"", c.type));
    }
    PolicyOutcome out;
    CONFCOM_RETURN_IF_ERROR(RunSection(detail::kConfigurationRules, &out));
    CONFCOM_RETURN_IF_ERROR(RunSection(detail::kAuthorizationRules, &out));
    if (denied_) {
      out.permitted = false;
      out.decided_by = PolicyRule{denied_->line, denied_->text};
      out.reason = fmt::format("policy rule at line {} denied: {}", denied_->line, denied_->text);
    } else if (permitted_) {
      out.permitted = true;
      out.decided_by = PolicyRule{permitted_->line, permitted_->text};
      CONFCOM_RETURN_IF_ERROR(RunSection(detail::kIssuanceRules, &out));
    } else {
      out.permitted = false;
      out.reason = fmt::format(
          "no authorization rule permitted (authorizationrules at line {}: {} rule{}, none "
          "ending in permit() matched)",
          ast_.section_line[detail::kAuthorizationRules],
          ast_.rules[detail::kAuthorizationRules].size(),
          ast_.rules[detail::kAuthorizationRules].size() == 1 ? "" : "s");
    }
    if (!out.permitted) out.issued.clear();
    return out;
  }

 private:
  Status AddClaim(std::string type, nlohmann::json value, std::string issuer) {
    if (claims_.size() >= kMaxClaims) {
      return Status::InvalidArgument(fmt::format("more than {} claims", kMaxClaims));
    }
    CONFCOM_RETURN_IF_ERROR(ValueOf(value).status());
    claims_.push_back(Claim{std::move(type), std::move(value), std::move(issuer)});
    return Status::Ok();
  }

  Status RunSection(int section, PolicyOutcome* out) {
    for (const Rule& rule : ast_.rules[section]) {
      Status st = RunRule(rule, out);
      if (!st.ok()) return st.WithContext(fmt::format("policy rule at line {}", rule.line));
      if (denied_) return Status::Ok();  // deny() ends evaluation: nothing can undo it
    }
    return Status::Ok();
  }

  static Value PropertyOf(const Claim& c, Property p) {
    Value v;
    switch (p) {
      case Property::kType: v.text = c.type; return v;
      case Property::kIssuer: v.text = c.issuer; return v;
      case Property::kValue: return ViewOf(c.value);
    }
    return v;
  }

  Value OperandValue(const Operand& o, const std::vector<size_t>& bound) const {
    Value v;
    switch (o.kind) {
      case Operand::Kind::kString: v.text = o.text; break;
      case Operand::Kind::kInteger:
        v.kind = Value::Kind::kInteger;
        v.integer = o.integer;
        break;
      case Operand::Kind::kBool:
        v.kind = Value::Kind::kBool;
        v.boolean = o.boolean;
        break;
      case Operand::Kind::kReference: v = PropertyOf(claims_[bound[o.binding]], o.property); break;
    }
    return v;
  }

  Result<bool> Matches(const Claim& c, const Condition& cond, const std::vector<size_t>& bound) {
    if (++steps_ > kMaxEvaluationSteps) {
      return Status::InvalidArgument(
          fmt::format("evaluation passed {} claim comparisons", kMaxEvaluationSteps));
    }
    for (const auto& pc : cond.properties) {
      if (!Compare(PropertyOf(c, pc.property), pc.op, OperandValue(pc.operand, bound))) {
        return false;
      }
    }
    return true;
  }

  // Collects every combination of bound claims that satisfies conditions [index, end).
  Status Enumerate(const Rule& rule, size_t index, size_t visible, std::vector<size_t>* bound,
                   std::vector<std::vector<size_t>>* matches) {
    if (index == rule.conditions.size()) {
      if (matches->size() >= kMaxMatchesPerRule) {
        return Status::InvalidArgument(
            fmt::format("more than {} claim combinations match", kMaxMatchesPerRule));
      }
      matches->push_back(*bound);
      return Status::Ok();
    }
    const Condition& cond = rule.conditions[index];
    if (cond.negated || cond.binding < 0) {
      bool any = false;
      for (size_t k = 0; k < visible && !any; ++k) {
        CONFCOM_ASSIGN_OR_RETURN(any, Matches(claims_[k], cond, *bound));
      }
      if (any != cond.negated) return Enumerate(rule, index + 1, visible, bound, matches);
      return Status::Ok();
    }
    for (size_t k = 0; k < visible; ++k) {
      CONFCOM_ASSIGN_OR_RETURN(bool m, Matches(claims_[k], cond, *bound));
      if (!m) continue;
      (*bound)[cond.binding] = k;
      CONFCOM_RETURN_IF_ERROR(Enumerate(rule, index + 1, visible, bound, matches));
    }
    return Status::Ok();
  }

  Status RunRule(const Rule& rule, PolicyOutcome* out) {
    std::vector<size_t> bound(rule.binding_count, 0);
    std::vector<std::vector<size_t>> matches;
    // Claims the rule's own actions add are not visible to the rule itself.
    CONFCOM_RETURN_IF_ERROR(Enumerate(rule, 0, claims_.size(), &bound, &matches));
    if (matches.empty()) return Status::Ok();
    const auto& action = rule.action;
    switch (action.kind) {
      case ActionKind::kPermit:
        if (!permitted_) permitted_ = &rule;
        return Status::Ok();
      case ActionKind::kDeny: denied_ = &rule; return Status::Ok();
      default: break;
    }
    for (const auto& m : matches) {
      std::string type;
      nlohmann::json value;
      if (action.claim_binding >= 0) {
        const Claim& c = claims_[m[action.claim_binding]];
        type = c.type;
        value = c.value;
      } else {
        const Value t = OperandValue(action.type, m);
        if (t.kind != Value::Kind::kString || t.text.empty()) {
          return Status::InvalidArgument("the claim's type must be a non-empty string");
        }
        type = std::string(t.text);
        const Value v = OperandValue(action.value, m);
        switch (v.kind) {
          case Value::Kind::kString: value = std::string(v.text); break;
          case Value::Kind::kInteger: value = v.integer; break;
          case Value::Kind::kBool: value = v.boolean; break;
        }
      }
      if (action.kind == ActionKind::kIssue) {
        out->issued.push_back(Claim{type, value, std::string(kPolicyIssuer)});
      } else if (action.kind == ActionKind::kIssueProperty) {
        if (type == "x-ms-sgx-tcbidentifier" && value.is_string()) {
          out->tcb_identifier = value.get<std::string>();
        }
        out->properties.push_back(Claim{type, value, std::string(kPolicyIssuer)});
      }
      CONFCOM_RETURN_IF_ERROR(
          AddClaim(std::move(type), std::move(value), std::string(kPolicyIssuer)));
    }
    return Status::Ok();
  }

  const detail::PolicyAst& ast_;
  std::vector<Claim> claims_;
  uint64_t steps_ = 0;
  const Rule* permitted_ = nullptr;
  const Rule* denied_ = nullptr;
};

}  // namespace

Result<PolicyOutcome> Policy::Evaluate(std::span<const Claim> incoming) const {
  return Evaluator(*ast_).Run(incoming);
}

const std::string_view kDefaultSgxPolicy =
    "version= 1.1;\n"
    "configurationrules{\n"
    "\t=> issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"azuredefault\");\n"
    "};\n"
    "authorizationrules{\n"
    "\t=> permit();\n"
    "};\n"
    "issuancerules{\n"
    "\tc:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);\n"
    "\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
    "\tc:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
    "};";

Result<std::optional<uint32_t>> TcbEvaluationDataNumber(std::string_view tcb_identifier) {
  if (tcb_identifier == "azuredefault") return std::optional<uint32_t>();
  uint32_t n = 0;
  const char* b = tcb_identifier.data();
  const char* e = b + tcb_identifier.size();
  auto [ptr, ec] = std::from_chars(b, e, n);
  if (tcb_identifier.empty() || ec != std::errc() || ptr != e || n < 1 || n > 1000000 ||
      tcb_identifier[0] == '0') {
    return Status::InvalidArgument(
        fmt::format("x-ms-sgx-tcbidentifier \"{}\": expected \"azuredefault\" or a TCB "
                    "evaluation data number such as \"17\"",
                    tcb_identifier));
  }
  return std::optional<uint32_t>(n);
}

}  // namespace confcom::attest
