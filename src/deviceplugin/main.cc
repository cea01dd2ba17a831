// sgx-device-plugin: advertises the node's SGX EPC to kubelet as
// kubernetes.azure.com/sgx_epc_mem_in_MiB (one device per MiB) and the provisioning device as
// kubernetes.azure.com/sgx_provision, and gives containers that get them the SGX device nodes.
// `--discover` prints what the node has and exits. `--probe` is the DaemonSet's readiness and
// liveness check: it dials our own EPC socket as kubelet does and exits 0 only if the plugin
// answers GetDevicePluginOptions. See docs/device-plugin.md.
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <vector>

#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "common/metrics_server.h"
#include "deviceplugin/metrics.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/discovery.h"
#include "deviceplugin/plugin_server.h"
#include "deviceplugin/sgx_resources.h"

namespace confcom::deviceplugin {
namespace {

struct Flags {
  std::string dir = kDefaultDevicePluginDir;
  std::string host_root = "/";
  std::vector<std::string> epc_mib;
  std::string resource_name = kEpcResourceName;
  std::string provision_resource_name = kProvisionResourceName;
  uint64_t provision_devices = 1;
  bool discover = false;
  bool json = false;
  bool probe = false;
  int probe_timeout_ms = 2000;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string metrics_address = "127.0.0.1:9465";
  size_t max_message_bytes = kKubeletMaxMessageBytes;
  int recheck_ms = 5000;
};

int WaitForSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return sig;
}

// The probe: dial <dir>/confcom-sgx-epc.sock like kubelet (authority "localhost"), ask
// GetDevicePluginOptions within the deadline. Exit 0 on an answer, 1 otherwise, with one line
// on stdout (exec probes show it in the pod's events).
int Probe(const Flags& f) {
  const std::string path = f.dir + "/" + kEpcEndpoint;
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    std::printf("sgx-device-plugin probe: %s: %s (the plugin is not serving; a node without "
                "EPC serves nothing, see the plugin's log)\n",
                path.c_str(), std::strerror(errno));
    return 1;
  }
  if (!S_ISSOCK(sb.st_mode)) {
    std::printf("sgx-device-plugin probe: %s is not a socket\n", path.c_str());
    return 1;
  }
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
  auto channel =
      grpc::CreateCustomChannel("unix://" + path, grpc::InsecureChannelCredentials(), args);
  auto stub = v1beta1::DevicePlugin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(f.probe_timeout_ms));
  v1beta1::DevicePluginOptions options;
  grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options);
  if (!st.ok()) {
    std::printf("sgx-device-plugin probe: %s does not answer GetDevicePluginOptions within "
                "%d ms: %s (code %d)\n",
                path.c_str(), f.probe_timeout_ms, st.error_message().c_str(),
                int(st.error_code()));
    return 1;
  }
  std::printf("ok: %s answers (device plugin API v1beta1)\n", path.c_str());
  return 0;
}

