// quote_fuzzer: what `sgxctl inspect` and `sgxctl verify` do with a quote file.
//
// The input is a quote (fuzz/corpus/quote_fuzzer: real simulated v3 quotes of each TCB
// profile, with and without zero padding, a DEBUG enclave's). Every input goes through
// sgx::ParseQuoteV3; a parsed quote through sgxctl::DescribeQuote + RenderText and through
// verify::QuoteVerifier::Verify with a verifier made once from the committed simulated
// collateral (fuzz/data/collateral, made by make_seeds from the same platform as the seed
// quotes), at a fixed time inside the collateral's validity, so seeds verify and mutants get
// as far through the QVL order as they can.
//
// Invariants checked:
//  - a parsed quote re-encodes to the input's bytes up to its declared end (except the report
//    bodies' reserved bytes, which the parser ignores), and the rest is counted as trailing
//    bytes (all-zero flag right);
//  - the verdict is consistent: verified <=> no failed check; a failure names its check and
//    says why; a verified quote's app report is the parsed one;
//  - Verify of unparseable input fails with the quote-format check.
#include <algorithm>
#include <memory>

#include "sgxctl/quote_describe.h"
#include "common/file_util.h"
#include "fuzz_util.h"
#include "sgx/quote_v3.h"
#include "verify/collateral.h"
#include "verify/verifier.h"

namespace {

using namespace confcom;

std::shared_ptr<verify::QuoteVerifier>* g_verifier = nullptr;
verify::VerifyOptions g_options;

// Reserved ranges of sgx_report_body_t (offsets inside the 384-byte body).
bool InReservedBytes(size_t offset) {
  for (size_t body : {sgx::kQuoteAppReportOffset, sgx::kQuoteQeReportOffset}) {
    if (offset < body || offset >= body + sgx::ReportBody::kSize) continue;
    size_t o = offset - body;
    return (o >= 20 && o < 32) || (o >= 96 && o < 128) || (o >= 160 && o < 192) ||
           (o >= 262 && o < 304);
  }
  return false;
}

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "quote_fuzzer: %s: %s (data dir %s; regenerate with `ninja fuzz_seeds`)\n",
               what.c_str(), st.ToString().c_str(), fuzz::DataDir().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  std::string dir = fuzz::DataDir() + "/collateral";
  auto collateral = verify::LoadCollateralDir(dir);
  if (!collateral.ok()) Die("collateral", collateral.status());
  auto root_pem = ReadFile(dir + "/" + verify::kRootCaFile);
  if (!root_pem.ok()) Die("root", root_pem.status());
  auto root = pki::Certificate::FromPem(*root_pem);
  if (!root.ok()) Die("root", root.status());
  auto verifier = verify::QuoteVerifier::Create(*collateral, *root);
  if (!verifier.ok()) Die("verifier", verifier.status());
  g_verifier = new std::shared_ptr<verify::QuoteVerifier>(std::move(verifier).value());
  // One hour after the collateral was issued: every certificate, CRL and document is valid.
  g_options.at = (*g_verifier)->tcb_info().issue_date + 3600;
  g_options.allow_debug = false;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan bytes(data, size);
  auto parsed = sgx::ParseQuoteV3(bytes);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a parse error must say why");
    // Intel's QVL order starts with the format: nothing else may be reported first.
    if (size < 64 || (data[0] ^ data[1]) & 1) {  // on a sample, to keep the rate up
      verify::Verdict v = (*g_verifier)->Verify(bytes, g_options);
      FUZZ_CHECK(!v.verified && v.failed == verify::Check::kQuoteFormat,
                 std::string("unparseable quote failed check ") + verify::CheckName(v.failed));
    }
    return 0;
  }
  const sgx::QuoteV3& q = parsed->quote;
  size_t end = q.EncodedSize();
  FUZZ_CHECK(end + parsed->trailing_bytes == size, "declared end + trailing != input size");
  Bytes encoded = q.Encode();
  FUZZ_CHECK(encoded.size() == end, "Encode() size != EncodedSize()");
  for (size_t i = 0; i < end; ++i) {
    if (encoded[i] == data[i]) continue;
    // The parser ignores the reserved bytes of the two report bodies and Encode() writes
    // zeros there (the verifier checks signatures over the input's bytes, so this is only
    // lossy for `inspect`). Anything else must survive.
    FUZZ_CHECK(InReservedBytes(i), "re-encoding a parsed quote changes byte " + std::to_string(i));
  }
  bool zero = std::all_of(data + end, data + size, [](uint8_t b) { return b == 0; });
  FUZZ_CHECK(zero == parsed->trailing_all_zero, "trailing_all_zero is wrong");

  auto description = sgxctl::DescribeQuote(*parsed);
  std::string text = sgxctl::RenderText(description);
  FUZZ_CHECK(!text.empty(), "empty description");
  // What `sgxctl inspect --json` prints (dump() throws on strings that are not UTF-8).
  FUZZ_CHECK(!description.dump(2).empty(), "empty JSON description");

  verify::Verdict v = (*g_verifier)->Verify(bytes, g_options);
  FUZZ_CHECK(v.verified == (v.failed == verify::Check::kNone),
             std::string("verified=") + (v.verified ? "true" : "false") + " but failed check " +
                 verify::CheckName(v.failed));
  if (!v.verified) {
    FUZZ_CHECK(!v.message.empty(),
               std::string("failure of ") + verify::CheckName(v.failed) + " says nothing");
    // Non-zero bytes after the quote's end are a format failure too; zero padding is not.
    bool verifiable = q.header.tee_type == sgx::kTeeTypeSgx &&
                      q.cert_data_type == sgx::kCertDataPckChain && parsed->trailing_all_zero;
    FUZZ_CHECK((v.failed == verify::Check::kQuoteFormat) == !verifiable,
               "format check disagrees with the parser: " + v.message);
  } else {
    FUZZ_CHECK(parsed->trailing_all_zero, "a quote with non-zero bytes after its end verified");
    FUZZ_CHECK((parsed->trailing_bytes > 0) == !v.warnings.empty(),
               "zero padding without a warning");
    FUZZ_CHECK(v.app_report && *v.app_report == q.app_report, "verdict's app report");
    FUZZ_CHECK(v.tcb_status && v.qe_tcb_status && v.combined_status, "verified without statuses");
    FUZZ_CHECK(!(q.app_report.attributes.flags & sgx::kFlagDebug),
               "a DEBUG enclave verified without allow_debug");
  }
  return 0;
}
