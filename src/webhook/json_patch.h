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

// Returns the RFC 6901 pointer of `path`, e.g. "/metadata/annotations/sgx.intel.com~1epc"
// ("" for the document itself).
std::string JsonPointer(const JsonPath& path);

// Thread-compatible: one builder per review; const methods may be shared.
class PatchBuilder {
 public:
  // Works on a copy of `document`.
  explicit PatchBuilder(nlohmann::json document) : doc_(std::move(document)) {}

  // Returns the value at `path` in the working copy (with the operations so far), or nullptr.
  // The pointer is valid until the next change.
  const nlohmann::json* Find(const JsonPath& path) const;
  // Sets the member at `path` (its last token a key; an existing member is replaced, as RFC
  // 6902's "add" does), creating missing or null parent objects. Returns false, emitting
  // nothing, for an empty path, a path through a non-object or a missing array element.
  bool Add(const JsonPath& path, nlohmann::json value);
  // Appends to the array at `path` (creating it, and its parents, when missing or null).
  // Returns false, emitting nothing, when `path` holds something else or Add() would fail.
  bool Append(const JsonPath& path, nlohmann::json value);
  // Replaces the existing value at `path`. Returns false, emitting nothing, when there is none.
  bool Replace(const JsonPath& path, nlohmann::json value);
  // Removes the member at `path` (its last token a key). Returns false, emitting nothing, when
  // there is no such member.
  bool Remove(const JsonPath& path);

  // Returns the working copy: the document with every operation so far applied.
  const nlohmann::json& document() const { return doc_; }
  // Returns the operations so far, as a JSON array (RFC 6902).
  const nlohmann::json& patch() const { return ops_; }

 private:
  nlohmann::json* FindMutable(const JsonPath& path);
  nlohmann::json doc_;
  nlohmann::json ops_ = nlohmann::json::array();
};

}  // namespace confcom::webhook
