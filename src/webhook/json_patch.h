// Builds an RFC 6902 JSON Patch against a document while applying it to a working copy, so
// that later operations see earlier ones (a parent added once, arrays appended in order).
//
// Paths are given as token lists and escaped per RFC 6901 ("/" -> "~1", "~" -> "~0"). Add()
// creates the missing parents itself: the first missing (or null) object on the path is added
// whole, with the value nested inside, so a pod without resources, annotations, env or volumes
// never needs a second round. A path through a non-object (e.g. a string where an object was
// expected) is refused (returns false) and nothing is emitted.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace confcom::webhook {

using PathToken = std::variant<std::string, size_t>;
using JsonPath = std::vector<PathToken>;

std::string JsonPointer(const JsonPath& path);

class PatchBuilder {
 public:
  explicit PatchBuilder(nlohmann::json document) : doc_(std::move(document)) {}

  // The value at `path` in the working copy, or nullptr.
  const nlohmann::json* Find(const JsonPath& path) const;
  // Sets the member at `path` (its last token a key), creating missing parent objects.
  bool Add(const JsonPath& path, nlohmann::json value);
  // Appends to the array at `path` (creating it, and its parents, when missing).
  bool Append(const JsonPath& path, nlohmann::json value);
  // Replaces the existing value at `path`.
  bool Replace(const JsonPath& path, nlohmann::json value);
  // Removes the member at `path` if it exists.
  bool Remove(const JsonPath& path);

  const nlohmann::json& document() const { return doc_; }
  // The operations so far, as a JSON array.
  const nlohmann::json& patch() const { return ops_; }

 private:
  nlohmann::json* FindMutable(const JsonPath& path);
  nlohmann::json doc_;
  nlohmann::json ops_ = nlohmann::json::array();
};

}  // namespace confcom::webhook
