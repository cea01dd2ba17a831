// sgx-device-plugin's command line: its flags, their CLI11 options (the --help text, which
// docs/device-plugin.md's Usage table follows), and the library options built from them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/daemon.h"
#include "common/status.h"
#include "deviceplugin/framework/plugin_server.h"
#include "deviceplugin/sgx/resource_schemes.h"
#include "kube/kube_flags.h"

namespace confcom::deviceplugin {

struct PluginFlags {
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
  std::string aesmd_socket_dir;  // empty = no socket folder mount
  kube::KubeFlags kube;          // --kubeconfig, --kube-context, --serviceaccount-dir
  std::string node_name;
  std::string owner_daemonset;  // --owner-daemonset NAMESPACE/NAME: empty = keep at SIGTERM
  int epc_resync_seconds = 300;
  bool discover = false;
  bool json = false;
  bool probe = false;
  int probe_timeout_ms = 2000;
  DaemonFlags daemon{"text", "info", "127.0.0.1:9465"};
  size_t max_message_bytes = kKubeletMaxMessageBytes;
  int recheck_ms = 5000;
};

// None of these fails (CLI11 checks the values when it parses); they keep no state.
// The program's description for --help.
const char* PluginDescription();
// Adds every option to `app`, writing into `*f` (which must outlive the parse).
void AddPluginFlags(CLI::App& app, PluginFlags* f);

// What the scheme table needs from the flags; `simulation` as IsSimulation() says.
SchemeOptions MakeSchemeOptions(const PluginFlags& f, bool simulation);
// What each PluginServer needs from the flags.
PluginOptions MakePluginOptions(const PluginFlags& f);

}  // namespace confcom::deviceplugin
