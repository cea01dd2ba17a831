// sgxctl: the operator's and developer's CLI for confcom.
//   quote    fetch a quote from the quote helper for a (simulated) app enclave report
//   inspect  print every field of a v3 quote
//   ping     readiness probe: does the helper offer ECDSA P-256 quoting?
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "aesm/client.h"
#include "cli/quote_describe.h"
#include "client/error_map.h"
#include "client/sgx_uae_quote_ex.h"
#include "common/file_util.h"
#include "crypto/crypto.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "sim/platform.h"

namespace confcom {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "sgxctl: %s\n", message.c_str());
  return 1;
}

int FailCall(const char* call, sgx_status_t st, const std::string& socket) {
  std::string hint;
  if (st == SGX_ERROR_SERVICE_UNAVAILABLE) {
    hint = " (is sgx-quote-helper running and serving " + socket + "?)";
  } else if (st == SGX_ERROR_MAC_MISMATCH) {
    hint = " (the report was not made for the helper's quoting enclave target info)";
  }
  return Fail(std::string(call) + " failed: " + client::SgxStatusName(st) + hint);
}

void UseSocket(const std::string& socket) {
  if (!socket.empty()) ::setenv(aesm::kSocketPathEnv, socket.c_str(), 1);
}

std::string EffectiveSocket() { return aesm::SocketPathFromEnv(); }

template <size_t N>
Status HexInto(const std::string& hex, sgx::Array<N>& out, const char* what, bool allow_shorter) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  if (bytes->size() > N || (!allow_shorter && bytes->size() != N)) {
    return Status::InvalidArgument(std::string(what) + ": expected " +
                                   (allow_shorter ? "at most " : "") + std::to_string(N) +
                                   " bytes, got " + std::to_string(bytes->size()));
  }
  out = {};
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return Status::Ok();
}

struct QuoteFlags {
  std::string socket;
  std::string report_data;
  std::string mrenclave;
  std::string mrsigner;
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  bool debug = false;
  std::string cpusvn = "default";
  bool legacy_report_key = false;
  std::string nonce;
  std::string output;
};

int RunQuote(const QuoteFlags& f) {
  UseSocket(f.socket);
  std::string socket = EffectiveSocket();

  // The simulated app enclave's identity.
  sgx::ReportBody body;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit | (f.debug ? sgx::kFlagDebug : 0), 0x3};
  body.mr_enclave = crypto::Sha256(AsBytes("confcom sgxctl simulated app enclave"));
  body.mr_signer = crypto::Sha256(AsBytes("confcom sgxctl simulated app signer"));
  body.isv_prod_id = f.isv_prod_id;
  body.isv_svn = f.isv_svn;
  Status st = HexInto(f.report_data, body.report_data, "--report-data", true);
  if (st.ok() && !f.mrenclave.empty()) st = HexInto(f.mrenclave, body.mr_enclave, "--mrenclave", false);
  if (st.ok() && !f.mrsigner.empty()) st = HexInto(f.mrsigner, body.mr_signer, "--mrsigner", false);
  if (!st.ok()) return Fail(st.message());
  if (const sim::TcbProfile* p = sim::FindTcbProfile(f.cpusvn)) {
    body.cpu_svn = p->cpusvn;
  } else if (Status s = HexInto(f.cpusvn, body.cpu_svn, "--cpusvn", false); !s.ok()) {
    return Fail(s.message() + " (or one of: upgraded, default, downgraded)");
  }
  sgx_qe_report_info_t qe_info{};
  if (f.nonce.empty()) {
    if (Status s = crypto::RandomBytes(qe_info.nonce.rand); !s.ok()) return Fail(s.message());
  } else {
    sgx::Array<16> nonce{};
    if (Status s = HexInto(f.nonce, nonce, "--nonce", false); !s.ok()) return Fail(s.message());
    std::memcpy(qe_info.nonce.rand, nonce.data(), 16);
  }

  // The same calls, in the same order, as DCAP's quote library makes out of proc.
  sgx_att_key_id_t key{};
  if (sgx_status_t s = sgx_select_att_key_id(nullptr, 0, &key); s) {
    return FailCall("sgx_select_att_key_id", s, socket);
  }
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
  if (sgx_status_t s = sgx_get_quote_size_ex(&key, &quote_size); s) {
    return FailCall("sgx_get_quote_size_ex", s, socket);
  }

  auto target = sgx::TargetInfo::Decode({reinterpret_cast<const uint8_t*>(&qe_target), sizeof qe_target});
  auto layout = f.legacy_report_key ? sgx::ReportKeyLayout::kLegacy : sgx::ReportKeyLayout::kSdk219;
  auto report = sgx::MakeSimReport(*target, body, layout);
  if (!report.ok()) return Fail(report.status().message());
  auto report_bytes = report->Encode();

  sgx::TargetInfo app_target;
  app_target.mr_enclave = body.mr_enclave;
  app_target.attributes = body.attributes;
  app_target.misc_select = body.misc_select;
  app_target.config_svn = body.config_svn;
  app_target.config_id = body.config_id;
  auto app_target_bytes = app_target.Encode();
  std::memcpy(&qe_info.app_enclave_target_info, app_target_bytes.data(), app_target_bytes.size());

  Bytes quote(quote_size);
  if (sgx_status_t s = sgx_get_quote_ex(reinterpret_cast<const sgx_report_t*>(report_bytes.data()),
                                        &key, &qe_info, quote.data(), quote_size);
      s) {
    return FailCall("sgx_get_quote_ex", s, socket);
  }

  // Check the QE's report as the app enclave would: made for us, bound to nonce and quote.
  ByteSpan qe_report(reinterpret_cast<const uint8_t*>(&qe_info.qe_report), sizeof qe_info.qe_report);
  if (auto mac = sgx::CheckSimReportMac(app_target, qe_report); !mac.ok()) {
    return Fail("the QE report returned with the quote does not verify: " + mac.status().message());
  }
  crypto::Sha256Digest binding = crypto::Sha256({ByteSpan(qe_info.nonce.rand), quote});
  if (std::memcmp(qe_info.qe_report.body.report_data, binding.data(), 32) != 0) {
    return Fail("the QE report's report_data is not SHA-256(nonce || quote)");
  }

  auto parsed = sgx::ParseQuoteV3(quote);
  if (!parsed.ok()) return Fail("the service returned a malformed quote: " + parsed.status().message());
  Bytes exact = parsed->quote.Encode();
  if (Status s = WriteFileAtomic(f.output, AsChars(exact), 0644); !s.ok()) return Fail(s.message());
  auto described = cli::DescribeQuote(*parsed);
  std::printf("quote: %zu bytes written to %s\n", exact.size(), f.output.c_str());
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

