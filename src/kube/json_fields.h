// Typed reads of JSON that comes from outside: the API server's answers and kubelet-side
// files. Every field is checked for its type, so a wrong type, a missing field, a number out of
// range, text that is not JSON or a document nested too deep is a Status naming the field and
// what was found there, never an exception (nlohmann's value()/get() throw on a wrong type; an
// exception on a daemon's thread is std::terminate). The rules: docs/kubernetes-api.md, "Bad
// answers". Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

// Deepest nesting accepted. A Node is about 8 deep (managedFields' fieldsV1 adds ~6); 64 is
// far beyond any API object and keeps a hostile "[[[[…" from costing a heap node per byte.
inline constexpr int kMaxJsonDepth = 64;

enum class JsonType { kObject, kArray, kString, kBoolean, kWholeNumber };

// "an object", "an array", "a string", "a boolean", "a whole number".
const char* JsonTypeName(JsonType type);

// What `value` is, for an error message: `a number (5)`, `a string ("Pod")`, `an array of 2`,
// `an object`, `null`, `a boolean (true)`; strings cut at 40 bytes and escaped for a log.
std::string DescribeJson(const nlohmann::json& value);

// Returns `where` + the member `key` as a path: status.capacity, or
// status.capacity["sgx.intel.com/epc"] when the key is not a plain identifier.
std::string FieldPath(std::string_view where, std::string_view key);

// Returns whether `text` has JSON arrays/objects nested deeper than `max_depth` (strings
// skipped): a scan without parsing, so hostile nesting is refused before any recursion.
bool JsonTooDeep(std::string_view text, int max_depth);

// Returns the JSON object in `text`. Errors (Corruption, starting with `what`): not JSON (with
// the parser's byte offset), nested deeper than kMaxJsonDepth, or JSON that is not an object
// (saying what it is).
Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view what);

// Returns the member `key` of `object` (whose path is `where`), nullptr when it is absent or
// null (the API omits or nulls empty fields). Errors: Corruption "<path> is <DescribeJson>, not
// <type>" when present with another type; "<where> is …, not an object" when `object` is not.
Result<const nlohmann::json*> OptionalMember(const nlohmann::json& object, std::string_view where,
                                             std::string_view key, JsonType type);
// OptionalMember, and Corruption "<path> is missing" when absent or null.
Result<const nlohmann::json*> RequiredMember(const nlohmann::json& object, std::string_view where,
                                             std::string_view key, JsonType type);

// The string member `key`: nullopt when absent or null. Errors: OptionalMember's.
Result<std::optional<std::string>> OptionalString(const nlohmann::json& object,
                                                  std::string_view where, std::string_view key);
// The string member `key`. Errors: RequiredMember's.
Result<std::string> RequiredString(const nlohmann::json& object, std::string_view where,
                                   std::string_view key);
// The whole-number member `key` in 0..2^64-1: nullopt when absent or null. Errors:
// OptionalMember's; a negative number, a fraction or a number beyond 2^64-1 (which JSON
// parsers hold as a double) is "<path> is a number (…), not a whole number".
Result<std::optional<uint64_t>> OptionalUint(const nlohmann::json& object, std::string_view where,
                                             std::string_view key);

}  // namespace confcom::kube
