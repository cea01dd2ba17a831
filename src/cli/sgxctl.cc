// sgxctl: the operator's and developer's CLI for confcom.
//   quote    fetch a quote from the quote helper for a (simulated) app enclave report
//   inspect  print every field of a v3 quote
//   ping     readiness probe: does the helper offer ECDSA P-256 quoting?
//   verify   verify a quote against collateral (files or a PCCS) and a trust anchor
//   collateral / pccs   the simulated platform's collateral, as files or as a PCCS endpoint
#include <signal.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>

#include "aesm/client.h"
#include "cli/quote_describe.h"
#include "cli/node_status.h"
#include "cli/verdict_describe.h"
#include "common/logging.h"
#include "common/signals.h"
#include "pccs/pccs.h"
#include "sim/collateral.h"
#include "verify/verifier.h"
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

// OK when the helper answers and offers ECDSA P-256 quoting (the readiness probe's check).
Status PingHelper(const std::string& socket) {
  uint32_t n = 0;
  if (sgx_status_t s = sgx_get_supported_att_key_id_num(&n); s) {
    return Status::Unavailable("sgx_get_supported_att_key_id_num: " + client::SgxStatusName(s) + " (" + socket + ")");
  }
  if (n == 0 || n > 64) return Status::Corruption("the service reports " + std::to_string(n) + " key ids");
  std::vector<sgx_att_key_id_ext_t> ids(n);
  if (sgx_status_t s = sgx_get_supported_att_key_ids(ids.data(), n); s) {
    return Status::Unavailable("sgx_get_supported_att_key_ids: " + client::SgxStatusName(s));
  }
  sgx::AttKeyId want = sgx::EcdsaP256AttKeyId();
  for (const auto& id : ids) {
    if (sgx::SameKeyBase({reinterpret_cast<const uint8_t*>(&id), sizeof id}, want)) return Status::Ok();
  }
  return Status::Unsupported(socket + " answers but offers no ECDSA P-256 attestation key");
}

int RunPing(const std::string& socket_flag, const std::string& ready_file) {
  UseSocket(socket_flag);
  std::string socket = EffectiveSocket();
  // During a hand-over both helpers' probes reach whichever helper owns the path; the
  // helper's --ready-file says whether this one is the owner (docs/helper-handover.md).
  if (!ready_file.empty() && !PathExists(ready_file)) {
    return Fail("no " + ready_file + ": this quote helper does not own " + socket +
                " (it is taking it over, or has handed it over)");
  }
  if (Status st = PingHelper(socket); !st.ok()) {
    return Fail(st.message() + (st.code() == Status::Code::kUnavailable
                                    ? " (is sgx-quote-helper running and serving " + socket + "?)"
                                    : ""));
  }
  std::printf("ok: %s offers ECDSA P-256 quoting\n", socket.c_str());
  return 0;
}

struct StatusFlags {
  std::string socket;
  std::string helper_metrics = "http://127.0.0.1:9464/metrics";
  std::string plugin_metrics = "http://127.0.0.1:9465/metrics";
  std::string device_plugin_dir = "/var/lib/kubelet/device-plugins";
  bool json = false;
};

// Exit 0 when the helper answers and the plugin is registered with EPC; 1 otherwise.
int RunStatus(const StatusFlags& f) {
  UseSocket(f.socket);
  cli::StatusInputs in;
  in.helper_ping = PingHelper(EffectiveSocket());
  in.helper_metrics = cli::ScrapeMetrics(f.helper_metrics);
  in.plugin_metrics = cli::ScrapeMetrics(f.plugin_metrics);
  for (const char* sock : {"kubelet.sock", "confcom-sgx-epc.sock", "confcom-sgx-provision.sock"}) {
    if (PathExists(f.device_plugin_dir + "/" + sock)) in.plugin_sockets.push_back(sock);
  }
  auto j = cli::SummarizeNode(in);
  j["quote_helper"]["socket"] = EffectiveSocket();
  if (f.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << cli::RenderText(j);
  }
  return j["ok"].get<bool>() ? 0 : 1;
}

struct VerifyFlags {
  std::string quote;
  std::string collateral_dir;
  std::string pccs_url;
  std::string root;
  std::string at;
  bool allow_debug = false;
  bool allow_zero_padding = false;
  bool json = false;
  cli::AcceptPolicy accept;
};

