// sgxctl status: one summary of this node's confcom state (helper reachable, backend, plugin
// resources registered, EPC), as aligned lines or, with -o json, as JSON. Exit 0 when the
// helper answers and every resource of the plugin is registered; 1 otherwise. Runs on the node
// or in the plugin's pod (docs/operator-guide.md, "Metrics and a node summary").
#include <iostream>

#include "sgxctl/commands/command.h"
#include "sgxctl/commands/common.h"
#include "sgxctl/node_status.h"
#include "common/file_util.h"

namespace confcom::sgxctl {
namespace {

class StatusCommand final : public Command {
 public:
  const char* name() const override { return "status"; }
  const char* help() const override {
    return "Summarise this node: quote helper reachable (backend, simulated?), device plugin resources "
           "registered (Intel's or legacy names), EPC. Run it on the node or in the plugin's pod.";
  }
  void Setup(CLI::App& sub) override {
    AddSocketFlag(sub, socket_);
    sub.add_option("--helper-metrics", helper_metrics_, "The quote helper's metrics URL")
        ->capture_default_str();
    sub.add_option("--plugin-metrics", plugin_metrics_, "The device plugin's metrics URL")
        ->capture_default_str();
    sub.add_option("--device-plugin-dir", device_plugin_dir_, "kubelet's device plugin folder")
        ->capture_default_str();
    sub.add_option("-o,--output", output_, "Output format: text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    sub.add_flag("--json", json_, "Same as -o json");
  }
  int Run() override {
    UseSocket(socket_);
    StatusInputs in;
    in.helper_socket_present = PathExists(EffectiveSocket());
    if (in.helper_socket_present) in.helper_ping = PingHelper(EffectiveSocket());
    in.helper_metrics = ScrapeMetrics(helper_metrics_);
    in.plugin_metrics = ScrapeMetrics(plugin_metrics_);
    for (const auto& sock : PluginSocketNames()) {
      if (PathExists(device_plugin_dir_ + "/" + sock)) in.plugin_sockets.push_back(sock);
    }
    auto j = SummarizeNode(in);
    j["quote_helper"]["socket"] = EffectiveSocket();
    if (json_ || output_ == "json") {
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << RenderNodeStatus(j);
    }
    return j["ok"].get<bool>() ? 0 : 1;
  }

 private:
  std::string socket_;
  std::string helper_metrics_ = "http://127.0.0.1:9464/metrics";
  std::string plugin_metrics_ = "http://127.0.0.1:9465/metrics";
  std::string device_plugin_dir_ = "/var/lib/kubelet/device-plugins";
  std::string output_ = "text";
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeStatusCommand() { return std::make_unique<StatusCommand>(); }

}  // namespace confcom::sgxctl
