// collateral_fuzzer: the JSON collateral a verifier gets from a PCCS or a directory.
//
// Every input goes through verify::ParseTcbInfo, verify::ParseQeIdentity and
// verify::RawMemberText (the scanner that finds the exact signed object text), plus
// ParseRfc3339 on its first line. Seeds (fuzz/corpus/collateral_fuzzer): the simulated
// tcb_info.json and qe_identity.json (signed, Intel's format), and small variants (escapes,
// whitespace, advisories). A dictionary of Intel's field names is in fuzz/dict/.
//
// Invariants checked:
//  - RawMemberText returns a span inside the document; on a valid JSON object the span is
//    itself valid JSON;
//  - the signed text of a parsed TCB Info / QE Identity is exactly the object the fields were
//    read from: Intel signs the text, the verifier trusts the parsed fields, so the two must
//    never differ (e.g. a document with two "tcbInfo" members);
//  - parsed documents are within their documented bounds; their dates round-trip through
//    FormatRfc3339.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "verify/collateral.h"
#include "verify/json_raw.h"

namespace {

using namespace confcom;
using Json = nlohmann::json;

void CheckRaw(std::string_view doc, const Json& parsed, std::string_view key) {
  auto raw = verify::RawMemberText(doc, key);
  if (!raw.ok()) return;
  FUZZ_CHECK(raw->data() >= doc.data() && raw->data() + raw->size() <= doc.data() + doc.size(),
             "RawMemberText returned text outside the document");
  if (parsed.is_discarded() || !parsed.is_object()) return;
  Json value = Json::parse(*raw, nullptr, false);
  FUZZ_CHECK(!value.is_discarded(), "member \"" + std::string(key) + "\" of a valid JSON object " +
                                        "has raw text that is not JSON: " + std::string(*raw));
}

void CheckTime(std::time_t t, const char* what) {
  auto again = verify::ParseRfc3339(verify::FormatRfc3339(t));
  FUZZ_CHECK(again.ok() && *again == t,
             std::string(what) + " does not round-trip: " + verify::FormatRfc3339(t));
}

// The object the fields were read from, as the verifier's JSON library reads the document.
void CheckSignedText(const std::string& signed_text, const Json& doc, const char* key) {
  Json from_text = Json::parse(signed_text, nullptr, false);
  FUZZ_CHECK(!from_text.is_discarded(), std::string(key) + ": signed text is not JSON");
  FUZZ_CHECK(doc.is_object() && doc.contains(key), std::string(key) + ": parsed without the key");
  FUZZ_CHECK(from_text == doc[key],
             std::string(key) +
                 ": the signed text is not the object the fields were read from "
                 "(signature check and parsed TCB data disagree)");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view doc = fuzz::AsView(data, size);
  Json parsed = Json::parse(doc, nullptr, false);

  for (std::string_view key : {"tcbInfo", "enclaveIdentity", "signature"})
    CheckRaw(doc, parsed, key);

  if (auto t = verify::ParseTcbInfo(doc); t.ok()) {
    FUZZ_CHECK(!t->levels.empty(), "TCB Info without levels");
    FUZZ_CHECK(t->signature.size() == 64, "TCB Info signature is not r||s");
    FUZZ_CHECK(t->tcb_type >= 0 && t->tcb_type <= 255, "tcbType out of range");
    CheckTime(t->issue_date, "issueDate");
    CheckTime(t->next_update, "nextUpdate");
    for (const auto& l : t->levels) (void)verify::TcbStatusName(l.status);
    CheckSignedText(t->signed_text, parsed, "tcbInfo");
  }
  if (auto q = verify::ParseQeIdentity(doc); q.ok()) {
    FUZZ_CHECK(!q->levels.empty(), "QE Identity without levels");
    FUZZ_CHECK(q->signature.size() == 64, "QE Identity signature is not r||s");
    CheckTime(q->issue_date, "issueDate");
    CheckTime(q->next_update, "nextUpdate");
    for (const auto& l : q->levels) (void)verify::TcbStatusName(l.status);
    CheckSignedText(q->signed_text, parsed, "enclaveIdentity");
  }

  // The first line as a time stamp.
  std::string_view line = doc.substr(0, std::min(doc.find('\n'), size_t(64)));
  if (auto t = verify::ParseRfc3339(line); t.ok()) CheckTime(*t, "time");
  return 0;
}
