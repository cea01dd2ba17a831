// JSON text as signed collateral needs it: the exact text of a top-level member, the refusal of
// repeated member names, and the compact re-serialisation Intel's QVL verifies signatures over.
// nlohmann::json keeps no source offsets, so a small scanner finds a member's value span. Why
// both the exact and the compact text: docs/dcap-quote.md, "Strictness" (b). All functions
// are pure and bounded by the caller's input.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::verify {

// The raw text of the value of top-level member `key` in `document` (an object). The whole
// top-level object is scanned: a document with `key` twice is refused. NotFound when `document`
// lacks `key`; InvalidArgument when it is not a JSON object or has `key` twice.
Result<std::string_view> RawMemberText(std::string_view document, std::string_view key);

// Refuses a document in which any object, at any depth, has two members of the same name:
// parsers disagree on which one counts, so a signed text and the fields read from it could
// differ. Also refuses text that is not JSON.
Status RefuseDuplicateMembers(std::string_view document);

// The compact serialisation of a JSON value (no whitespace, members in document order), as
// Intel's QVL re-serialises a parsed TCB Info / QE Identity object before it checks the
// signature. `value_text` must be free of duplicate members.
Result<std::string> CompactJson(std::string_view value_text);

}  // namespace confcom::verify
