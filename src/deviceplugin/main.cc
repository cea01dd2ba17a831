// sgx-device-plugin: advertises the node's SGX resources to kubelet under the names of the
// chosen --resource-scheme (legacy: kubernetes.azure.com/sgx_epc_mem_in_MiB, one device per
// MiB, and kubernetes.azure.com/sgx_provision; intel: sgx.intel.com/enclave and
// sgx.intel.com/provision, with EPC as the Node's extended resource sgx.intel.com/epc, set by
// --register-epc), and gives containers that get them the SGX device nodes. main only
// composes: the scheme table makes the resources, one PluginServer serves each, and the same
// list feeds the metrics and the probe. `--discover` prints what the node has and exits.
// `--probe` is the DaemonSet's readiness and liveness check: it dials each of our sockets as
// kubelet does and exits 0 only if every one answers GetDevicePluginOptions.
// See docs/device-plugin.md.
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <vector>

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "common/metrics_server.h"
#include "deviceplugin/framework/metrics.h"
#include "deviceplugin/grpc_api.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/sgx/epc_registrar.h"
#include "deviceplugin/sgx/resource_schemes.h"
#include "kube/api_client.h"
#include "kube/credentials.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {
namespace {

struct Flags {
  std::string dir = kDefaultDevicePluginDir;
  std::string host_root = "/";
  std::vector<std::string> epc_mib;
  std::string resource_name = kEpcResourceName;
  std::string provision_resource_name = kProvisionResourceName;
  uint64_t provision_devices = kDefaultProvisionDevices;
  std::string resource_scheme = "legacy";
  uint64_t enclave_limit = 110;
  uint64_t provision_limit = 110;
  bool register_epc = false;
  std::string kubeconfig;
  std::string kube_context;
  std::string node_name;
  std::string serviceaccount_dir = confcom::kube::kServiceAccountDir;
  int epc_resync_seconds = 300;
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

SchemeOptions MakeSchemeOptions(const Flags& f, bool simulation) {
  SchemeOptions o;
  o.resource.host_root = f.host_root;
  o.resource.simulation = simulation;
  o.legacy_epc_name = f.resource_name;
  o.legacy_provision_name = f.provision_resource_name;
  o.provision_devices = f.provision_devices;
  o.enclave_limit = f.enclave_limit;
  o.provision_limit = f.provision_limit;
  return o;
}

// Dials one socket like kubelet (authority "localhost") and asks GetDevicePluginOptions within
// the deadline; prints one line (exec probes show it in the pod's events).
bool ProbeOne(const std::string& path, int timeout_ms) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    std::printf("sgx-device-plugin probe: %s: %s (the plugin is not serving; a node without "
                "EPC serves nothing, see the plugin's log)\n",
                path.c_str(), std::strerror(errno));
    return false;
  }
  if (!S_ISSOCK(sb.st_mode)) {
    std::printf("sgx-device-plugin probe: %s is not a socket\n", path.c_str());
    return false;
  }
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
  auto channel =
      grpc::CreateCustomChannel("unix://" + path, grpc::InsecureChannelCredentials(), args);
  auto stub = v1beta1::DevicePlugin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  v1beta1::DevicePluginOptions options;
  grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options);
  if (!st.ok()) {
    std::printf("sgx-device-plugin probe: %s does not answer GetDevicePluginOptions within "
                "%d ms: %s (code %d)\n",
                path.c_str(), timeout_ms, st.error_message().c_str(), int(st.error_code()));
    return false;
  }
  std::printf("ok: %s answers (device plugin API v1beta1)\n", path.c_str());
  return true;
}

// The API client and registrar of --register-epc: credentials from --kubeconfig, else the
// pod's service account; the node from --node-name, else $NODE_NAME (downward API).
Result<std::unique_ptr<EpcRegistrar>> MakeRegistrar(const Flags& f, const DiscoveryOptions& dopt) {
  std::string node = f.node_name;
  if (node.empty()) {
    const char* env = std::getenv("NODE_NAME");
    node = env ? env : "";
  }
  if (node.empty()) {
    return Status::InvalidArgument("the node's name is unknown: set NODE_NAME (downward API "
                                   "fieldRef spec.nodeName) or --node-name");
  }
  auto creds = f.kubeconfig.empty() ? kube::InClusterFromEnv(f.serviceaccount_dir)
                                    : kube::FromKubeconfig(f.kubeconfig, f.kube_context);
  if (!creds.ok()) return creds.status();
  auto client = kube::ApiClient::Create(std::move(creds).value());
  if (!client.ok()) return client.status();
  EpcRegistrarOptions o;
  o.node_name = node;
  o.resync = std::chrono::seconds(f.epc_resync_seconds);
  auto discover = [dopt]() -> Result<uint64_t> {
    auto d = Discover(dopt);
    if (!d.ok()) return d.status();
    return d->total_epc_bytes();
  };
  return std::make_unique<EpcRegistrar>(std::move(client).value(), discover, o);
}

