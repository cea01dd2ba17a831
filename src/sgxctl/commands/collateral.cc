// sgxctl collateral and sgxctl pccs: the SIMULATED platform's collateral, as files or served
// as a PCCS (API v4).
#include <signal.h>

#include <cstdio>
#include <map>
#include <spdlog/spdlog.h>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "common/logging.h"
#include "common/signals.h"
#include "pccs/pccs.h"
#include "sim/collateral_issuer.h"
#include "sim/platform.h"
#include "verify/collateral.h"

namespace confcom::sgxctl {
namespace {

// The flags both share: which platform, and what collateral to issue for it.
class CollateralSource {
 protected:
  void AddSourceFlags(CLI::App& sub, const char* revoke_help) {
    sub.add_option("--state-dir", state_dir_, "The quote helper's state dir")->required();
    sub.add_flag("--revoke-pck", revoke_pck_, revoke_help);
    sub.add_option("--validity-days", validity_days_, "Days until nextUpdate")
        ->check(CLI::Range(1, 3650))
        ->capture_default_str();
  }
  sim::CollateralOptions Options() const {
    sim::CollateralOptions options;
    options.revoke_pck = revoke_pck_;
    options.validity_days = validity_days_;
    return options;
  }
  std::string state_dir_;
  bool revoke_pck_ = false;
  int validity_days_ = 30;
};

class CollateralCommand final : public Command, CollateralSource {
 public:
  const char* name() const override { return "collateral"; }
  const char* help() const override {
    return "Write the SIMULATED platform's collateral (TCB Info, QE Identity, CRLs, chains, root) as files.";
  }
  void Setup(CLI::App& sub) override {
    AddSourceFlags(sub, "Issue a PCK CRL that revokes the platform's PCK certificates");
    sub.add_option("-o,--output", output_, "Output directory")->required();
  }
  int Run() override {
    auto platform = sim::SimPlatform::Load(state_dir_);
    if (!platform.ok()) return Fail(platform.status().message());
    auto c = sim::MakeSimCollateral(*platform, Options());
    if (!c.ok()) return Fail(c.status().message());
    if (Status st = verify::WriteCollateralDir(*c, platform->root_ca().ToPem(), output_);
        !st.ok()) {
      return Fail(st.message());
    }
    std::printf("collateral of the SIMULATED platform in %s written to %s/ (valid %d days%s):\n",
                state_dir_.c_str(), output_.c_str(), validity_days_,
                revoke_pck_ ? ", PCK certificates REVOKED" : "");
    for (const char* file :
         {verify::kRootCaFile, verify::kTcbInfoFile, verify::kQeIdentityFile, verify::kPckCrlFile,
          verify::kRootCaCrlFile, verify::kTcbSigningChainFile, verify::kPckCrlIssuerChainFile}) {
      std::printf("  %s\n", file);
    }
    return 0;
  }

 private:
  std::string output_;
};

class PccsCommand final : public Command, CollateralSource {
 public:
  const char* name() const override { return "pccs"; }
  const char* help() const override {
    return "Serve the SIMULATED platform's collateral as a PCCS (API v4) until SIGTERM/SIGINT.";
  }
  void Setup(CLI::App& sub) override {
    AddSourceFlags(sub, "Serve a PCK CRL that revokes the platform's PCK certificates");
    sub.add_option("--listen", listen_, "HOST:PORT (loopback by default; port 0 = any)")
        ->capture_default_str();
  }
  int Run() override;

 private:
  std::string listen_ = "127.0.0.1:8081";
};

int PccsCommand::Run() {
  if (Status st = SetupLogging("text", "info", "sgxctl-pccs"); !st.ok()) return Fail(st.message());
  auto colon = listen_.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(listen_.substr(colon + 1));
    } catch (const std::exception&) {
    }
  }
  if (port < 0 || port > 65535) {
    Fail("--listen must be HOST:PORT, got '" + listen_ + "'");
    return 2;
  }
  std::string host = listen_.substr(0, colon);
  sigset_t signals = BlockTerminationSignals();

  auto platform = sim::SimPlatform::Load(state_dir_);
  if (!platform.ok()) return Fail(platform.status().message());
  auto c = sim::MakeSimCollateral(*platform, Options());
  if (!c.ok()) return Fail(c.status().message());
  // Both CAs' CRLs, as Intel's PCS serves both: a verifier asks for its PCK's issuer's.
  std::map<std::string, verify::PckCrlBundle> pck_crls;
  for (pki::PckCa ca : {pki::PckCa::kPlatform, pki::PckCa::kProcessor}) {
    auto crl = sim::MakeSimPckCrl(*platform, ca, Options());
    if (!crl.ok()) return Fail(crl.status().message());
    pck_crls.emplace(pki::PckCaName(ca), std::move(crl).value());
  }
  pccs::PccsServer server(std::move(c).value(), platform->info().fmspc, std::move(pck_crls),
                          /*simulated=*/true);
  if (Status st = server.Bind(host, port); !st.ok()) return Fail(st.message());
  spdlog::warn(
      "serving collateral of a SIMULATED SGX platform (FMSPC {}); trust its root only for testing",
      ToHex(platform->info().fmspc));
  spdlog::info("PCCS API v4 on http://{}:{}/sgx/certification/v4/ (state {})", host, server.port(),
               state_dir_);
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

std::unique_ptr<Command> MakeCollateralCommand() { return std::make_unique<CollateralCommand>(); }
std::unique_ptr<Command> MakePccsCommand() { return std::make_unique<PccsCommand>(); }

}  // namespace confcom::sgxctl
