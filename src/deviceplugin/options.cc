#include "deviceplugin/options.h"

#include "common/cli_main.h"
#include "common/daemon_flags.h"
#include "deviceplugin/sgx/epc_registrar.h"

namespace confcom::deviceplugin {

const char* PluginDescription() {
  return "sgx-device-plugin: advertises this node's SGX EPC and device nodes to kubelet under the\n"
         "legacy names (one device per MiB of EPC) and/or Intel's (sgx.intel.com/enclave,\n"
         "sgx.intel.com/provision; EPC as the node resource sgx.intel.com/epc), and gives\n"
         "containers that get them the SGX device nodes.";
}

void AddPluginFlags(CLI::App& app, PluginFlags* f) {
  confcom::AddVersionFlag(app, "sgx-device-plugin");
  app.add_option("--device-plugin-dir", f->dir, "Folder of kubelet.sock and our sockets")
      ->capture_default_str();
  app.add_option("--host-root", f->host_root,
                 "Prefix for every host file read (/sys, /proc, /dev), e.g. /host")
      ->capture_default_str();
  app.add_option("--epc-mib", f->epc_mib,
                 "Set the EPC instead of discovering it: MiB[:NUMA][,MiB[:NUMA]...] "
                 "(testing and simulation; logged loudly)");
  app.add_option("--resource-name", f->resource_name, "Name of the EPC resource")
      ->capture_default_str();
  app.add_option("--provision-resource-name", f->provision_resource_name,
                 "Name of the provisioning-device resource")
      ->capture_default_str();
  app.add_option("--provision-devices", f->provision_devices,
                 "Devices of the provisioning resource (only the quote helper should request "
                 "it; 2 let its rolling update run two helper pods on a node); 0 = do not offer it")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--resource-scheme", f->resource_scheme,
                 "Resource names to advertise, one scheme or several comma-separated (" +
                     DescribeSchemes() + ")")
      ->capture_default_str();
  app.add_option("--enclave-limit", f->enclave_limit,
                 "intel scheme: sgx.intel.com/enclave devices (containers that may use the "
                 "enclave device at once); 0 = do not offer it")
      ->check(CLI::Range(uint64_t(0), uint64_t(100000)))
      ->capture_default_str();
  app.add_option("--provision-limit", f->provision_limit,
                 "intel scheme: sgx.intel.com/provision devices; 0 = do not offer it")
      ->check(CLI::Range(uint64_t(0), uint64_t(100000)))
      ->capture_default_str();
  app.add_option("--aesmd-socket-dir", f->aesmd_socket_dir,
                 "Host folder of the quote helper's aesm.socket (e.g. /var/run/aesmd): containers "
                 "given the enclave device also get it read-only at /var/run/aesmd while it "
                 "exists under --host-root (no hostPath in app pods); unset = never");
  app.add_flag("--register-epc", f->register_epc,
               "Set this Node's status.capacity[sgx.intel.com/epc] to the EPC in bytes through "
               "the API server, and keep it up to date (needs get nodes, patch nodes/status)");
  kube::AddKubeFlags(app, &f->kube, "With --register-epc");
  app.add_option("--node-name", f->node_name,
                 "With --register-epc: this node's name (default: $NODE_NAME)");
  app.add_option("--owner-daemonset", f->owner_daemonset,
                 "With --register-epc: NAMESPACE/NAME of the plugin's DaemonSet; at SIGTERM, if it "
                 "is gone or being deleted (an uninstall), remove sgx.intel.com/epc from the "
                 "Node's capacity (needs get on that DaemonSet)")
      ->check([](const std::string& v) {
        auto o = OwnerDaemonSet::Parse(v);
        return o.ok() ? std::string() : o.status().message();
      });
  app.add_option("--epc-resync-seconds", f->epc_resync_seconds,
                 "With --register-epc: re-discover EPC and re-check the Node this often")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_flag("--discover", f->discover, "Print what the node has for SGX and exit");
  app.add_flag("--json", f->json, "With --discover: print JSON");
  app.add_flag("--probe", f->probe,
               "Exit 0 only if the plugin serving in --device-plugin-dir answers (a readiness "
               "and liveness probe); 1 otherwise")
      ->excludes("--discover");
  app.add_option("--probe-timeout-ms", f->probe_timeout_ms, "With --probe: deadline of the call")
      ->check(CLI::Range(100, 60000))
      ->capture_default_str();
  confcom::AddLoggingFlags(app, &f->daemon.log_format, &f->daemon.log_level);
  app.add_option("--max-message-bytes", f->max_message_bytes,
                 "Largest ListAndWatch message (kubelet accepts 4194304)")
      ->check(CLI::Range(size_t(1024), size_t(64) << 20))
      ->capture_default_str();
  app.add_option("--recheck-ms", f->recheck_ms,
                 "Safety-net re-check of our socket and device health (inotify is primary)")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  confcom::AddMetricsFlag(app, &f->daemon.metrics_address);
  confcom::RequireNonEmptyValues(app);  // --epc-mib '' is an error, not "discover"
}

SchemeOptions MakeSchemeOptions(const PluginFlags& f, bool simulation) {
  SchemeOptions o;
  o.resource.host_root = f.host_root;
  o.resource.simulation = simulation;
  o.resource.aesmd_socket_dir = f.aesmd_socket_dir;
  o.legacy_epc_name = f.resource_name;
  o.legacy_provision_name = f.provision_resource_name;
  o.provision_devices = f.provision_devices;
  o.enclave_limit = f.enclave_limit;
  o.provision_limit = f.provision_limit;
  return o;
}

PluginOptions MakePluginOptions(const PluginFlags& f) {
  PluginOptions o;
  o.dir = f.dir;
  o.max_message_bytes = f.max_message_bytes;
  o.recheck = std::chrono::milliseconds(f.recheck_ms);
  return o;
}

}  // namespace confcom::deviceplugin
