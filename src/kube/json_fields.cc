#include "kube/json_fields.h"

#include <cctype>

#include "common/logging.h"

namespace confcom::kube {
namespace {

using nlohmann::json;

bool Is(const json& v, JsonType type) {
  switch (type) {
    case JsonType::kObject: return v.is_object();
    case JsonType::kArray: return v.is_array();
    case JsonType::kString: return v.is_string();
    case JsonType::kBoolean: return v.is_boolean();
    case JsonType::kWholeNumber: return v.is_number_integer();
  }
  return false;
}

// The parser's own words for why `text` is not JSON, from a SAX pass that builds nothing and
// throws nothing; escaped, as they quote the text.
std::string ParseErrorOf(std::string_view text) {
  struct Sax {
    std::string error = "malformed";
    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(json::number_integer_t) { return true; }
    bool number_unsigned(json::number_unsigned_t) { return true; }
    bool number_float(json::number_float_t, const std::string&) { return true; }
    bool string(std::string&) { return true; }
    bool binary(json::binary_t&) { return true; }
    bool start_object(std::size_t) { return true; }
    bool key(std::string&) { return true; }
    bool end_object() { return true; }
    bool start_array(std::size_t) { return true; }
    bool end_array() { return true; }
    bool parse_error(std::size_t, const std::string&, const json::exception& e) {
      error = e.what();
      return false;
    }
  } sax;
  json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true);
  return EscapeForLog(std::string_view(sax.error).substr(0, 300));
}

Status WrongType(std::string_view path, const json& found, JsonType want) {
  return Status::Corruption(std::string(path) + " is " + DescribeJson(found) + ", not " +
                            JsonTypeName(want));
}

}  // namespace

const char* JsonTypeName(JsonType type) {
  switch (type) {
    case JsonType::kObject: return "an object";
    case JsonType::kArray: return "an array";
    case JsonType::kString: return "a string";
    case JsonType::kBoolean: return "a boolean";
    case JsonType::kWholeNumber: return "a whole number";
  }
  return "?";
}

std::string DescribeJson(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array of " + std::to_string(v.size());
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      return "a string (\"" + EscapeForLog(std::string_view(s).substr(0, 40)) +
             (s.size() > 40 ? "..." : "") + "\")";
    }
    case json::value_t::boolean: return v.get<bool>() ? "a boolean (true)" : "a boolean (false)";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number (" + v.dump() + ")";
    default: return "an unknown value";
  }
}

std::string FieldPath(std::string_view where, std::string_view key) {
  bool plain = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key) {
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  }
  if (plain) return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
  return std::string(where) + "[\"" + EscapeForLog(key.substr(0, 80)) + "\"]";
}

bool JsonTooDeep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Result<json> ParseJsonObject(std::string_view text, std::string_view what) {
  const std::string w(what);
  if (JsonTooDeep(text, kMaxJsonDepth)) {
    return Status::Corruption(w + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                              " levels");
  }
  json doc;
  // The parser is asked not to throw; the catch is the boundary's guarantee all the same.
  try {
    doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  } catch (const json::exception& e) {
    return Status::Corruption(w + ": not JSON (" + EscapeForLog(e.what()) + ")");
  }
  if (doc.is_discarded()) {
    return Status::Corruption(w + ": not JSON (" + ParseErrorOf(text) + "), " +
                              std::to_string(text.size()) + " bytes");
  }
  if (!doc.is_object()) {
    return Status::Corruption(w + ": the JSON is " + DescribeJson(doc) + ", not an object");
  }
  return doc;
}

Result<const json*> OptionalMember(const json& object, std::string_view where, std::string_view key,
                                   JsonType type) {
  if (!object.is_object()) return WrongType(where, object, JsonType::kObject);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!Is(*it, type)) return WrongType(FieldPath(where, key), *it, type);
  return &*it;
}

Result<const json*> RequiredMember(const json& object, std::string_view where, std::string_view key,
                                   JsonType type) {
  CONFCOM_ASSIGN_OR_RETURN(const json* v, OptionalMember(object, where, key, type));
  if (v == nullptr) return Status::Corruption(FieldPath(where, key) + " is missing");
  return v;
}

Result<std::optional<std::string>> OptionalString(const json& object, std::string_view where,
                                                  std::string_view key) {
  CONFCOM_ASSIGN_OR_RETURN(const json* v, OptionalMember(object, where, key, JsonType::kString));
  if (v == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(v->get_ref<const std::string&>());
}

Result<std::string> RequiredString(const json& object, std::string_view where,
                                   std::string_view key) {
  CONFCOM_ASSIGN_OR_RETURN(const json* v, RequiredMember(object, where, key, JsonType::kString));
  return v->get_ref<const std::string&>();
}

Result<std::optional<uint64_t>> OptionalUint(const json& object, std::string_view where,
                                             std::string_view key) {
  if (!object.is_object()) return WrongType(where, object, JsonType::kObject);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<uint64_t>();
  if (it->is_number_unsigned()) {
    return std::optional<uint64_t>(it->get_ref<const json::number_unsigned_t&>());
  }
  if (it->is_number_integer() && it->get_ref<const json::number_integer_t&>() >= 0) {
    return std::optional<uint64_t>(uint64_t(it->get_ref<const json::number_integer_t&>()));
  }
  if (it->is_number()) {
    return Status::Corruption(FieldPath(where, key) + " is " + DescribeJson(*it) +
                              ", not a whole number in 0..2^64-1");
  }
  return WrongType(FieldPath(where, key), *it, JsonType::kWholeNumber);
}

}  // namespace confcom::kube
