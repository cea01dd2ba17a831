// JSON patches and YAML manifests for tests, without kubectl: tests/tools/jsonpatch, built from
// the JSON-patch library the Kubernetes API server uses (evanphx/json-patch, its v4 API) and
// yaml.v2, both from Debian (deps/debian-packages.txt). Each call runs that tool once (~5 ms).
#pragma once

#include <string>

#include "common/status.h"

namespace confcom::testing {

// Stateless functions; safe from any thread.

// `doc_json` with the RFC 6902 patch `patch_json` applied, as the API server applies a PATCH of
// type application/json-patch+json. Errors: InvalidArgument with the library's message when the
// patch does not decode or does not apply (a failed "test", a missing path); Internal when the
// tool cannot run.
Result<std::string> ApplyJsonPatch(const std::string& doc_json, const std::string& patch_json);

// The documents of the YAML file at `yaml_path` as one JSON array, in file order, empty
// documents left out. Errors: InvalidArgument for unreadable or malformed YAML.
Result<std::string> YamlToJson(const std::string& yaml_path);

// The single document of the YAML file at `yaml_path` as a JSON object. Errors: as YamlToJson,
// and InvalidArgument when the file holds no document or more than one.
Result<std::string> YamlDocumentToJson(const std::string& yaml_path);

}  // namespace confcom::testing
