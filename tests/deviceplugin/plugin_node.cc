#include "deviceplugin/plugin_node.h"

#include <filesystem>
#include <thread>

namespace confcom::deviceplugin::testing {

using confcom::testing::Process;

const char* PluginBinary() { return DP_PLUGIN_BIN; }
const char* EmulatorBinary() { return DP_EMULATOR_BIN; }

PluginNode::PluginNode() {
  dp_ = logs_.path() + "/device-plugins";
  std::filesystem::create_directories(dp_);
}

void PluginNode::SgxHost(int nodes, uint64_t gib_per_node) {
  std::vector<FakeSection> sections;
  for (int n = 0; n < nodes; ++n) {
    sections.push_back({0x1000000000ull * uint64_t(n + 1), gib_per_node << 30});
    host_.NumaNode(n, int64_t(gib_per_node << 30));
  }
  host_.SgxCpu(sections);
  host_.Cpuinfo("fpu sgx sgx_lc");
  host_.InTreeDriver();
}

std::unique_ptr<Process> PluginNode::StartPlugin(const std::vector<std::string>& args,
                                                 const std::string& log) {
  std::vector<std::string> argv = {plugin_binary_, "--device-plugin-dir", dp_, "--host-root",
                                   host_.root()};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Process>(argv, Log(log));
}

std::unique_ptr<Process> PluginNode::Plugin(const std::vector<std::string>& extra,
                                            const std::string& log) {
  std::vector<std::string> args = {"--log-level", "debug", "--metrics-address", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return StartPlugin(args, log);
}

std::unique_ptr<Process> PluginNode::Emulator(const std::vector<std::string>& extra,
                                              const std::string& log) {
  std::vector<std::string> argv = {EmulatorBinary(), "--device-plugin-dir", dp_, "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Process>(argv, Log(log));
}

int MetricsPort(Process& process, std::chrono::milliseconds timeout) {
  const std::string marker = "metrics on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string log = process.Log();
    auto pos = log.find(marker);
    if (pos != std::string::npos) return std::stoi(log.substr(pos + marker.size()));
    if (std::chrono::steady_clock::now() > deadline) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace confcom::deviceplugin::testing
