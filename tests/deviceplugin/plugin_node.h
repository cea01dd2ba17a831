// A node for tests and benches of the real sgx-device-plugin and sgx-kubelet-emulator
// processes: a fake host tree (fake_host.h), a temporary device-plugins folder and log files,
// and the launch of both binaries over them. Shared by tests/deviceplugin, tests/faults and
// bench/deviceplugin instead of a copy each. Not thread-safe: one test thread uses it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/fake_host.h"
#include "testing/test_util.h"

namespace confcom::deviceplugin::testing {

// The built binaries (their paths are compiled into this library).
const char* PluginBinary();
const char* EmulatorBinary();

class PluginNode {
 public:
  PluginNode();  // an empty host tree and device-plugins folder
  FakeHost& host() { return host_; }
  // The device-plugins folder.
  const std::string& dp() const { return dp_; }
  // The path of the log file `name` (every process's stdout and stderr go to one).
  std::string Log(const std::string& name) const { return logs_.File(name); }

  // A host with the in-tree driver and `gib_per_node` GiB of EPC on each of `nodes` nodes.
  void SgxHost(int nodes, uint64_t gib_per_node);

  // Runs `path` instead of the built sgx-device-plugin (e.g. a bench comparing builds).
  void UsePluginBinary(std::string path) { plugin_binary_ = std::move(path); }
  // sgx-device-plugin with --device-plugin-dir, --host-root, then exactly `args`.
  std::unique_ptr<confcom::testing::Process> StartPlugin(const std::vector<std::string>& args,
                                                         const std::string& log = "plugin.log");
  // StartPlugin with the tests' defaults first (--log-level debug, metrics on any free port).
  std::unique_ptr<confcom::testing::Process> Plugin(const std::vector<std::string>& extra = {},
                                                    const std::string& log = "plugin.log");
  // sgx-kubelet-emulator on the folder with --json, then `extra`.
  std::unique_ptr<confcom::testing::Process> Emulator(const std::vector<std::string>& extra = {},
                                                      const std::string& log = "emulator.log");

 private:
  FakeHost host_;
  confcom::testing::TempDir logs_;
  std::string dp_;
  std::string plugin_binary_ = PluginBinary();
};

// The port of "metrics on http://127.0.0.1:PORT/metrics" in `process`'s log, waiting up to
// `timeout` for the line; 0 if it does not come.
int MetricsPort(confcom::testing::Process& process,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace confcom::deviceplugin::testing
