#include "cli/node_status.h"

#include <httplib.h>

#include <sstream>

namespace confcom::cli {

namespace {

double Sum(const std::vector<Sample>& s, const std::string& name, const std::map<std::string, std::string>& match = {}) {
  double total = 0;
  for (const auto& x : s) {
    if (x.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) ok = ok && x.labels.count(k) && x.labels.at(k) == v;
    if (ok) total += x.value;
  }
  return total;
}

const Sample* Find(const std::vector<Sample>& s, const std::string& name) {
  for (const auto& x : s) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

}  // namespace

Result<std::vector<Sample>> ParsePrometheusText(std::string_view text) {
  std::vector<Sample> out;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t brace = line.find('{');
    size_t space = line.rfind(' ');
    if (space == std::string::npos) return Status::InvalidArgument("metrics line " + std::to_string(n) + " has no value");
    if (brace != std::string::npos && brace < space) {
      s.name = line.substr(0, brace);
      size_t close = line.find('}', brace);
      if (close == std::string::npos) return Status::InvalidArgument("metrics line " + std::to_string(n) + ": unclosed {");
      std::string labels = line.substr(brace + 1, close - brace - 1);
      size_t pos = 0;
      while (pos < labels.size()) {
        size_t eq = labels.find("=\"", pos);
        size_t end = labels.find('"', eq + 2);
        if (eq == std::string::npos || end == std::string::npos) break;
        s.labels[labels.substr(pos, eq - pos)] = labels.substr(eq + 2, end - eq - 2);
        pos = end + 1;
        if (pos < labels.size() && labels[pos] == ',') ++pos;
      }
    } else {
      s.name = line.substr(0, space);
    }
    try {
      s.value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      s.value = 0;  // NaN / +Inf samples are irrelevant here
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Sample>> ScrapeMetrics(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string base = slash == std::string::npos ? url : url.substr(0, slash);
  std::string path = slash == std::string::npos ? "/metrics" : url.substr(slash);
  httplib::Client client(base);
  client.set_connection_timeout(3, 0);
  client.set_read_timeout(5, 0);
  auto res = client.Get(path);
  if (!res) return Status::Unavailable(url + ": " + httplib::to_string(res.error()));
  if (res->status != 200) return Status::Unavailable(url + ": HTTP " + std::to_string(res->status));
  return ParsePrometheusText(res->body);
}

nlohmann::ordered_json SummarizeNode(const StatusInputs& in) {
  nlohmann::ordered_json j;
  std::vector<std::string> problems;
  auto& h = j["quote_helper"];
  h["reachable"] = in.helper_ping.ok();
  if (!in.helper_ping.ok()) problems.push_back("quote helper: " + in.helper_ping.message());
  if (in.helper_metrics.ok()) {
    const auto& m = *in.helper_metrics;
    if (const Sample* info = Find(m, "confcom_quote_helper_info")) {
      h["backend"] = info->labels.count("backend") ? info->labels.at("backend") : "";
      h["simulated"] = info->labels.count("simulated") && info->labels.at("simulated") == "true";
      h["version"] = info->labels.count("version") ? info->labels.at("version") : "";
    }
    h["quotes_served"] = Sum(m, "confcom_quote_helper_requests_total", {{"type", "GetQuoteEx"}, {"result", "SUCCESS"}});
    h["requests_failed"] = Sum(m, "confcom_quote_helper_requests_total") -
                           Sum(m, "confcom_quote_helper_requests_total", {{"result", "SUCCESS"}});
    h["open_connections"] = Sum(m, "confcom_quote_helper_open_connections");
  } else {
    h["metrics"] = in.helper_metrics.status().message();
  }
  auto& p = j["device_plugin"];
  p["sockets"] = in.plugin_sockets;
  const std::string epc = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
  if (in.plugin_metrics.ok()) {
    const auto& m = *in.plugin_metrics;
    double registrations = Sum(m, "confcom_device_plugin_registrations_total", {{"resource", epc}});
    p["registered"] = registrations > 0;
    p["registrations"] = registrations;
    p["epc_mib_advertised"] = Sum(m, "confcom_device_plugin_advertised_devices", {{"resource", epc}});
    p["epc_mib_healthy"] = Sum(m, "confcom_device_plugin_devices", {{"resource", epc}, {"health", "Healthy"}});
    p["epc_mib_allocated_total"] = Sum(m, "confcom_device_plugin_allocated_devices_total", {{"resource", epc}});
    if (const Sample* info = Find(m, "confcom_device_plugin_info")) {
      p["epc_source"] = info->labels.count("epc_source") ? info->labels.at("epc_source") : "";
      p["simulated"] = info->labels.count("simulated") && info->labels.at("simulated") == "true";
    }
    if (registrations == 0) problems.push_back("device plugin: not registered with kubelet yet");
    if (p["epc_mib_advertised"].get<double>() == 0) problems.push_back("device plugin: no EPC advertised");
  } else {
    p["registered"] = false;
    problems.push_back("device plugin: " + in.plugin_metrics.status().message());
  }
  j["problems"] = problems;
  j["ok"] = problems.empty();
  return j;
}

}  // namespace confcom::cli