// The probe: every socket of the chosen schemes must answer. Exit 0 if so, 1 otherwise.
int Probe(const Flags& f, const std::vector<const ResourceScheme*>& schemes) {
  bool ok = true;
  for (const auto& r : MakeResources(schemes, SgxDiscovery{}, MakeSchemeOptions(f, false))) {
    ok = ProbeOne(f.dir + "/" + r->endpoint(), f.probe_timeout_ms) && ok;
  }
  return ok ? 0 : 1;
}

int Run(const Flags& f) {
  auto schemes = ParseSchemes(f.resource_scheme);
  if (!schemes.ok()) {
    std::fprintf(stderr, "sgx-device-plugin: %s\n", schemes.status().message().c_str());
    return 2;
  }
  if (f.probe) return Probe(f, *schemes);
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

  std::unique_ptr<EpcRegistrar> registrar;
  if (f.register_epc) {
    auto made = MakeRegistrar(f, dopt);
    if (!made.ok()) {
      spdlog::error("--register-epc: {}", made.status().message());
      return 1;
    }
    registrar = std::move(made).value();
    bool epc_devices = false;  // a scheme that also advertises EPC as device plugin devices
    for (const auto* s : *schemes) epc_devices = epc_devices || !s->epc_as_node_resource;
    if (epc_devices) {
      spdlog::warn("--register-epc with --resource-scheme {}: EPC is schedulable under two "
                   "names on this node (pods may together claim twice the EPC); see "
                   "docs/device-plugin.md",
                   f.resource_scheme);
    }
  }

  PluginOptions popt;
  popt.dir = f.dir;
  popt.max_message_bytes = f.max_message_bytes;
  popt.recheck = std::chrono::milliseconds(f.recheck_ms);
  std::vector<std::unique_ptr<PluginServer>> plugins;
  for (auto& r : MakeResources(*schemes, d, MakeSchemeOptions(f, simulation))) {
    plugins.push_back(std::make_unique<PluginServer>(std::move(r), popt));
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
    std::vector<PluginMetricsSource> sources;
    for (auto& p : plugins) sources.push_back({p->resource_name(), p.get()});
    metrics->Add(MakePluginCollector(std::move(sources), d.epc_source, simulation));
  }
  if (registrar) registrar->Start();
  WaitForSignal(signals);
  if (registrar) registrar->Stop();
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
      "sgx-device-plugin: advertises this node's SGX EPC and device nodes to kubelet under the\n"
      "legacy names (one device per MiB of EPC) and/or Intel's (sgx.intel.com/enclave,\n"
      "sgx.intel.com/provision; EPC as the node resource sgx.intel.com/epc), and gives\n"
      "containers that get them the SGX device nodes.",
      "sgx-device-plugin"};
  confcom::AddVersionFlag(app, "sgx-device-plugin");
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
                 "it; 2 let its rolling update run two helper pods on a node); 0 = do not offer it")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--resource-scheme", f.resource_scheme,
                 "Resource names to advertise, one scheme or several comma-separated (" +
                     DescribeSchemes() + ")")
      ->capture_default_str();
  app.add_option("--enclave-limit", f.enclave_limit,
                 "intel scheme: sgx.intel.com/enclave devices (containers that may use the "
                 "enclave device at once); 0 = do not offer it")
      ->check(CLI::Range(uint64_t(0), uint64_t(100000)))
      ->capture_default_str();
  app.add_option("--provision-limit", f.provision_limit,
                 "intel scheme: sgx.intel.com/provision devices; 0 = do not offer it")
      ->check(CLI::Range(uint64_t(0), uint64_t(100000)))
      ->capture_default_str();
  app.add_flag("--register-epc", f.register_epc,
               "Set this Node's status.capacity[sgx.intel.com/epc] to the EPC in bytes through "
               "the API server, and keep it up to date (needs get nodes, patch nodes/status)");
  app.add_option("--kubeconfig", f.kubeconfig,
                 "With --register-epc out of cluster: kubectl's config file (default: the "
                 "pod's service account)");
  app.add_option("--kube-context", f.kube_context,
                 "With --kubeconfig: the context to use (default: current-context)");
  app.add_option("--node-name", f.node_name,
                 "With --register-epc: this node's name (default: $NODE_NAME)");
  app.add_option("--serviceaccount-dir", f.serviceaccount_dir,
                 "With --register-epc in cluster: folder of the service account's token and "
                 "ca.crt")
      ->capture_default_str();
  app.add_option("--epc-resync-seconds", f.epc_resync_seconds,
                 "With --register-epc: re-discover EPC and re-check the Node this often")
      ->check(CLI::Range(1, 86400))
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
  if (int code = confcom::ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Run(f);
}
