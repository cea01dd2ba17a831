#include "quoting/backend_factory.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "common/bytes.h"
#include "quoting/dcap_backend.h"
#include "quoting/platform_probe.h"
#include "quoting/sim_backend.h"

namespace confcom::quoting {

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out;
}

Result<std::unique_ptr<QuotingBackend>> MakeSim(const BackendConfig& c) {
  spdlog::warn("==================================================================");
  spdlog::warn("SIMULATED SGX PLATFORM (--backend sim): quotes from this service");
  spdlog::warn("come from a simulated platform with its own PKI. They prove NOTHING");
  spdlog::warn("about any enclave; use for development and testing only.");
  spdlog::warn("==================================================================");
  bool created = false;
  std::optional<pki::PckCa> pck_ca;
  if (!c.sim_pck_ca.empty()) {
    auto ca = pki::ParsePckCa(c.sim_pck_ca);
    if (!ca.ok()) return ca.status().WithContext("--sim-pck-ca");
    pck_ca = *ca;
  }
  auto platform = sim::SimPlatform::LoadOrCreate(c.state_dir, &created, pck_ca);
  if (!platform.ok()) return platform.status();
  spdlog::info("simulated platform {} in {} (FMSPC {}, QE-ID {}, PCK certificates from the {} CA)",
               created ? "created" : "loaded", c.state_dir, ToHex(platform->info().fmspc),
               ToHex(platform->info().qe_id), pki::PckCaName(platform->info().pck_ca));
  auto backend = SimBackend::Create(std::move(platform).value());
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<QuotingBackend>(std::move(backend).value());
}

// The hardware path: every start-up check says precisely what is missing.
Result<std::unique_ptr<QuotingBackend>> MakeDcapWithProbe(const BackendConfig& c,
                                                          const SgxPlatformProbe& probe) {
  if (auto missing = probe.MissingForDcap(); !missing.empty()) {
    return Status::NotFound("cannot quote on SGX hardware: " + Join(missing));
  }
  CONFCOM_RETURN_IF_ERROR(
      CheckDeviceOpenable(probe.HostPath(probe.enclave_device), "SGX enclave device"));
  if (probe.provision_device.empty()) {
    return Status::NotFound(
        "no SGX provisioning device (/dev/sgx_provision): the quote helper needs provisioning access to "
        "certify its attestation key; give its container that device (workloads never need it)");
  }
  CONFCOM_RETURN_IF_ERROR(
      CheckDeviceOpenable(probe.HostPath(probe.provision_device), "SGX provisioning device"));
  if (probe.quote_provider.empty()) {
    return Status::NotFound(
        "no quote provider library (libdcap_quoteprov.so.1 from Intel's libsgx-dcap-default-qpl, or "
        "libdcap_quoteprov.so from Azure's az-dcap-client): quotes would carry no PCK certificate chain");
  }
  spdlog::info(
      "quote provider: {} ({}); QCNL config: {}", probe.quote_provider, probe.quote_provider_kind,
      probe.qcnl_config.empty() ? "none (the QPL's built-in defaults apply)" : probe.qcnl_config);
  DcapOptions options;
  options.library_path = probe.HostPath(probe.dcap_library);
  options.max_waiting = c.max_waiting_quotes;
  auto backend = DcapBackend::Create(options);
  if (!backend.ok()) return backend.status();
  return std::unique_ptr<QuotingBackend>(std::move(backend).value());
}

SgxPlatformProbe Probe(const BackendConfig& c) {
  auto probe = ProbeSgxPlatform(c.host_root, c.dcap_library);
  spdlog::info("SGX platform: {}", probe.Describe());
  return probe;
}

Result<std::unique_ptr<QuotingBackend>> MakeDcap(const BackendConfig& c) {
  return MakeDcapWithProbe(c, Probe(c));
}

Result<std::unique_ptr<QuotingBackend>> MakeAuto(const BackendConfig& c) {
  auto probe = Probe(c);
  if (auto missing = probe.MissingForDcap(); !missing.empty()) {
    return Status::NotFound(
        "--backend auto found no SGX quoting on this node: " + Join(missing) +
        ". On a machine without SGX, run with --backend sim (a SIMULATED platform, "
        "no security); nothing is ever simulated unless asked for");
  }
  spdlog::info("--backend auto: using DCAP on SGX hardware");
  return MakeDcapWithProbe(c, probe);
}

}  // namespace

const std::vector<BackendChoice>& BackendChoices() {
  static const std::vector<BackendChoice> kChoices = {
      {"auto", "dcap when the SGX device and libsgx_dcap_ql.so.1 are present, else refuse to start",
       MakeAuto},
      {"dcap", "Intel DCAP on SGX hardware", MakeDcap},
      {"sim", "a SIMULATED platform (no security; development and testing)", MakeSim},
  };
  return kChoices;
}

std::vector<std::string> BackendNames() {
  std::vector<std::string> names;
  for (const auto& c : BackendChoices()) names.emplace_back(c.name);
  return names;
}

std::string DescribeBackendChoices() {
  std::string out;
  for (const auto& c : BackendChoices())
    out += std::string(out.empty() ? "" : "; ") + "'" + c.name + "' = " + c.description;
  return out;
}

Result<std::unique_ptr<QuotingBackend>> MakeBackend(std::string_view name,
                                                    const BackendConfig& config) {
  for (const auto& c : BackendChoices()) {
    if (name == c.name) return c.make(config);
  }
  return Status::InvalidArgument("unknown backend '" + std::string(name) + "' (" +
                                 DescribeBackendChoices() + ")");
}

}  // namespace confcom::quoting