int Run(const Flags& f) {
  if (f.probe) return Probe(f);
  if (Status st = SetupLogging(f.log_format, f.log_level, "sgx-device-plugin"); !st.ok()) {
    std::fprintf(stderr, "sgx-device-plugin: %s\n", st.message().c_str());
    return 2;
  }
  DiscoveryOptions dopt;
  dopt.host_root = f.host_root;
  auto overrides = ParseEpcOverride(f.epc_mib);
  if (!overrides.ok()) {
    spdlog::error("{}", overrides.status().message());
    return 2;
  }
  dopt.epc_override_mib = *overrides;
  auto found = Discover(dopt);
  if (!found.ok()) {
    spdlog::error("discovery failed: {}", found.status().ToString());
    return 1;
  }
  const SgxDiscovery& d = *found;
  if (f.discover) {
    if (f.json) {
      std::printf("%s\n", ToJson(d).dump(2).c_str());
    } else {
      std::printf("%s", ToText(d).c_str());
    }
    return 0;
  }

  // Signals go to one sigwait in this thread; block them before any thread starts.
  sigset_t signals = BlockTerminationSignals();

  spdlog::info("sgx-device-plugin {}: host root {}, device plugin dir {}", CONFCOM_VERSION,
               f.host_root, f.dir);
  for (const auto& w : d.warnings) spdlog::warn("discovery: {}", w);
  const bool simulation = IsSimulation(d);
  if (d.epc_source == "override") {
    spdlog::warn("==================================================================");
    spdlog::warn("EPC SET BY --epc-mib ({} MiB), NOT DISCOVERED. The node's own", 
                 d.total_epc_bytes() >> 20);
    spdlog::warn("SGX facts are ignored for the size. For testing and simulation only.");
    if (simulation) {
      spdlog::warn("No SGX device node exists: containers get NO device, only SGX_EPC_MIB.");
    }
    spdlog::warn("==================================================================");
  }
  if (d.total_epc_bytes() < (1 << 20)) {
    spdlog::warn("no SGX EPC on this node (source: {}): advertising nothing; idle until "
                 "SIGTERM (run with --discover to see why)",
                 d.epc_source);
    WaitForSignal(signals);
    return 0;
  }
  spdlog::info("EPC: {} MiB on {} NUMA node(s) (from {}); device nodes:{}",
               d.total_epc_bytes() >> 20, d.epc_bytes.size(), d.epc_source, [&] {
                 std::string s;
                 for (const auto& p : d.device_nodes) s += " " + p;
                 return s.empty() ? std::string(" none") : s;
               }());

  PluginOptions popt;
  popt.dir = f.dir;
  popt.max_message_bytes = f.max_message_bytes;
  popt.recheck = std::chrono::milliseconds(f.recheck_ms);
  SgxResourceOptions ropt;
  ropt.host_root = f.host_root;
  ropt.simulation = simulation;
  std::vector<std::unique_ptr<PluginServer>> plugins;
  ropt.name = f.resource_name;
  plugins.push_back(std::make_unique<PluginServer>(MakeEpcResource(d, ropt), popt));
  if (f.provision_devices > 0) {
    ropt.name = f.provision_resource_name;
    plugins.push_back(std::make_unique<PluginServer>(
        MakeProvisionResource(d, ropt, f.provision_devices), popt));
  }
  for (auto& p : plugins) {
    if (Status st = p->Start(); !st.ok()) {
      spdlog::error("cannot start: {}", st.ToString());
      return 1;
    }
  }
  auto started = MetricsServer::StartFromFlag(f.metrics_address);
  if (!started.ok()) {
    spdlog::error("{}", started.status().message());
    for (auto& p : plugins) p->Stop();
    return 1;
  }
  std::unique_ptr<MetricsServer> metrics = std::move(started).value();
  if (metrics) {
    std::vector<PluginMetricsSource> sources = {{f.resource_name, plugins[0].get()}};
    if (plugins.size() > 1) sources.push_back({f.provision_resource_name, plugins[1].get()});
    metrics->Add(MakePluginCollector(std::move(sources), d.epc_source, simulation));
  }
  WaitForSignal(signals);
  for (auto& p : plugins) p->Stop();
  spdlog::info("stopped; sockets removed");
  return 0;
}

}  // namespace
}  // namespace confcom::deviceplugin

int main(int argc, char** argv) {
  using namespace confcom::deviceplugin;
  Flags f;
  CLI::App app{
      "sgx-device-plugin: advertises this node's SGX EPC to kubelet as an extended resource\n"
      "(one device per MiB) and gives containers that get it the SGX enclave device.",
      "sgx-device-plugin"};
  app.set_version_flag("--version", CONFCOM_VERSION);
  app.add_option("--device-plugin-dir", f.dir, "Folder of kubelet.sock and our sockets")
      ->capture_default_str();
  app.add_option("--host-root", f.host_root,
                 "Prefix for every host file read (/sys, /proc, /dev), e.g. /host")
      ->capture_default_str();
  app.add_option("--epc-mib", f.epc_mib,
                 "Set the EPC instead of discovering it: MiB[:NUMA][,MiB[:NUMA]...] "
                 "(testing and simulation; logged loudly)");
  app.add_option("--resource-name", f.resource_name, "Name of the EPC resource")
      ->capture_default_str();
  app.add_option("--provision-resource-name", f.provision_resource_name,
                 "Name of the provisioning-device resource")
      ->capture_default_str();
  app.add_option("--provision-devices", f.provision_devices,
                 "Devices of the provisioning resource (only the quote helper should request "
                 "it); 0 = do not offer it")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_flag("--discover", f.discover, "Print what the node has for SGX and exit");
  app.add_flag("--json", f.json, "With --discover: print JSON");
  app.add_flag("--probe", f.probe,
               "Exit 0 only if the plugin serving in --device-plugin-dir answers (a readiness "
               "and liveness probe); 1 otherwise")
      ->excludes("--discover");
  app.add_option("--probe-timeout-ms", f.probe_timeout_ms, "With --probe: deadline of the call")
      ->check(CLI::Range(100, 60000))
      ->capture_default_str();
  confcom::AddLoggingFlags(app, &f.log_format, &f.log_level);
  app.add_option("--max-message-bytes", f.max_message_bytes,
                 "Largest ListAndWatch message (kubelet accepts 4194304)")
      ->check(CLI::Range(size_t(1024), size_t(64) << 20))
      ->capture_default_str();
  app.add_option("--recheck-ms", f.recheck_ms,
                 "Safety-net re-check of our socket and device health (inotify is primary)")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  confcom::AddMetricsFlag(app, &f.metrics_address);
  confcom::RequireNonEmptyValues(app);  // --epc-mib '' is an error, not "discover"
  CLI11_PARSE(app, argc, argv);
  return Run(f);
}
