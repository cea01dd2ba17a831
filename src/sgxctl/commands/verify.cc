// sgxctl verify: a DCAP v3 quote against collateral (files or a PCCS) and a trust anchor.
// Exit codes: 0 verified and acceptable; 1 verification failed or TCB status not accepted;
// 2 the inputs could not be used (flags, files, collateral, PCCS).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/quote_describe.h"
#include "sgxctl/verdict_describe.h"
#include "common/file_util.h"
#include "pccs/pccs.h"
#include "pki/x509.h"
#include "sgx/quote_v3.h"
#include "verify/intel_root_ca.h"
#include "verify/quote_platform.h"
#include "verify/verifier.h"

namespace confcom::sgxctl {
namespace {

Result<std::time_t> ParseTime(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit))
    return std::time_t(std::stoll(text));
  auto t = verify::ParseRfc3339(text);
  if (!t.ok())
    return Status::InvalidArgument(
        "--at: expected RFC 3339 (2030-01-01T00:00:00Z) or seconds since 1970");
  return t;
}

class VerifyCommand final : public Command {
 public:
  const char* name() const override { return "verify"; }
  const char* help() const override {
    return "Verify a DCAP v3 quote (Intel's QVL order) against collateral and a trust anchor. Exit 0 "
           "only for a verified quote whose TCB status is acceptable; 1 if verification fails or the "
           "status is not accepted; 2 if the inputs cannot be used. Zero bytes after the quote (a buffer of "
           "the announced quote size) verify with a warning, as in Intel's QVL since DCAP 1.18; other "
           "bytes after it fail.";
  }
  void Setup(CLI::App& sub) override {
    sub.add_option("QUOTE", quote_, "Quote file")->required();
    auto* dir = sub.add_option("--collateral", collateral_dir_,
                               "Collateral directory (as `sgxctl collateral` writes it)");
    auto* pccs = sub.add_option(
        "--pccs", pccs_url_,
        "PCCS: its base URL (https://pccs:8081) or QCNL's pccs_url (https://pccs:8081/sgx/certification/v4/)");
    dir->excludes(pccs);
    pccs->excludes(dir);
    sub.add_option(
        "--root", root_,
        "Trusted root certificate (PEM). Default: Intel's SGX Root CA, which no simulated quote chains to");
    sub.add_option("--at", at_,
                   "Verify as of this time (RFC 3339 or seconds since 1970); default now");
    sub.add_flag("--allow-debug", allow_debug_, "Accept DEBUG app enclaves");
    // Zero padding verifies with a warning since this release (as in Intel's QVL since DCAP
    // 1.18); the flag that allowed it stays accepted, hidden, so that scripts keep working.
    sub.add_flag("--allow-zero-padding", old_padding_flag_,
                 "Accepted and ignored: zero padding always verifies")
        ->group("");
    sub.add_flag("--accept-configuration-needed", accept_.configuration_needed,
                 "Accept ConfigurationNeeded TCB status");
    sub.add_flag("--accept-sw-hardening-needed", accept_.sw_hardening_needed,
                 "Accept SWHardeningNeeded TCB status");
    sub.add_flag("--accept-out-of-date", accept_.out_of_date, "Accept OutOfDate TCB status");
    sub.add_flag("--json", json_, "Print JSON");
  }
  int Run() override;

 private:
  int Unusable(const std::string& message) {
    Fail(message);
    return 2;
  }
  std::string quote_, collateral_dir_, pccs_url_, root_, at_;
  bool allow_debug_ = false, json_ = false;
  bool old_padding_flag_ = false;  // --allow-zero-padding, read by nothing
  AcceptPolicy accept_;
};

int VerifyCommand::Run() {
  if (collateral_dir_.empty() == pccs_url_.empty())
    return Unusable("verify needs exactly one of --collateral DIR or --pccs URL");
  auto quote = ReadFile(quote_, 1 << 20);
  if (!quote.ok()) return Unusable(quote.status().message());
  pki::Certificate root = verify::IntelSgxRootCa();
  if (!root_.empty()) {
    auto pem = ReadFile(root_, 64 << 10);
    auto cert = pem.ok() ? pki::Certificate::FromPem(*pem) : Result<pki::Certificate>(pem.status());
    if (!cert.ok()) return Unusable("--root " + root_ + ": " + cert.status().message());
    root = *cert;
  }
  verify::VerifyOptions options;
  options.allow_debug = allow_debug_;
  if (!at_.empty()) {
    auto at = ParseTime(at_);
    if (!at.ok()) return Unusable(at.status().message());
    options.at = *at;
  }
  Result<verify::Collateral> collateral = Status::InvalidArgument("no collateral source");
  if (!collateral_dir_.empty()) {
    collateral = verify::LoadCollateralDir(collateral_dir_);
  } else {
    // The PCCS serves collateral per FMSPC, and the PCK CRL per PCK CA: read both from the
    // quote's PCK chain (the FMSPC from the leaf, the CA from the leaf's issuer).
    auto platform = verify::ReadQuotePlatform(AsBytes(*quote));
    if (!platform.ok()) return Fail(quote_ + ": " + platform.status().message());
    collateral = pccs::FetchCollateral(pccs_url_, platform->fmspc, platform->ca);
  }
  if (!collateral.ok()) return Unusable(collateral.status().message());
  auto verifier = verify::QuoteVerifier::Create(*collateral, root);
  if (!verifier.ok()) return Unusable("collateral: " + verifier.status().message());
  verify::Verdict verdict = (*verifier)->Verify(AsBytes(*quote), options);
  auto j = DescribeVerdict(verdict, accept_);
  if (auto parsed = sgx::ParseQuoteV3(AsBytes(*quote)); parsed.ok()) {
    bool simulated = DescribeQuote(*parsed)["simulated_platform"].get<bool>();
    j["simulated_platform"] = simulated;
    if (simulated && root_.empty() && verdict.failed == verify::Check::kPckChain) {
      j["hint"] =
          "this quote comes from a SIMULATED platform, which Intel's root does not cover: "
          "verify it against the simulated root with --root <collateral dir>/root_ca.pem";
    }
  }
  if (json_) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << RenderText(j);
  }
  return j["verdict"] == "ACCEPTED" ? 0 : 1;
}

}  // namespace

std::unique_ptr<Command> MakeVerifyCommand() { return std::make_unique<VerifyCommand>(); }

}  // namespace confcom::sgxctl
