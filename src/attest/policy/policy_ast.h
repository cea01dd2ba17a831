// Internal: the parsed form of a policy, shared by parser.cc and evaluate.cc. Not installed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::attest::detail {

enum class Property { kType, kValue, kIssuer };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// A literal or `<binding>.<property>`.
struct Operand {
  enum class Kind { kString, kInteger, kBool, kReference } kind = Kind::kString;
  std::string text;                      // kString
  int64_t integer = 0;                   // kInteger
  bool boolean = false;                  // kBool
  int binding = -1;                      // kReference: index into the rule's bindings
  Property property = Property::kValue;  // kReference
};

struct PropertyCondition {
  Property property = Property::kType;
  CompareOp op = CompareOp::kEq;
  Operand operand;
};

// `[...]`, `name:[...]` or `![...]`.
struct Condition {
  bool negated = false;
  int binding = -1;  // index of `name` in the rule's bindings, -1 without one
  std::vector<PropertyCondition> properties;
};

enum class ActionKind { kPermit, kDeny, kAdd, kIssue, kIssueProperty };

struct Action {
  ActionKind kind = ActionKind::kPermit;
  int claim_binding = -1;  // `claim=c`; else type and value below
  Operand type;
  Operand value;
};

struct Rule {
  int line = 0;
  std::string text;  // one line, whitespace runs collapsed
  std::vector<Condition> conditions;
  int binding_count = 0;
  Action action;
};

enum Section { kConfigurationRules = 0, kAuthorizationRules = 1, kIssuanceRules = 2 };

struct PolicyAst {
  std::string text;
  std::string version;
  std::array<bool, 3> has_section{};
  std::array<int, 3> section_line{};
  std::array<std::vector<Rule>, 3> rules;
  size_t rule_count = 0;
};

// Checks that `text` is UTF-8 (RFC 3629); InvalidArgument "line L, column C: ..." if not.
Status CheckUtf8(std::string_view text);

}  // namespace confcom::attest::detail
