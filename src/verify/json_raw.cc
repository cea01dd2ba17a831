#include "verify/json_raw.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace confcom::verify {

namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  size_t pos() const { return i_; }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  // A string token (without unescaping; keys we look for have no escapes).
  Result<std::string_view> String() {
    SkipSpace();
    if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a string");
    size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;
      ++i_;
    }
    if (i_ >= s_.size()) return Error("unterminated string");
    return s_.substr(start, i_++ - start);
  }
  // Skips one value; returns its text.
  Result<std::string_view> Value() {
    SkipSpace();
    size_t start = i_;
    if (i_ >= s_.size()) return Error("expected a value");
    char c = s_[i_];
    if (c == '"') {
      CONFCOM_RETURN_IF_ERROR(String().status());
    } else if (c == '{' || c == '[') {
      int depth = 0;
      while (i_ < s_.size()) {
        char d = s_[i_];
        if (d == '"') {
          CONFCOM_RETURN_IF_ERROR(String().status());
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++i_;
            break;
          }
        }
        ++i_;
      }
      if (depth != 0) return Error("unbalanced brackets");
    } else {
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
             s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t') {
        ++i_;
      }
      if (i_ == start) return Error("expected a value");
    }
    return s_.substr(start, i_ - start);
  }
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("JSON: " + what + " at offset " + std::to_string(i_));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<std::string_view> RawMemberText(std::string_view document, std::string_view key) {
  Scanner sc(document);
  if (!sc.Consume('{')) return sc.Error("expected an object");
  if (sc.Consume('}'))
    return Status::NotFound("JSON object has no member \"" + std::string(key) + "\"");
  std::optional<std::string_view> found;
  for (;;) {
    CONFCOM_ASSIGN_OR_RETURN(std::string_view name, sc.String());
    if (!sc.Consume(':')) return sc.Error("expected ':'");
    CONFCOM_ASSIGN_OR_RETURN(std::string_view value, sc.Value());
    if (name == key) {
      // A second member of the same name would let the signed text (one) and the parsed
      // object (another) differ: refuse the document.
      if (found)
        return Status::InvalidArgument("JSON object has more than one \"" + std::string(key) +
                                       "\" member");
      found = value;
    }
    if (sc.Consume(',')) continue;
    if (sc.Consume('}')) break;
    return sc.Error("expected ',' or '}'");
  }
  if (found) return *found;
  return Status::NotFound("JSON object has no member \"" + std::string(key) + "\"");
}

namespace {

// SAX events of nlohmann's parser, keeping one set of member names per open object.
class DuplicateFinder final : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_.emplace_back();
    return true;
  }
  bool key(string_t& name) override {
    if (!open_.back().insert(name).second) {
      error_ = "JSON object has more than one \"" + name + "\" member";
      return false;
    }
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_ = "not JSON (error at byte " + std::to_string(position) + ")";
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  std::vector<std::set<std::string>> open_;
  std::string error_;
};

}  // namespace

Status RefuseDuplicateMembers(std::string_view document) {
  DuplicateFinder finder;
  if (!nlohmann::json::sax_parse(document, &finder, nlohmann::json::input_format_t::json, true,
                                 /*ignore_comments=*/false)) {
    return Status::InvalidArgument(finder.error().empty() ? "not JSON" : finder.error());
  }
  return Status::Ok();
}

Result<std::string> CompactJson(std::string_view value_text) {
  auto j = nlohmann::ordered_json::parse(value_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("not JSON");
  // Non-ASCII stays UTF-8, as QVL's writer leaves it; invalid UTF-8 is refused, not replaced.
  try {
    return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("JSON: ") + e.what());
  }
}

}  // namespace confcom::verify
