// sgx-device-plugin: advertises the node's SGX resources to kubelet under the names of the
// chosen --resource-scheme, and gives containers that get them the SGX device nodes. main only
// composes: the flags (options.h), discovery, the scheme table's resources with one
// PluginServer each, the EPC registrar of --register-epc, metrics, and the daemon skeleton
// (common/daemon.h). `--discover` prints what the node has; `--probe` is the DaemonSet's
// readiness and liveness check (framework/probe.h). See docs/device-plugin.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <vector>

#include "common/cli_main.h"
#include "common/daemon.h"
#include "deviceplugin/framework/metrics.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/framework/probe.h"
#include "deviceplugin/options.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/sgx/epc_registrar.h"
#include "deviceplugin/sgx/legacy_resources.h"
#include "deviceplugin/sgx/resource_schemes.h"

namespace confcom::deviceplugin {
namespace {

// At SIGTERM, the time to find out whether this is an uninstall and remove the capacity: three
// requests, well inside the pod's 30 s terminationGracePeriodSeconds.
constexpr std::chrono::seconds kReleaseBudget{5};

// Every socket of the chosen schemes must answer: exit 0 if so, 1 otherwise.
int Probe(const PluginFlags& f, const std::vector<const ResourceScheme*>& schemes) {
  std::vector<std::string> endpoints;
  for (const auto& r : MakeResources(schemes, SgxDiscovery{}, MakeSchemeOptions(f, false))) {
    endpoints.push_back(r->endpoint());
  }
  const auto timeout = std::chrono::milliseconds(f.probe_timeout_ms);
  const bool ok = ProbePluginSockets(f.dir, endpoints, timeout, "sgx-device-plugin",
                                     "a node without EPC serves nothing, see the plugin's log");
  return ok ? kExitOk : kExitFailure;
}

int Run(const PluginFlags& f) {
  auto schemes = ParseSchemes(f.resource_scheme);
  if (!schemes.ok()) {
    std::fprintf(stderr, "sgx-device-plugin: %s\n", schemes.status().message().c_str());
    return kExitUsage;
  }
  if (f.probe) return Probe(f, *schemes);
  // Declared before the daemon: its stop steps and metrics read them until it is destroyed.
  std::vector<std::unique_ptr<PluginServer>> plugins;
  std::unique_ptr<EpcRegistrar> registrar;
  Daemon daemon("sgx-device-plugin");
  if (int code = daemon.Configure(f.daemon); code >= 0) return code;
  DiscoveryOptions dopt;
  dopt.host_root = f.host_root;
  auto overrides = ParseEpcOverride(f.epc_mib);
  if (!overrides.ok()) {
    spdlog::error("{}", overrides.status().message());
    return kExitUsage;
  }
  dopt.epc_override_mib = *overrides;
  auto found = Discover(dopt);
  if (!found.ok()) {
    spdlog::error("discovery failed: {}", found.status().ToString());
    return kExitFailure;
  }
  const SgxDiscovery& d = *found;
  if (f.discover) {
    std::printf("%s", f.json ? (ToJson(d).dump(2) + "\n").c_str() : ToText(d).c_str());
    return kExitOk;
  }
  daemon.BlockSignals();  // before any thread starts
  spdlog::info("sgx-device-plugin {}: host root {}, device plugin dir {}", CONFCOM_VERSION,
               f.host_root, f.dir);
  const bool simulation = IsSimulation(d);
  LogDiscovery(d, simulation);
  if (!f.aesmd_socket_dir.empty()) {
    spdlog::info(
        "--aesmd-socket-dir {}: containers given the enclave device also get it read-only at {} "
        "while it exists on the host (now: {})",
        f.aesmd_socket_dir, kAesmdContainerDir,
        AesmdSocketMounts(MakeSchemeOptions(f, simulation).resource).empty() ? "missing"
                                                                             : "present");
  }
  if (d.total_epc_bytes() < (1 << 20)) {
    spdlog::warn(
        "no SGX EPC on this node (source: {}): advertising nothing; idle until "
        "SIGTERM (run with --discover to see why)",
        d.epc_source);
    daemon.WaitForSignal();
    return kExitOk;
  }
  if (f.register_epc) {
    auto made = MakeEpcRegistrar(
        f.node_name, [&] { return kube::CredentialsFromFlags(f.kube); },
        std::chrono::seconds(f.epc_resync_seconds), dopt);
    if (!made.ok()) {
      spdlog::error("--register-epc: {}", made.status().message());
      return kExitFailure;
    }
    registrar = std::move(made).value();
    if (AdvertisesEpcAsDevices(*schemes)) {
      spdlog::warn(
          "--register-epc with --resource-scheme {}: EPC is schedulable under two "
          "names on this node (pods may together claim twice the EPC); see "
          "docs/device-plugin.md",
          f.resource_scheme);
    }
  }

  for (auto& r : MakeResources(*schemes, d, MakeSchemeOptions(f, simulation))) {
    plugins.push_back(std::make_unique<PluginServer>(std::move(r), MakePluginOptions(f)));
  }
  daemon.AddStopStep("the plugins (their sockets are removed)", [&] {
    for (auto& p : plugins) p->Stop();
  });
  for (auto& p : plugins) {
    if (Status st = p->Start(); !st.ok()) {
      spdlog::error("cannot start: {}", st.ToString());
      return kExitFailure;
    }
  }
  auto metrics = daemon.StartMetrics();
  if (!metrics.ok()) {
    spdlog::error("{}", metrics.status().message());
    return kExitFailure;
  }
  if (*metrics != nullptr) {
    std::vector<PluginMetricsSource> sources;
    for (auto& p : plugins) sources.push_back({p->resource_name(), p.get()});
    (*metrics)->Add(MakePluginCollector(std::move(sources), d.epc_source, simulation));
  }
  if (registrar) {
    registrar->Start();
    daemon.AddStopStep("the EPC registrar", [&] {
      registrar->Stop();
      if (f.owner_daemonset.empty()) return;
      // Parsed by the flag's check; an uninstall removes the capacity, a restart keeps it.
      auto owner = OwnerDaemonSet::Parse(f.owner_daemonset);
      auto released = registrar->ReleaseIfOwnerGone(*owner, kReleaseBudget);
      if (!released.ok()) {
        spdlog::warn(
            "--owner-daemonset: {}; Node capacity left as it was (remove it by hand "
            "after an uninstall: docs/operator-guide.md)",
            released.status().message());
      }
    });
  }
  daemon.WaitForSignal();
  daemon.Stop();
  spdlog::info("stopped; sockets removed");
  return kExitOk;
}

}  // namespace
}  // namespace confcom::deviceplugin

int main(int argc, char** argv) {
  using namespace confcom::deviceplugin;
  PluginFlags f;
  CLI::App app{PluginDescription(), "sgx-device-plugin"};
  AddPluginFlags(app, &f);
  if (int code = confcom::ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Run(f);
}
