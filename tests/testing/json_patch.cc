#include "testing/json_patch.h"

#include <nlohmann/json.hpp>

#include "testing/test_util.h"

namespace confcom::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the tool with `args` in `dir`; its stdout, or its stderr as the error (exit 1 is its
// own refusal, anything else means it did not run).
Result<std::string> RunTool(const TempDir& dir, const std::string& args) {
  CommandResult r = RunCommand("(" + Quote(CONFCOM_JSONPATCH_BIN) + " " + args + " 2>" +
                               Quote(dir.File("stderr")) + ")");
  std::string err = ReadAll(dir.File("stderr"));
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (r.status == 0) return r.output;
  if (r.status == 1) return Status::InvalidArgument(err);
  return Status::Internal(std::string("cannot run ") + CONFCOM_JSONPATCH_BIN + " (exit " +
                          std::to_string(r.status) + "): " + err + r.output);
}

}  // namespace

Result<std::string> ApplyJsonPatch(const std::string& doc_json, const std::string& patch_json) {
  TempDir dir;
  WriteAll(dir.File("doc.json"), doc_json);
  WriteAll(dir.File("patch.json"), patch_json);
  return RunTool(dir, "apply " + Quote(dir.File("doc.json")) + " " + Quote(dir.File("patch.json")));
}

Result<std::string> YamlToJson(const std::string& yaml_path) {
  TempDir dir;
  return RunTool(dir, "yaml2json " + Quote(yaml_path));
}

Result<std::string> YamlDocumentToJson(const std::string& yaml_path) {
  Result<std::string> docs = YamlToJson(yaml_path);
  if (!docs.ok()) return docs.status();
  nlohmann::json array = nlohmann::json::parse(*docs, nullptr, false);
  if (!array.is_array() || array.size() != 1) {
    return Status::InvalidArgument(yaml_path + ": expected one YAML document, found " +
                                   std::to_string(array.is_array() ? array.size() : 0));
  }
  return array[0].dump();
}

}  // namespace confcom::testing
