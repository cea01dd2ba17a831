#include "webhook/json_patch.h"

#include "common/json_pointer.h"

namespace confcom::webhook {

std::string JsonPointer(const JsonPath& path) {
  std::string out;
  for (const auto& t : path) {
    out += '/';
    if (const auto* s = std::get_if<std::string>(&t)) {
      out += EscapeJsonPointerToken(*s);
    } else {
      out += std::to_string(std::get<size_t>(t));
    }
  }
  return out;
}

namespace {

nlohmann::json* Step(nlohmann::json* cur, const PathToken& t) {
  if (const auto* key = std::get_if<std::string>(&t)) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(*key);
    return it == cur->end() ? nullptr : &*it;
  }
  size_t index = std::get<size_t>(t);
  if (!cur->is_array() || index >= cur->size()) return nullptr;
  return &(*cur)[index];
}

}  // namespace

nlohmann::json* PatchBuilder::FindMutable(const JsonPath& path) {
  nlohmann::json* cur = &doc_;
  for (const auto& t : path) {
    cur = Step(cur, t);
    if (!cur) return nullptr;
  }
  return cur;
}

const nlohmann::json* PatchBuilder::Find(const JsonPath& path) const {
  return const_cast<PatchBuilder*>(this)->FindMutable(path);
}

bool PatchBuilder::Add(const JsonPath& path, nlohmann::json value) {
  if (path.empty()) return false;
  nlohmann::json* cur = &doc_;
  size_t i = 0;
  // Walk while the next member exists and is not null.
  for (; i + 1 < path.size(); ++i) {
    nlohmann::json* next = Step(cur, path[i]);
    if (!next || next->is_null()) break;
    cur = next;
  }
  // cur is the deepest existing container; everything from path[i] on is created, so path[i]
  // must be a key of an object (we never create array elements here).
  const auto* key = std::get_if<std::string>(&path[i]);
  if (!key || !cur->is_object()) return false;
  if (i + 1 == path.size()) {
    // The last token: the member itself (may exist: "add" replaces a member, RFC 6902 4.1).
  } else {
    for (size_t k = path.size() - 1; k > i; --k) {
      const auto* inner = std::get_if<std::string>(&path[k]);
      if (!inner) return false;
      nlohmann::json wrapped = nlohmann::json::object();
      wrapped[*inner] = std::move(value);
      value = std::move(wrapped);
    }
  }
  JsonPath at(path.begin(), path.begin() + i + 1);
  ops_.push_back({{"op", "add"}, {"path", JsonPointer(at)}, {"value", value}});
  (*cur)[*key] = std::move(value);
  return true;
}

bool PatchBuilder::Append(const JsonPath& path, nlohmann::json value) {
  nlohmann::json* arr = FindMutable(path);
  if (arr && arr->is_array()) {
    ops_.push_back({{"op", "add"}, {"path", JsonPointer(path) + "/-"}, {"value", value}});
    arr->push_back(std::move(value));
    return true;
  }
  if (arr && !arr->is_null()) return false;
  return Add(path, nlohmann::json::array({std::move(value)}));
}

bool PatchBuilder::Replace(const JsonPath& path, nlohmann::json value) {
  nlohmann::json* target = FindMutable(path);
  if (!target) return false;
  ops_.push_back({{"op", "replace"}, {"path", JsonPointer(path)}, {"value", value}});
  *target = std::move(value);
  return true;
}

bool PatchBuilder::Remove(const JsonPath& path) {
  if (path.empty()) return false;
  JsonPath parent_path(path.begin(), path.end() - 1);
  nlohmann::json* parent = FindMutable(parent_path);
  const auto* key = std::get_if<std::string>(&path.back());
  if (!parent || !key || !parent->is_object() || !parent->contains(*key)) return false;
  ops_.push_back({{"op", "remove"}, {"path", JsonPointer(path)}});
  parent->erase(*key);
  return true;
}

}  // namespace confcom::webhook
