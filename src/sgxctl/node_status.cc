#include "sgxctl/node_status.h"

#include <httplib.h>

#include <algorithm>
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

const std::vector<std::string>& PluginSocketNames() {
  // deviceplugin/sgx/intel_resources.h and legacy_resources.h (sgxctl does not link the plugin).
  static const std::vector<std::string> names = {
      "kubelet.sock", "confcom-sgx-intel-enclave.sock", "confcom-sgx-intel-provision.sock",
      "confcom-sgx-epc.sock", "confcom-sgx-provision.sock"};
  return names;
}

namespace {

constexpr char kIntelPrefix[] = "sgx.intel.com/";

// The plugin's resources in the order its metrics list them (its scheme table's order).
std::vector<std::string> ResourcesOf(const std::vector<Sample>& m) {
  std::vector<std::string> out;
  for (const auto& x : m) {
    if (x.name != "confcom_device_plugin_registrations_total" || !x.labels.count("resource"))
      continue;
    const std::string& r = x.labels.at("resource");
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

// The legacy scheme's EPC resource (one device per MiB): kubernetes.azure.com/sgx_epc_mem_in_MiB
// unless --resource-name renamed it; a legacy name with "epc" in it.
bool IsLegacyEpc(const std::string& resource) {
  return !resource.starts_with(kIntelPrefix) && resource.find("epc") != std::string::npos;
}

}  // namespace

nlohmann::ordered_json SummarizeNode(const StatusInputs& in) {
  nlohmann::ordered_json j;
  std::vector<std::string> problems;
  auto& h = j["quote_helper"];
  if (in.helper_socket_present) {
    h["reachable"] = in.helper_ping.ok();
    if (!in.helper_ping.ok()) problems.push_back("quote helper: " + in.helper_ping.message());
  } else {
    // A pod without the socket folder (the plugin's): the helper's metrics tell it is alive.
    h["socket_mounted"] = false;
    h["reachable"] = in.helper_metrics.ok();
    if (!in.helper_metrics.ok()) {
      problems.push_back(
          "quote helper: its socket is not mounted here and its metrics do not answer (" +
          in.helper_metrics.status().message() +
          "): pass --helper-metrics http://HELPER_POD_IP:9464/metrics");
    }
  }
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
  p["registered"] = false;
  p["sockets"] = in.plugin_sockets;
  if (in.plugin_metrics.ok()) {
    const auto& m = *in.plugin_metrics;
    p["scheme"] = "";
    std::vector<std::string> resources = ResourcesOf(m);
    bool intel = false, legacy = false, registered = !resources.empty();
    // Built apart and added at the end: p is an ordered (vector-backed) object, so a member
    // added to it would invalidate a reference into it.
    auto list = nlohmann::ordered_json::array();
    for (const auto& r : resources) {
      (r.starts_with(kIntelPrefix) ? intel : legacy) = true;
      uint64_t registrations =
          Count(m, "confcom_device_plugin_registrations_total", {{"resource", r}});
      nlohmann::ordered_json one;
      one["name"] = r;
      one["registrations"] = registrations;
      one["devices"] = Count(m, "confcom_device_plugin_advertised_devices", {{"resource", r}});
      one["healthy"] =
          Count(m, "confcom_device_plugin_devices", {{"resource", r}, {"health", "Healthy"}});
      one["allocated_total"] =
          Count(m, "confcom_device_plugin_allocated_devices_total", {{"resource", r}});
      if (registrations == 0) {
        registered = false;
        problems.push_back("device plugin: " + r + " not registered with kubelet yet");
      }
      if (IsLegacyEpc(r)) {
        p["epc_mib_advertised"] = one["devices"];
        p["epc_mib_healthy"] = one["healthy"];
        p["epc_mib_allocated_total"] = one["allocated_total"];
        if (one["devices"].get<uint64_t>() == 0)
          problems.push_back("device plugin: no EPC advertised (" + r + ")");
      }
      list.push_back(std::move(one));
    }
    p["resources"] = std::move(list);
    p["scheme"] = intel && legacy ? "legacy,intel" : intel ? "intel" : legacy ? "legacy" : "";
    p["registered"] = registered;
    if (intel) {
      p["epc"] =
          "in the Node's capacity as sgx.intel.com/epc (set through the API server by "
          "--register-epc; not in the metrics)";
    }
    if (const Sample* info = Find(m, "confcom_device_plugin_info")) {
      p["epc_source"] = info->labels.count("epc_source") ? info->labels.at("epc_source") : "";
      p["simulated"] = info->labels.count("simulated") && info->labels.at("simulated") == "true";
    }
    if (resources.empty()) problems.push_back("device plugin: its metrics list no resource");
  } else {
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
  bool mounted = !h.contains("socket_mounted") || Flag(h, "socket_mounted");
  line("quote helper", std::string(Flag(h, "reachable") ? "reachable" : "NOT reachable") +
                           (mounted ? "" : " (socket not mounted here; from its metrics)"));
  line("  socket", Str(h, "socket", "?") + (mounted ? "" : " (not mounted here)"));
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
  if (!Str(p, "scheme").empty()) line("  scheme", Str(p, "scheme"));
  if (p.contains("resources")) {
    for (const auto& r : p["resources"]) {
      line("  resource", fmt::format("{}: {} devices, {} healthy, {} handed out since start, {} "
                                     "registration{}",
                                     Str(r, "name"), Num(r, "devices"), Num(r, "healthy"),
                                     Num(r, "allocated_total"), Num(r, "registrations"),
                                     Num(r, "registrations") == "1" ? "" : "s"));
    }
  }
  std::string sockets;
  for (const auto& s : p["sockets"])
    sockets += (sockets.empty() ? "" : ", ") + s.get<std::string>();
  line("  sockets", sockets.empty() ? "none" : sockets);
  if (p.contains("epc_mib_advertised")) {
    line("  EPC advertised", Num(p, "epc_mib_advertised") + " MiB");
    line("  EPC healthy", Num(p, "epc_mib_healthy") + " MiB");
    line("  EPC allocated", Num(p, "epc_mib_allocated_total") + " MiB (total since start)");
  }
  if (p.contains("epc")) line("  EPC", Str(p, "epc"));
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