Result<std::time_t> ParseTime(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
    return std::time_t(std::stoll(text));
  }
  auto t = verify::ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument("--at: expected RFC 3339 (2030-01-01T00:00:00Z) or seconds since 1970");
  return t;
}

// Exit codes: 0 verified and acceptable; 1 verification failed or TCB status not accepted;
// 2 the inputs could not be used (files, collateral, PCCS, flags).
int RunVerify(const VerifyFlags& f) {
  auto quote = ReadFile(f.quote, 1 << 20);
  if (!quote.ok()) { Fail(quote.status().message()); return 2; }
  pki::Certificate root = verify::IntelSgxRootCa();
  if (!f.root.empty()) {
    auto pem = ReadFile(f.root, 64 << 10);
    auto cert = pem.ok() ? pki::Certificate::FromPem(*pem) : Result<pki::Certificate>(pem.status());
    if (!cert.ok()) { Fail("--root " + f.root + ": " + cert.status().message()); return 2; }
    root = *cert;
  }
  verify::VerifyOptions options;
  options.allow_debug = f.allow_debug;
  options.allow_zero_padding = f.allow_zero_padding;
  if (!f.at.empty()) {
    auto at = ParseTime(f.at);
    if (!at.ok()) { Fail(at.status().message()); return 2; }
    options.at = *at;
  }
  Result<verify::Collateral> collateral = Status::InvalidArgument("no collateral source");
  if (!f.collateral_dir.empty()) {
    collateral = verify::LoadCollateralDir(f.collateral_dir);
  } else {
    // The PCCS serves collateral per FMSPC, and the PCK CRL per PCK CA: read both from the
    // quote's PCK chain (the FMSPC from the leaf, the CA from the leaf's issuer).
    auto parsed = sgx::ParseQuoteV3(AsBytes(*quote));
    if (!parsed.ok()) { Fail(f.quote + ": " + parsed.status().message()); return 1; }
    auto chain = pki::Certificate::ChainFromPem(AsChars(parsed->quote.cert_data));
    auto ext = chain.ok() ? (*chain)[0].SgxExt() : Result<pki::SgxExtension>(chain.status());
    if (!ext.ok()) { Fail("cannot read the FMSPC from the quote's PCK certificate: " + ext.status().message()); return 1; }
    std::string issuer = chain->size() > 1 ? (*chain)[1].SubjectCommonName() : "";
    auto ca = pki::PckCaFromCommonName(issuer);
    if (!ca) { Fail("the quote's PCK CA is '" + issuer + "', not Intel's Processor or Platform CA"); return 1; }
    collateral = pccs::FetchCollateral(f.pccs_url, ext->fmspc, *ca);
  }
  if (!collateral.ok()) { Fail(collateral.status().message()); return 2; }
  auto verifier = verify::QuoteVerifier::Create(*collateral, root);
  if (!verifier.ok()) { Fail("collateral: " + verifier.status().message()); return 2; }
  verify::Verdict verdict = (*verifier)->Verify(AsBytes(*quote), options);
  auto j = cli::DescribeVerdict(verdict, f.accept);
  if (auto parsed = sgx::ParseQuoteV3(AsBytes(*quote)); parsed.ok()) {
    bool simulated = cli::DescribeQuote(*parsed)["simulated_platform"].get<bool>();
    j["simulated_platform"] = simulated;
    if (simulated && f.root.empty() && verdict.failed == verify::Check::kPckChain) {
      j["hint"] = "this quote comes from a SIMULATED platform, which Intel's root does not cover: "
                  "verify it against the simulated root with --root <collateral dir>/root_ca.pem";
    }
  }
  if (f.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << cli::RenderText(j);
  }
  return j["verdict"] == "ACCEPTED" ? 0 : 1;
}

struct CollateralFlags {
  std::string state_dir;
  std::string output;
  std::string listen = "127.0.0.1:8081";
  bool revoke_pck = false;
  int validity_days = 30;
};

// The flags `collateral` and `pccs` share: which platform, and what collateral to issue for it.
void AddCollateralSourceFlags(CLI::App* cmd, CollateralFlags& f, const char* revoke_help) {
  cmd->add_option("--state-dir", f.state_dir, "The quote helper's state dir")->required();
  cmd->add_flag("--revoke-pck", f.revoke_pck, revoke_help);
  cmd->add_option("--validity-days", f.validity_days, "Days until nextUpdate")
      ->check(CLI::Range(1, 3650))->capture_default_str();
}

