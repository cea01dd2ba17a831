// Policy::Parse: a lexer and a recursive-descent parser for MAA's policy language
// (docs/attest-policy.md, "Grammar"). Every error names the line and column of the token
// where the parse stopped.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "attest/policy/policy.h"
#include "attest/policy/policy_ast.h"

namespace confcom::attest {
namespace {

using detail::Action;
using detail::ActionKind;
using detail::CompareOp;
using detail::Condition;
using detail::Operand;
using detail::PolicyAst;
using detail::Property;
using detail::PropertyCondition;
using detail::Rule;

enum class TokenKind { kIdent, kString, kNumber, kPunct, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // identifier, punctuation, number as written, string after escapes
  int line = 1;
  int column = 1;
  size_t begin = 0;  // byte offsets into the policy text
  size_t end = 0;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Status PositionError(int line, int column, std::string_view what) {
  return Status::InvalidArgument(fmt::format("line {}, column {}: {}", line, column, what));
}

}  // namespace

// Checks UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
Status detail::CheckUtf8(std::string_view text) {
  int line = 1, column = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return PositionError(line, column, fmt::format("byte 0x{:02x} is not UTF-8", c));
    }
    if (i + n > text.size()) return PositionError(line, column, "truncated UTF-8 sequence");
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0) != 0x80) return PositionError(line, column, "invalid UTF-8 sequence");
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return PositionError(line, column, "invalid UTF-8 sequence");
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return Status::Ok();
}

namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a byte order mark from an editor
  }

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.line = line_;
      t.column = column_;
      t.begin = pos_;
      if (pos_ >= text_.size()) {
        t.kind = TokenKind::kEnd;
        t.end = pos_;
        tokens.push_back(std::move(t));
        return tokens;
      }
      const char c = text_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        t.kind = TokenKind::kIdent;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
          Advance();
        }
        t.text = std::string(text_.substr(t.begin, pos_ - t.begin));
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && pos_ + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        t.kind = TokenKind::kNumber;
        Advance();
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
          Advance();
        }
        if (pos_ + 1 < text_.size() && text_[pos_] == '.' &&
            std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
          Advance();
          while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
            Advance();
          }
        }
        t.text = std::string(text_.substr(t.begin, pos_ - t.begin));
      } else if (c == '"') {
        t.kind = TokenKind::kString;
        CONFCOM_ASSIGN_OR_RETURN(t.text, LexString(t));
      } else {
        t.kind = TokenKind::kPunct;
        static constexpr std::string_view kTwo[] = {"=>", "==", "!=", "<=", ">=", "&&"};
        static constexpr std::string_view kOne = "=<>![]{}();,:.";
        const std::string_view rest = text_.substr(pos_);
        bool matched = false;
        for (std::string_view two : kTwo) {
          if (rest.substr(0, 2) == two) {
            Advance();
            Advance();
            t.text = std::string(two);
            matched = true;
            break;
          }
        }
        if (!matched) {
          if (kOne.find(c) == std::string_view::npos) {
            return PositionError(t.line, t.column,
                                 fmt::format("unexpected character {}", DescribeChar(pos_)));
          }
          Advance();
          t.text = std::string(1, c);
        }
      }
      t.end = pos_;
      tokens.push_back(std::move(t));
    }
  }

 private:
  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(text_[pos_]) & 0xC0) != 0x80) {
      ++column_;
    }
    ++pos_;
    // A UTF-8 continuation byte does not start a column: undo the count it would get.
    while (pos_ < text_.size() && (static_cast<unsigned char>(text_[pos_]) & 0xC0) == 0x80) {
      ++pos_;
    }
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance();
      } else {
        return;
      }
    }
  }

  // "'x'" for ASCII, "U+201D" for other characters (e.g. a typographic quote).
  std::string DescribeChar(size_t at) const {
    const auto c = static_cast<unsigned char>(text_[at]);
    if (c < 0x80) {
      if (std::isprint(c)) return fmt::format("'{}'", static_cast<char>(c));
      return fmt::format("0x{:02x}", c);
    }
    uint32_t cp = 0;
    size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < n && at + k < text_.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(text_[at + k]) & 0x3F);
    }
    std::string hint;
    if (cp == 0x201C || cp == 0x201D) hint = " (a typographic quote; strings use '\"')";
    return fmt::format("U+{:04X}{}", cp, hint);
  }

  Result<std::string> LexString(const Token& start) {
    std::string out;
    Advance();  // the opening quote
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r') {
        return PositionError(start.line, start.column,
                             "unterminated string (a string ends with '\"' on its line)");
      }
      const char c = text_[pos_];
      if (c == '"') {
        Advance();
        return out;
      }
      if (c == '\\') {
        const int line = line_, column = column_;
        if (pos_ + 1 < text_.size() && (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\')) {
          out.push_back(text_[pos_ + 1]);
          Advance();
          Advance();
          continue;
        }
        return PositionError(line, column, "unknown escape in a string (only \\\" and \\\\)");
      }
      const size_t from = pos_;
      Advance();
      out.append(text_.substr(from, pos_ - from));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens) : text_(text), t_(std::move(tokens)) {}

  Result<std::shared_ptr<PolicyAst>> Run() {
    auto ast = std::make_shared<PolicyAst>();
    ast_ = ast.get();
    ast->text = std::string(text_);
    CONFCOM_RETURN_IF_ERROR(ParseVersion());
    while (Peek().kind != TokenKind::kEnd) CONFCOM_RETURN_IF_ERROR(ParseSection());
    if (!ast->has_section[detail::kAuthorizationRules]) {
      return ErrorAt(Peek(), "expected an authorizationrules section (every policy needs one)");
    }
    return ast;
  }

 private:
  const Token& Peek(size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& Next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool IsPunct(const Token& t, std::string_view p) const {
    return t.kind == TokenKind::kPunct && t.text == p;
  }
  bool IsWord(const Token& t, std::string_view w) const {
    return t.kind == TokenKind::kIdent && EqualsIgnoreCase(t.text, w);
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd: return "the end of the policy";
      case TokenKind::kString: return "a string";
      default: return fmt::format("'{}'", t.text);
    }
  }
  Status ErrorAt(const Token& t, std::string_view what) const {
    return PositionError(t.line, t.column, what);
  }
  Status Expected(const Token& t, std::string_view what) const {
    return ErrorAt(t, fmt::format("expected {}, found {}", what, Describe(t)));
  }
  Status ExpectPunct(std::string_view p, std::string_view context) {
    if (!IsPunct(Peek(), p)) return Expected(Peek(), fmt::format("'{}' {}", p, context));
    Next();
    return Status::Ok();
  }

  Status ParseVersion() {
    if (!IsWord(Peek(), "version")) return Expected(Peek(), "'version=1.0;' (or 1.1, 1.2)");
    Next();
    CONFCOM_RETURN_IF_ERROR(ExpectPunct("=", "after 'version'"));
    const Token& v = Peek();
    if (v.kind != TokenKind::kNumber) return Expected(v, "a version: 1.0, 1.1 or 1.2");
    if (v.text != "1.0" && v.text != "1.1" && v.text != "1.2") {
      return ErrorAt(v,
                     fmt::format("unsupported version {} (MAA defines 1.0, 1.1 and 1.2)", v.text));
    }
    ast_->version = v.text;
    Next();
    return ExpectPunct(";", "after the version");
  }

  Status ParseSection() {
    const Token& name = Peek();
    static constexpr std::string_view kNames[] = {"configurationrules", "authorizationrules",
                                                  "issuancerules"};
    int section = -1;
    for (int s = 0; s < 3; ++s) {
      if (IsWord(name, kNames[s])) section = s;
    }
    if (section < 0) {
      return Expected(name,
                      "a section (configurationrules, authorizationrules or issuancerules) or "
                      "the end of the policy");
    }
    if (ast_->has_section[section]) {
      return ErrorAt(name, fmt::format("a second {} section (the first is at line {})",
                                       kNames[section], ast_->section_line[section]));
    }
    if (section == detail::kConfigurationRules && ast_->version == "1.0") {
      return ErrorAt(name, "configurationrules needs version=1.1 or later");
    }
    ast_->has_section[section] = true;
    ast_->section_line[section] = name.line;
    Next();
    CONFCOM_RETURN_IF_ERROR(ExpectPunct("{", fmt::format("after {}", kNames[section])));
    while (!IsPunct(Peek(), "}")) {
      if (Peek().kind == TokenKind::kEnd) {
        return Expected(Peek(),
                        fmt::format("'}}' closing {} (line {})", kNames[section], name.line));
      }
      if (ast_->rule_count >= kMaxRules) {
        return ErrorAt(Peek(), fmt::format("more than {} rules", kMaxRules));
      }
      Rule rule;
      CONFCOM_RETURN_IF_ERROR(ParseRule(section, &rule));
      ast_->rules[section].push_back(std::move(rule));
      ++ast_->rule_count;
    }
    Next();
    return ExpectPunct(";", fmt::format("after the '}}' of {}", kNames[section]));
  }

  // Binding names of the rule being parsed, in order of appearance.
  std::vector<std::string> bindings_;

  int FindBinding(std::string_view name) const {
    for (size_t k = 0; k < bindings_.size(); ++k) {
      if (bindings_[k] == name) return static_cast<int>(k);
    }
    return -1;
  }

  Status ParseRule(int section, Rule* rule) {
    bindings_.clear();
    const size_t first_index = i_;
    rule->line = Peek().line;
    if (!IsPunct(Peek(), "=>")) {
      while (true) {
        if (rule->conditions.size() >= kMaxConditionsPerRule) {
          return ErrorAt(Peek(),
                         fmt::format("more than {} conditions in one rule", kMaxConditionsPerRule));
        }
        Condition c;
        CONFCOM_RETURN_IF_ERROR(ParseCondition(&c));
        rule->conditions.push_back(std::move(c));
        if (IsPunct(Peek(), "&&")) {
          Next();
          continue;
        }
        if (IsPunct(Peek(), "=>")) break;
        return Expected(Peek(), "'&&' or '=>' after a condition");
      }
    }
    Next();  // =>
    CONFCOM_RETURN_IF_ERROR(ParseAction(section, &rule->action));
    if (!IsPunct(Peek(), ";")) return Expected(Peek(), "';' after the rule's action");
    Next();
    rule->binding_count = static_cast<int>(bindings_.size());
    // The rule's text on one line, for messages such as "rule at line 7 denied: ...": its
    // tokens as written, one space where whitespace or a comment separated them.
    for (size_t k = first_index; k < i_; ++k) {  // Next() moved i_ past the ';'
      const Token& tok = t_[k];
      if (k > first_index && tok.begin > t_[k - 1].end) rule->text.push_back(' ');
      rule->text.append(text_.substr(tok.begin, tok.end - tok.begin));
    }
    return Status::Ok();
  }

  Status ParseCondition(Condition* c) {
    std::string name;
    const Token& start = Peek();
    if (IsPunct(start, "!")) {
      if (ast_->version != "1.2") {
        return ErrorAt(start, "'![...]' (no such claim) needs version=1.2");
      }
      c->negated = true;
      Next();
    } else if (start.kind == TokenKind::kIdent && IsPunct(Peek(1), ":")) {
      if (FindBinding(start.text) >= 0) {
        return ErrorAt(start, fmt::format("'{}' is already bound in this rule", start.text));
      }
      name = start.text;
      Next();
      Next();
    }
    if (!IsPunct(Peek(), "[")) {
      return Expected(Peek(), "a condition: '[', 'name:[' or '=>'");
    }
    Next();
    if (!IsPunct(Peek(), "]")) {
      while (true) {
        if (c->properties.size() >= kMaxPropertyConditions) {
          return ErrorAt(Peek(), fmt::format("more than {} comparisons in one condition",
                                             kMaxPropertyConditions));
        }
        PropertyCondition pc;
        CONFCOM_RETURN_IF_ERROR(ParsePropertyCondition(&pc));
        c->properties.push_back(std::move(pc));
        if (IsPunct(Peek(), ",")) {
          Next();
          continue;
        }
        if (IsPunct(Peek(), "]")) break;
        return Expected(Peek(), "',' or ']' in a condition");
      }
    }
    Next();  // ]
    if (!name.empty()) {
      c->binding = static_cast<int>(bindings_.size());
      bindings_.push_back(name);
    }
    return Status::Ok();
  }

  Result<Property> ParseProperty(std::string_view what) {
    const Token& t = Peek();
    if (IsWord(t, "type")) {
      Next();
      return Property::kType;
    }
    if (IsWord(t, "value")) {
      Next();
      return Property::kValue;
    }
    if (IsWord(t, "issuer")) {
      Next();
      return Property::kIssuer;
    }
    return Expected(t, what);
  }

  Status ParsePropertyCondition(PropertyCondition* pc) {
    CONFCOM_ASSIGN_OR_RETURN(pc->property, ParseProperty("'type', 'value' or 'issuer'"));
    const Token& op = Peek();
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    bool found = false;
    for (const auto& [text, value] : kOps) {
      if (IsPunct(op, text)) {
        pc->op = value;
        found = true;
      }
    }
    if (!found) {
      if (IsPunct(op, "=")) {
        return ErrorAt(op, "expected '==', found '=' (conditions compare with '==')");
      }
      return Expected(op, "a comparison: ==, !=, <, <=, > or >=");
    }
    Next();
    const Token& at = Peek();
    CONFCOM_ASSIGN_OR_RETURN(pc->operand, ParseOperand());
    const bool ordering = pc->op != CompareOp::kEq && pc->op != CompareOp::kNe;
    const auto kind = pc->operand.kind;
    if (pc->property != Property::kValue) {
      if (ordering) {
        return ErrorAt(op,
                       fmt::format("'{}' needs integers; {} is a string (use == or !=)", op.text,
                                   pc->property == Property::kType ? "type" : "issuer"));
      }
      if (kind == Operand::Kind::kInteger || kind == Operand::Kind::kBool) {
        return ErrorAt(at, fmt::format("{} is a string: compare it with a string",
                                       pc->property == Property::kType ? "type" : "issuer"));
      }
    } else if (ordering && (kind == Operand::Kind::kString || kind == Operand::Kind::kBool)) {
      return ErrorAt(op, fmt::format("'{}' compares integers; strings and booleans allow only "
                                     "== and !=",
                                     op.text));
    }
    return Status::Ok();
  }

  Result<Operand> ParseOperand() {
    const Token& t = Peek();
    Operand o;
    if (t.kind == TokenKind::kString) {
      o.kind = Operand::Kind::kString;
      o.text = t.text;
      Next();
      return o;
    }
    if (t.kind == TokenKind::kNumber) {
      if (t.text.find('.') != std::string::npos) {
        return ErrorAt(t, fmt::format("{} is not an integer (claim values are integers, "
                                      "strings or booleans)",
                                      t.text));
      }
      int64_t v = 0;
      const char* b = t.text.data();
      const char* e = b + t.text.size();
      auto [ptr, ec] = std::from_chars(b, e, v);
      if (ec != std::errc() || ptr != e) {
        return ErrorAt(t, fmt::format("integer {} is out of range (64-bit signed)", t.text));
      }
      o.kind = Operand::Kind::kInteger;
      o.integer = v;
      Next();
      return o;
    }
    if (IsWord(t, "true") || IsWord(t, "false")) {
      o.kind = Operand::Kind::kBool;
      o.boolean = IsWord(t, "true");
      Next();
      return o;
    }
    if (t.kind == TokenKind::kIdent && IsPunct(Peek(1), "(")) {
      return Status::Unsupported(fmt::format(
          "line {}, column {}: function {}() is not supported (MAA policy 1.2's functions such "
          "as JmesPath() are not implemented here)",
          t.line, t.column, t.text));
    }
    if (t.kind == TokenKind::kIdent && IsPunct(Peek(1), ".")) {
      const int binding = FindBinding(t.text);
      if (binding < 0) {
        return ErrorAt(t, fmt::format("'{}' is not bound by an earlier condition of this rule "
                                      "(bind it with {}:[...])",
                                      t.text, t.text));
      }
      Next();
      Next();
      o.kind = Operand::Kind::kReference;
      o.binding = binding;
      CONFCOM_ASSIGN_OR_RETURN(o.property, ParseProperty(fmt::format(
                                               "'type', 'value' or 'issuer' after '{}.'", t.text)));
      return o;
    }
    return Expected(t, "a string, an integer, true, false or <name>.value");
  }

  Status ParseAction(int section, Action* a) {
    const Token& name = Peek();
    static constexpr std::pair<std::string_view, ActionKind> kActions[] = {
        {"permit", ActionKind::kPermit},
        {"deny", ActionKind::kDeny},
        {"add", ActionKind::kAdd},
        {"issue", ActionKind::kIssue},
        {"issueproperty", ActionKind::kIssueProperty}};
    bool found = false;
    for (const auto& [text, kind] : kActions) {
      if (IsWord(name, text)) {
        a->kind = kind;
        found = true;
      }
    }
    if (!found) {
      return Expected(name,
                      "an action: permit(), deny(), add(...), issue(...) or "
                      "issueproperty(...)");
    }
    static constexpr std::string_view kAllowed[] = {"issueproperty", "permit, deny and add",
                                                    "add, issue and issueproperty"};
    const bool allowed = section == detail::kConfigurationRules
                             ? a->kind == ActionKind::kIssueProperty
                         : section == detail::kAuthorizationRules
                             ? (a->kind == ActionKind::kPermit || a->kind == ActionKind::kDeny ||
                                a->kind == ActionKind::kAdd)
                             : (a->kind == ActionKind::kAdd || a->kind == ActionKind::kIssue ||
                                a->kind == ActionKind::kIssueProperty);
    if (!allowed) {
      static constexpr std::string_view kSection[] = {"configurationrules", "authorizationrules",
                                                      "issuancerules"};
      return ErrorAt(name, fmt::format("{}() is not allowed in {} (allowed there: {})", name.text,
                                       kSection[section], kAllowed[section]));
    }
    Next();
    CONFCOM_RETURN_IF_ERROR(ExpectPunct("(", fmt::format("after {}", name.text)));
    if (a->kind == ActionKind::kPermit || a->kind == ActionKind::kDeny) {
      return ExpectPunct(")", fmt::format("({}() takes no arguments)", name.text));
    }
    if (IsWord(Peek(), "claim") && IsPunct(Peek(1), "=")) {
      Next();
      Next();
      const Token& ref = Peek();
      if (ref.kind != TokenKind::kIdent || FindBinding(ref.text) < 0) {
        return Expected(ref, "a name bound by a condition of this rule after 'claim='");
      }
      a->claim_binding = FindBinding(ref.text);
      Next();
      return ExpectPunct(")", "after claim=<name>");
    }
    bool have_type = false, have_value = false;
    const Token* value_at = nullptr;
    while (true) {
      const Token& key = Peek();
      CONFCOM_ASSIGN_OR_RETURN(
          Property p,
          ParseProperty(fmt::format("'type=', 'value=' or 'claim=' in {}()", name.text)));
      if (p == Property::kIssuer) {
        return ErrorAt(key,
                       "the issuer of a claim a policy makes is AttestationPolicy; "
                       "expected 'type=' or 'value='");
      }
      bool& have = p == Property::kType ? have_type : have_value;
      if (have) return ErrorAt(key, fmt::format("'{}' given twice", key.text));
      have = true;
      CONFCOM_RETURN_IF_ERROR(ExpectPunct("=", fmt::format("after '{}'", key.text)));
      const Token& at = Peek();
      CONFCOM_ASSIGN_OR_RETURN(Operand o, ParseOperand());
      if (p == Property::kType) {
        if (o.kind == Operand::Kind::kInteger || o.kind == Operand::Kind::kBool) {
          return ErrorAt(at, "a claim's type is a string");
        }
        a->type = std::move(o);
      } else {
        a->value = std::move(o);
        value_at = &at;
      }
      if (IsPunct(Peek(), ",")) {
        Next();
        continue;
      }
      break;
    }
    if (!have_type || !have_value) {
      return Expected(Peek(), have_type ? "', value=...'" : "', type=\"...\"'");
    }
    if (a->kind == ActionKind::kIssueProperty && a->type.kind == Operand::Kind::kString &&
        a->type.text == "x-ms-sgx-tcbidentifier" && a->value.kind != Operand::Kind::kString &&
        a->value.kind != Operand::Kind::kReference) {
      return ErrorAt(*value_at, "x-ms-sgx-tcbidentifier takes a string, e.g. \"azuredefault\"");
    }
    return ExpectPunct(")", fmt::format("closing {}(", name.text));
  }

  std::string_view text_;
  std::vector<Token> t_;
  size_t i_ = 0;
  PolicyAst* ast_ = nullptr;
};

}  // namespace

Result<Policy> Policy::Parse(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) {
    return Status::InvalidArgument(
        fmt::format("policy is {} bytes; the limit is {}", text.size(), kMaxPolicyBytes));
  }
  CONFCOM_RETURN_IF_ERROR(detail::CheckUtf8(text));
  CONFCOM_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text).Run());
  CONFCOM_ASSIGN_OR_RETURN(std::shared_ptr<PolicyAst> ast, Parser(text, std::move(tokens)).Run());
  return Policy(std::move(ast));
}

const std::string& Policy::version() const { return ast_->version; }
const std::string& Policy::text() const { return ast_->text; }
size_t Policy::rule_count() const { return ast_->rule_count; }

}  // namespace confcom::attest
