// `sgxctl status`: one summary of a node's confcom state, from the quote helper's socket and
// the two daemons' Prometheus endpoints: is the helper reachable and on which backend
// (simulated?), which resources the device plugin registered with kubelet (Intel's names, the
// legacy ones, or both), and its devices advertised, healthy and handed out. Where it can run:
// docs/operator-guide.md, "Metrics and a node summary". Functions here share no state.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::sgxctl {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the Prometheus text format (comments skipped). InvalidArgument naming the line for a
// malformed one.
Result<std::vector<Sample>> ParsePrometheusText(std::string_view text);
// GET `url` (http://host:port/metrics) and parse it. Unavailable when it does not answer 200;
// ParsePrometheusText's errors.
Result<std::vector<Sample>> ScrapeMetrics(const std::string& url);

// The device plugin's sockets in kubelet's folder, Intel's scheme first.
const std::vector<std::string>& PluginSocketNames();

struct StatusInputs {
  Status helper_ping;  // from sgxctl ping's library calls
  // False when the helper's socket does not exist here (a pod that does not mount it): the
  // helper then counts as reachable when its metrics answer.
  bool helper_socket_present = true;
  Result<std::vector<Sample>> helper_metrics = Status::Unavailable("not scraped");
  Result<std::vector<Sample>> plugin_metrics = Status::Unavailable("not scraped");
  std::vector<std::string> plugin_sockets;  // present in the device-plugins folder
};

// {"ok":…, "quote_helper":{…}, "device_plugin":{"scheme":…, "resources":[…], …},
// "problems":[…]}; never fails (what cannot be read becomes a problem). Counts are whole
// numbers. Intel's scheme keeps the EPC in the Node's capacity, which no metric shows.
nlohmann::ordered_json SummarizeNode(const StatusInputs& in);

// The summary as aligned "key: value" lines, one problem per line at the end (what `sgxctl
// status` prints without -o json).
std::string RenderNodeStatus(const nlohmann::ordered_json& summary);

}  // namespace confcom::sgxctl