sim::CollateralOptions SimCollateralOptions(const CollateralFlags& f) {
  sim::CollateralOptions options;
  options.revoke_pck = f.revoke_pck;
  options.validity_days = f.validity_days;
  return options;
}

int RunCollateral(const CollateralFlags& f) {
  auto platform = sim::SimPlatform::Load(f.state_dir);
  if (!platform.ok()) return Fail(platform.status().message());
  auto c = sim::MakeSimCollateral(*platform, SimCollateralOptions(f));
  if (!c.ok()) return Fail(c.status().message());
  if (Status st = verify::WriteCollateralDir(*c, platform->root_ca().ToPem(), f.output); !st.ok()) {
    return Fail(st.message());
  }
  std::printf("collateral of the SIMULATED platform in %s written to %s/ (valid %d days%s):\n", f.state_dir.c_str(),
              f.output.c_str(), f.validity_days, f.revoke_pck ? ", PCK certificates REVOKED" : "");
  for (const char* name : {verify::kRootCaFile, verify::kTcbInfoFile, verify::kQeIdentityFile, verify::kPckCrlFile,
                           verify::kRootCaCrlFile, verify::kTcbSigningChainFile, verify::kPckCrlIssuerChainFile}) {
    std::printf("  %s\n", name);
  }
  return 0;
}

