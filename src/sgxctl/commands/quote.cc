// sgxctl quote: a quote from the quote helper for the simulated app enclave's report, with the
// same library calls in the same order as DCAP's quote library makes out of proc.
#include <cstdio>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/quote_describe.h"
#include "common/file_util.h"
#include "crypto/crypto.h"
#include "sgx/quote_v3.h"
#include "sim/app_enclave.h"
#include "sim/platform.h"

namespace confcom::sgxctl {
namespace {

class QuoteCommand final : public Command {
 public:
  const char* name() const override { return "quote"; }
  const char* help() const override {
    return "Fetch a quote from the quote helper for a simulated app enclave report (SDK simulation-"
           "mode EREPORT for the helper's QE target info), check the QE report, write the quote.";
  }
  void Setup(CLI::App& sub) override {
    AddSocketFlag(sub, socket_);
    sub.add_option("--report-data", report_data_, "Up to 64 bytes of report_data, hex")->required();
    sub.add_option("--mrenclave", mrenclave_, "The app enclave's MRENCLAVE (32 bytes hex)");
    sub.add_option("--mrsigner", mrsigner_, "The app enclave's MRSIGNER (32 bytes hex)");
    sub.add_option("--isv-prod-id", isv_prod_id_, "ISVPRODID")->capture_default_str();
    sub.add_option("--isv-svn", isv_svn_, "ISVSVN")->capture_default_str();
    sub.add_flag("--debug", debug_, "Mark the app enclave as a DEBUG enclave");
    sub.add_option("--cpusvn", cpusvn_,
                   "Simulated CPUSVN: upgraded, default, downgraded, or 16 bytes hex")
        ->capture_default_str();
    sub.add_flag("--legacy-report-key", legacy_report_key_,
                 "Derive the report key like SDKs before 2.19 (120-byte layout)");
    sub.add_option("--nonce", nonce_, "16-byte nonce for the QE report, hex (default: random)");
    sub.add_option("-o,--output", output_, "Where to write the quote")->required();
  }
  int Run() override;

 private:
  std::string socket_, report_data_, mrenclave_, mrsigner_, nonce_, output_;
  uint16_t isv_prod_id_ = 0;
  uint16_t isv_svn_ = 0;
  bool debug_ = false;
  std::string cpusvn_ = "default";
  bool legacy_report_key_ = false;
};

int QuoteCommand::Run() {
  UseSocket(socket_);
  std::string socket = EffectiveSocket();

  sgx::ReportBody identity = sim::SimAppEnclave::DefaultIdentity();
  if (debug_) identity.attributes.flags |= sgx::kFlagDebug;
  identity.isv_prod_id = isv_prod_id_;
  identity.isv_svn = isv_svn_;
  sgx::Array<64> report_data{};
  Status st = HexInto(report_data_, report_data, "--report-data", true);
  if (st.ok() && !mrenclave_.empty())
    st = HexInto(mrenclave_, identity.mr_enclave, "--mrenclave", false);
  if (st.ok() && !mrsigner_.empty())
    st = HexInto(mrsigner_, identity.mr_signer, "--mrsigner", false);
  if (!st.ok()) return Fail(st.message());
  if (const sim::TcbProfile* p = sim::FindTcbProfile(cpusvn_)) {
    identity.cpu_svn = p->cpusvn;
  } else if (Status s = HexInto(cpusvn_, identity.cpu_svn, "--cpusvn", false); !s.ok()) {
    return Fail(s.message() + " (or one of: upgraded, default, downgraded)");
  }
  sim::SimAppEnclave app(
      identity, legacy_report_key_ ? sgx::ReportKeyLayout::kLegacy : sgx::ReportKeyLayout::kSdk219);

  sgx_qe_report_info_t qe_info{};
  if (nonce_.empty()) {
    if (Status s = crypto::RandomBytes(qe_info.nonce.rand); !s.ok()) return Fail(s.message());
  } else {
    sgx::Array<16> nonce{};
    if (Status s = HexInto(nonce_, nonce, "--nonce", false); !s.ok()) return Fail(s.message());
    std::memcpy(qe_info.nonce.rand, nonce.data(), 16);
  }

  sgx_att_key_id_t key{};
  if (sgx_status_t s = sgx_select_att_key_id(nullptr, 0, &key); s)
    return FailCall("sgx_select_att_key_id", s, socket);
  sgx_target_info_t qe_target{};
  size_t pub_key_id_size = 0;
  if (sgx_status_t s = sgx_init_quote_ex(&key, &qe_target, &pub_key_id_size, nullptr); s) {
    return FailCall("sgx_init_quote_ex", s, socket);
  }
  uint8_t pub_key_id[32] = {};
  if (pub_key_id_size != sizeof pub_key_id) {
    return Fail("sgx_init_quote_ex announced a " + std::to_string(pub_key_id_size) +
                "-byte public key id; 32 expected");
  }
  if (sgx_status_t s = sgx_init_quote_ex(&key, &qe_target, &pub_key_id_size, pub_key_id); s) {
    return FailCall("sgx_init_quote_ex", s, socket);
  }
  uint32_t quote_size = 0;
  if (sgx_status_t s = sgx_get_quote_size_ex(&key, &quote_size); s)
    return FailCall("sgx_get_quote_size_ex", s, socket);

  auto report =
      app.MakeReport({reinterpret_cast<const uint8_t*>(&qe_target), sizeof qe_target}, report_data);
  if (!report.ok()) return Fail(report.status().message());
  auto report_bytes = report->Encode();
  auto app_target_bytes = app.target_info().Encode();
  std::memcpy(&qe_info.app_enclave_target_info, app_target_bytes.data(), app_target_bytes.size());

  Bytes quote(quote_size);
  if (sgx_status_t s = sgx_get_quote_ex(reinterpret_cast<const sgx_report_t*>(report_bytes.data()),
                                        &key, &qe_info, quote.data(), quote_size);
      s) {
    return FailCall("sgx_get_quote_ex", s, socket);
  }
  ByteSpan qe_report(reinterpret_cast<const uint8_t*>(&qe_info.qe_report),
                     sizeof qe_info.qe_report);
  if (Status s = app.CheckQeReport(qe_report, ByteSpan(qe_info.nonce.rand), quote); !s.ok()) {
    return Fail("the QE report returned with the quote does not verify: " + s.message());
  }

  auto parsed = sgx::ParseQuoteV3(quote);
  if (!parsed.ok())
    return Fail("the service returned a malformed quote: " + parsed.status().message());
  Bytes exact = parsed->quote.Encode();
  if (Status s = WriteFileAtomic(output_, AsChars(exact), 0644); !s.ok()) return Fail(s.message());
  auto described = DescribeQuote(*parsed);
  std::printf("quote: %zu bytes written to %s\n", exact.size(), output_.c_str());
  std::printf("  mr_enclave:  %s\n", ToHex(parsed->quote.app_report.mr_enclave).c_str());
  std::printf("  mr_signer:   %s\n", ToHex(parsed->quote.app_report.mr_signer).c_str());
  std::printf("  report_data: %s\n", ToHex(parsed->quote.app_report.report_data).c_str());
  std::printf("  QE report:   verified (bound to nonce %s and the quote)\n",
              ToHex(ByteSpan(qe_info.nonce.rand)).c_str());
  if (described["simulated_platform"].get<bool>()) {
    std::printf("  platform:    SIMULATED (no security; development and testing only)\n");
  }
  return 0;
}

}  // namespace

std::unique_ptr<Command> MakeQuoteCommand() { return std::make_unique<QuoteCommand>(); }

}  // namespace confcom::sgxctl
