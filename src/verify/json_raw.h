// The exact text of a top-level member of a JSON object.
//
// Intel signs TCB Info and QE Identity over the exact bytes of the "tcbInfo" /
// "enclaveIdentity" object as it appears in the document; a parsed-and-reprinted object would
// not match. nlohmann::json keeps no source offsets, so this small scanner finds the member's
// value span (skipping strings with escapes and nested objects/arrays). Inputs are bounded by
// the caller.
#pragma once

#include <string_view>

#include "common/status.h"

namespace confcom::verify {

// The raw text of the value of top-level member `key` in `document` (an object). The whole
// top-level object is scanned: a document with `key` twice is refused.
Result<std::string_view> RawMemberText(std::string_view document, std::string_view key);

}  // namespace confcom::verify