int RunPccs(const CollateralFlags& f) {
  if (Status st = SetupLogging("text", "info", "sgxctl-pccs"); !st.ok()) return Fail(st.message());
  auto colon = f.listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try { port = std::stoi(f.listen.substr(colon + 1)); } catch (const std::exception&) {}
  }
  if (port < 0 || port > 65535) return Fail("--listen must be HOST:PORT, got '" + f.listen + "'");
  std::string host = f.listen.substr(0, colon);
  sigset_t signals = BlockTerminationSignals();

  auto platform = sim::SimPlatform::Load(f.state_dir);
  if (!platform.ok()) return Fail(platform.status().message());
  auto c = sim::MakeSimCollateral(*platform, SimCollateralOptions(f));
  if (!c.ok()) return Fail(c.status().message());
  // Both CAs' CRLs, as Intel's PCS serves both: a verifier asks for its PCK's issuer's.
  std::map<std::string, verify::PckCrlBundle> pck_crls;
  for (pki::PckCa ca : {pki::PckCa::kPlatform, pki::PckCa::kProcessor}) {
    auto crl = sim::MakeSimPckCrl(*platform, ca, SimCollateralOptions(f));
    if (!crl.ok()) return Fail(crl.status().message());
    pck_crls.emplace(pki::PckCaName(ca), std::move(crl).value());
  }
  pccs::PccsServer server(std::move(c).value(), platform->info().fmspc, std::move(pck_crls),
                          /*simulated=*/true);
  if (Status st = server.Bind(host, port); !st.ok()) return Fail(st.message());
  spdlog::warn("serving collateral of a SIMULATED SGX platform (FMSPC {}); trust its root only for testing",
               ToHex(platform->info().fmspc));
  spdlog::info("PCCS API v4 on http://{}:{}/sgx/certification/v4/ (state {})", host, server.port(), f.state_dir);
  Status st;
  {
    StopOnSignal stop(signals, [&server](int sig) {
      spdlog::info("received {}: stopping", SignalName(sig));
      server.Stop();
    });
    st = server.Serve();
  }
  return st.ok() ? 0 : Fail(st.message());
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
  std::string ping_ready_file;
  auto* ping = app.add_subcommand(
      "ping", "Exit 0 only if the quote helper answers and offers ECDSA P-256 quoting (a readiness probe).");
  ping->add_option("--socket", ping_socket, "AESM socket (default: $CONFCOM_AESM_SOCKET or /var/run/aesmd/aesm.socket)");
  ping->add_option("--ready-file", ping_ready_file,
                   "Also require this file, the helper's --ready-file (a helper that owns the socket)");

  VerifyFlags vf;
  auto* verify_cmd = app.add_subcommand(
      "verify",
      "Verify a DCAP v3 quote (Intel's QVL order) against collateral and a trust anchor. Exit 0 "
      "only for a verified quote whose TCB status is acceptable; 1 if verification fails or the "
      "status is not accepted; 2 if the inputs cannot be used.");
  verify_cmd->add_option("QUOTE", vf.quote, "Quote file")->required();
  auto* src_dir = verify_cmd->add_option("--collateral", vf.collateral_dir,
                                         "Collateral directory (as `sgxctl collateral` writes it)");
  auto* src_pccs = verify_cmd->add_option("--pccs", vf.pccs_url, "PCCS base URL, e.g. http://127.0.0.1:8081");
  src_dir->excludes(src_pccs);
  src_pccs->excludes(src_dir);
  verify_cmd->add_option("--root", vf.root,
                         "Trusted root certificate (PEM). Default: Intel's SGX Root CA, which no simulated "
                         "quote chains to");
  verify_cmd->add_option("--at", vf.at, "Verify as of this time (RFC 3339 or seconds since 1970); default now");
  verify_cmd->add_flag("--allow-debug", vf.allow_debug, "Accept DEBUG app enclaves");
  verify_cmd->add_flag("--allow-zero-padding", vf.allow_zero_padding,
                       "Ignore zero bytes after the quote's end (a padded buffer; Intel's QVL refuses them)");
  verify_cmd->add_flag("--accept-configuration-needed", vf.accept.configuration_needed,
                       "Accept ConfigurationNeeded TCB status");
  verify_cmd->add_flag("--accept-sw-hardening-needed", vf.accept.sw_hardening_needed,
                       "Accept SWHardeningNeeded TCB status");
  verify_cmd->add_flag("--accept-out-of-date", vf.accept.out_of_date, "Accept OutOfDate TCB status");
  verify_cmd->add_flag("--json", vf.json, "Print JSON");

  CollateralFlags cf;
  auto* collateral_cmd = app.add_subcommand(
      "collateral", "Write the SIMULATED platform's collateral (TCB Info, QE Identity, CRLs, chains, root) as files.");
  AddCollateralSourceFlags(collateral_cmd, cf, "Issue a PCK CRL that revokes the platform's PCK certificates");
  collateral_cmd->add_option("-o,--output", cf.output, "Output directory")->required();

  CollateralFlags pf;
  auto* pccs_cmd = app.add_subcommand(
      "pccs", "Serve the SIMULATED platform's collateral as a PCCS (API v4) until SIGTERM/SIGINT.");
  AddCollateralSourceFlags(pccs_cmd, pf, "Serve a PCK CRL that revokes the platform's PCK certificates");
  pccs_cmd->add_option("--listen", pf.listen, "HOST:PORT (loopback by default; port 0 = any)")->capture_default_str();

  StatusFlags sf;
  auto* status_cmd = app.add_subcommand(
      "status", "Summarise this node: quote helper reachable (backend, simulated?), device plugin registered, EPC.");
  status_cmd->add_option("--socket", sf.socket, "AESM socket (default: $CONFCOM_AESM_SOCKET or /var/run/aesmd/aesm.socket)");
  status_cmd->add_option("--helper-metrics", sf.helper_metrics, "The quote helper's metrics URL")->capture_default_str();
  status_cmd->add_option("--plugin-metrics", sf.plugin_metrics, "The device plugin's metrics URL")->capture_default_str();
  status_cmd->add_option("--device-plugin-dir", sf.device_plugin_dir, "kubelet's device plugin folder")
      ->capture_default_str();
  status_cmd->add_flag("--json", sf.json, "Print JSON");

  CLI11_PARSE(app, argc, argv);
  if (*status_cmd) return RunStatus(sf);
  if (*verify_cmd) {
    if (vf.collateral_dir.empty() == vf.pccs_url.empty()) {
      std::fprintf(stderr, "sgxctl: verify needs exactly one of --collateral DIR or --pccs URL\n");
      return 2;
    }
    return RunVerify(vf);
  }
  if (*collateral_cmd) return RunCollateral(cf);
  if (*pccs_cmd) return RunPccs(pf);
  if (*quote) return RunQuote(qf);
  if (*inspect) return RunInspect(inspect_path, inspect_json);
  if (*ping) return RunPing(ping_socket, ping_ready_file);
  return 2;
}