int RunInspect(const std::string& path, bool json) {
  auto data = ReadFile(path, 1 << 20);
  if (!data.ok()) return Fail(data.status().message());
  auto parsed = sgx::ParseQuoteV3(AsBytes(*data));
  if (!parsed.ok()) return Fail(path + ": " + parsed.status().message());
  auto j = cli::DescribeQuote(*parsed);
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << cli::RenderText(j);
  }
  return 0;
}

int RunPing(const std::string& socket_flag) {
  UseSocket(socket_flag);
  std::string socket = EffectiveSocket();
  uint32_t n = 0;
  if (sgx_status_t s = sgx_get_supported_att_key_id_num(&n); s) {
    return FailCall("sgx_get_supported_att_key_id_num", s, socket);
  }
  if (n == 0 || n > 64) return Fail("the service reports " + std::to_string(n) + " key ids");
  std::vector<sgx_att_key_id_ext_t> ids(n);
  if (sgx_status_t s = sgx_get_supported_att_key_ids(ids.data(), n); s) {
    return FailCall("sgx_get_supported_att_key_ids", s, socket);
  }
  sgx::AttKeyId want = sgx::EcdsaP256AttKeyId();
  for (const auto& id : ids) {
    if (sgx::SameKeyBase({reinterpret_cast<const uint8_t*>(&id), sizeof id}, want)) {
      std::printf("ok: %s offers ECDSA P-256 quoting\n", socket.c_str());
      return 0;
    }
  }
  return Fail(socket + " answers but offers no ECDSA P-256 attestation key");
}

}  // namespace
}  // namespace confcom

int main(int argc, char** argv) {
  using namespace confcom;
  CLI::App app{"sgxctl: confcom's command-line tool for SGX quotes and the quote helper.",
               "sgxctl"};
  app.set_version_flag("--version", CONFCOM_VERSION);
  app.require_subcommand(1);

  QuoteFlags qf;
  auto* quote = app.add_subcommand(
      "quote",
      "Fetch a quote from the quote helper for a simulated app enclave report (SDK simulation-"
      "mode EREPORT for the helper's QE target info), check the QE report, write the quote.");
  quote->add_option("--socket", qf.socket, "AESM socket (default: $CONFCOM_AESM_SOCKET or /var/run/aesmd/aesm.socket)");
  quote->add_option("--report-data", qf.report_data, "Up to 64 bytes of report_data, hex")->required();
  quote->add_option("--mrenclave", qf.mrenclave, "The app enclave's MRENCLAVE (32 bytes hex)");
  quote->add_option("--mrsigner", qf.mrsigner, "The app enclave's MRSIGNER (32 bytes hex)");
  quote->add_option("--isv-prod-id", qf.isv_prod_id, "ISVPRODID")->capture_default_str();
  quote->add_option("--isv-svn", qf.isv_svn, "ISVSVN")->capture_default_str();
  quote->add_flag("--debug", qf.debug, "Mark the app enclave as a DEBUG enclave");
  quote->add_option("--cpusvn", qf.cpusvn,
                    "Simulated CPUSVN: upgraded, default, downgraded, or 16 bytes hex")
      ->capture_default_str();
  quote->add_flag("--legacy-report-key", qf.legacy_report_key,
                  "Derive the report key like SDKs before 2.19 (120-byte layout)");
  quote->add_option("--nonce", qf.nonce, "16-byte nonce for the QE report, hex (default: random)");
  quote->add_option("-o,--output", qf.output, "Where to write the quote")->required();

  std::string inspect_path;
  bool inspect_json = false;
  auto* inspect = app.add_subcommand("inspect", "Print every field of a DCAP v3 quote file.");
  inspect->add_option("QUOTE", inspect_path, "Quote file")->required();
  inspect->add_flag("--json", inspect_json, "Print JSON");

  std::string ping_socket;
  auto* ping = app.add_subcommand(
      "ping", "Exit 0 only if the quote helper answers and offers ECDSA P-256 quoting (a readiness probe).");
  ping->add_option("--socket", ping_socket, "AESM socket (default: $CONFCOM_AESM_SOCKET or /var/run/aesmd/aesm.socket)");

  CLI11_PARSE(app, argc, argv);
  if (*quote) return RunQuote(qf);
  if (*inspect) return RunInspect(inspect_path, inspect_json);
  if (*ping) return RunPing(ping_socket);
  return 2;
}
