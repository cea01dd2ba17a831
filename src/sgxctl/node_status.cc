#include "sgxctl/node_status.h"

#include <httplib.h>

#include <cmath>
#include <fmt/format.h>
#include <sstream>

namespace confcom::sgxctl {

namespace {

double Sum(const std::vector<Sample>& s, const std::string& name,
           const std::map<std::string, std::string>& match = {}) {
  double total = 0;
  for (const auto& x : s) {
    if (x.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) ok = ok && x.labels.count(k) && x.labels.at(k) == v;
    if (ok) total += x.value;
  }
  return total;
}

// Counters and gauges here count things: whole numbers (Prometheus sends them as floats).
uint64_t Count(const std::vector<Sample>& s, const std::string& name,
               const std::map<std::string, std::string>& match = {}) {
  double total = Sum(s, name, match);
  return total > 0 ? uint64_t(std::llround(total)) : 0;
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
    if (space == std::string::npos)
      return Status::InvalidArgument("metrics line " + std::to_string(n) + " has no value");
    if (brace != std::string::npos && brace < space) {
      s.name = line.substr(0, brace);
      size_t close = line.find('}', brace);
      if (close == std::string::npos)
        return Status::InvalidArgument("metrics line " + std::to_string(n) + ": unclosed {");
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
    h["quotes_served"] = Count(m, "confcom_quote_helper_requests_total",
                               {{"type", "GetQuoteEx"}, {"result", "SUCCESS"}});
    h["requests_failed"] = Count(m, "confcom_quote_helper_requests_total") -
                           Count(m, "confcom_quote_helper_requests_total", {{"result", "SUCCESS"}});
    h["open_connections"] = Count(m, "confcom_quote_helper_open_connections");
  } else {
    h["metrics"] = in.helper_metrics.status().message();
  }
  auto& p = j["device_plugin"];
  p["sockets"] = in.plugin_sockets;
  const std::string epc = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
  if (in.plugin_metrics.ok()) {
    const auto& m = *in.plugin_metrics;
    uint64_t registrations =
        Count(m, "confcom_device_plugin_registrations_total", {{"resource", epc}});
    p["registered"] = registrations > 0;
    p["registrations"] = registrations;
    p["epc_mib_advertised"] =
        Count(m, "confcom_device_plugin_advertised_devices", {{"resource", epc}});
    p["epc_mib_healthy"] =
        Count(m, "confcom_device_plugin_devices", {{"resource", epc}, {"health", "Healthy"}});
    p["epc_mib_allocated_total"] =
        Count(m, "confcom_device_plugin_allocated_devices_total", {{"resource", epc}});
    if (const Sample* info = Find(m, "confcom_device_plugin_info")) {
      p["epc_source"] = info->labels.count("epc_source") ? info->labels.at("epc_source") : "";
      p["simulated"] = info->labels.count("simulated") && info->labels.at("simulated") == "true";
    }
    if (registrations == 0) problems.push_back("device plugin: not registered with kubelet yet");
    if (p["epc_mib_advertised"].get<uint64_t>() == 0)
      problems.push_back("device plugin: no EPC advertised");
  } else {
    p["registered"] = false;
    problems.push_back("device plugin: " + in.plugin_metrics.status().message());
  }
  j["problems"] = problems;
  j["ok"] = problems.empty();
  return j;
}

namespace {

std::string Str(const nlohmann::ordered_json& j, const char* key,
                const std::string& fallback = "") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}
std::string Num(const nlohmann::ordered_json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? std::to_string(j[key].get<uint64_t>()) : "?";
}
bool Flag(const nlohmann::ordered_json& j, const char* key) {
  return j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

}  // namespace

std::string RenderNodeStatus(const nlohmann::ordered_json& j) {
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += fmt::format("{:<20}{}\n", key + ":", value);
  };
  const auto& h = j["quote_helper"];
  line("quote helper", Flag(h, "reachable") ? "reachable" : "NOT reachable");
  line("  socket", Str(h, "socket", "?"));
  if (h.contains("backend")) {
    line("  backend",
         Str(h, "backend") + (Flag(h, "simulated") ? " (SIMULATED: no security)" : ""));
    line("  version", Str(h, "version"));
  }
  if (h.contains("quotes_served")) {
    line("  quotes served", Num(h, "quotes_served"));
    line("  requests failed", Num(h, "requests_failed"));
    line("  open connections", Num(h, "open_connections"));
  } else {
    line("  metrics", Str(h, "metrics", "not scraped"));
  }
  const auto& p = j["device_plugin"];
  line("device plugin", Flag(p, "registered") ? "registered with kubelet" : "NOT registered");
  std::string sockets;
  for (const auto& s : p["sockets"])
    sockets += (sockets.empty() ? "" : ", ") + s.get<std::string>();
  line("  sockets", sockets.empty() ? "none" : sockets);
  if (p.contains("epc_mib_advertised")) {
    line("  registrations", Num(p, "registrations"));
    line("  EPC advertised", Num(p, "epc_mib_advertised") + " MiB");
    line("  EPC healthy", Num(p, "epc_mib_healthy") + " MiB");
    line("  EPC allocated", Num(p, "epc_mib_allocated_total") + " MiB (total since start)");
  }
  if (p.contains("epc_source")) {
    line("  EPC source", Str(p, "epc_source") + (Flag(p, "simulated") ? " (SIMULATED)" : ""));
  }
  const auto& problems = j["problems"];
  line("status", problems.empty() ? "OK"
                                  : "NOT OK (" + std::to_string(problems.size()) + " problem" +
                                        (problems.size() == 1 ? "" : "s") + ")");
  for (const auto& problem : problems) out += "  - " + problem.get<std::string>() + "\n";
  return out;
}

}  // namespace confcom::sgxctl
