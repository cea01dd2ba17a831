#include "deviceplugin/sgx/discovery.h"

#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sstream>

#include "common/file_util.h"

namespace confcom::deviceplugin {
namespace {

namespace fs = std::filesystem;

// Reads CPUID through the cpuid driver file, or the instruction, or not at all.
class CpuidReader {
 public:
  explicit CpuidReader(const std::string& root) {
    path_ = HostPath(root, "/dev/cpu/0/cpuid");
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) {
      source_ = path_;
    } else if (fs::path(root).lexically_normal() == "/") {
      source_ = "cpuid instruction";
      instruction_ = true;
    } else {
      source_ = "none";
    }
  }
  ~CpuidReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool available() const { return fd_ >= 0 || instruction_; }
  const std::string& source() const { return source_; }

  // Leaves a fake tree does not set read as zero (a sparse file's holes, or past its end).
  CpuidRegs Query(uint32_t leaf, uint32_t subleaf) const {
    CpuidRegs r;
    if (instruction_) {
      __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    } else if (fd_ >= 0) {
      uint32_t regs[4] = {0, 0, 0, 0};
      off_t off = off_t(uint64_t(leaf) | (uint64_t(subleaf) << 32));
      ssize_t n = ::pread(fd_, regs, sizeof regs, off);
      if (n == ssize_t(sizeof regs)) r = {regs[0], regs[1], regs[2], regs[3]};
    }
    return r;
  }

 private:
  std::string path_, source_;
  int fd_ = -1;
  bool instruction_ = false;
};

// *sum += add; false (and *sum unchanged) when it would pass 2^64-1. Sizes come from sysfs,
// CPUID and flags: none is trusted to be small.
bool AddChecked(uint64_t* sum, uint64_t add) {
  uint64_t out = 0;
  if (__builtin_add_overflow(*sum, add, &out)) return false;
  *sum = out;
  return true;
}

Result<uint64_t> ParseU64(std::string_view text, const std::string& what) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    return Status::Corruption(fmt::format("{}: '{}' is not a number", what, text));
  }
  return v;
}

void ReadCpuid(const std::string& root, SgxDiscovery& d) {
  CpuidReader cpuid(root);
  d.cpuid_source = cpuid.source();
  if (!cpuid.available()) return;
  uint32_t max_leaf = cpuid.Query(0, 0).eax;
  if (max_leaf < 7) return;
  CpuidRegs l7 = cpuid.Query(7, 0);
  d.sgx_supported = (l7.ebx >> 2) & 1;
  d.sgx_lc = (l7.ecx >> 30) & 1;
  if (!d.sgx_supported || max_leaf < 0x12) return;
  CpuidRegs l12 = cpuid.Query(0x12, 0);
  d.sgx1 = l12.eax & 1;
  d.sgx2 = (l12.eax >> 1) & 1;
  for (uint32_t sub = 2; sub < 2 + 64; ++sub) {  // the SDM allows more than 8 sections
    CpuidRegs s = cpuid.Query(0x12, sub);
    uint32_t type = s.eax & 0xf;
    if (type == 0) break;
    if (type != 1) continue;  // reserved types
    EpcSection sec;
    sec.base = (uint64_t(s.eax) & 0xfffff000) | ((uint64_t(s.ebx) & 0xfffff) << 32);
    sec.size = (uint64_t(s.ecx) & 0xfffff000) | ((uint64_t(s.edx) & 0xfffff) << 32);
    if (sec.size > 0) d.sections.push_back(sec);
  }
  std::sort(d.sections.begin(), d.sections.end(),
            [](const EpcSection& a, const EpcSection& b) { return a.base < b.base; });
}

Status ReadSysfs(const std::string& root, SgxDiscovery& d) {
  std::error_code ec;
  fs::path dir = HostPath(root, "/sys/devices/system/node");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind("node", 0) != 0 || name.size() == 4) continue;
    int64_t node = 0;
    auto [p, err] = std::from_chars(name.data() + 4, name.data() + name.size(), node);
    if (err != std::errc() || p != name.data() + name.size()) continue;
    d.numa_nodes.push_back(node);
    std::string file = (it->path() / "x86" / "sgx_total_bytes").string();
    if (!PathExists(file)) continue;
    CONFCOM_ASSIGN_OR_RETURN(std::string text, ReadFile(file, 64));
    CONFCOM_ASSIGN_OR_RETURN(uint64_t bytes, ParseU64(text, file));
    d.sysfs_epc_bytes[node] = bytes;
  }
  std::sort(d.numa_nodes.begin(), d.numa_nodes.end());
  return Status::Ok();
}

void ReadCpuinfo(const std::string& root, SgxDiscovery& d) {
  auto text = ReadFile(HostPath(root, "/proc/cpuinfo"), 64 << 20);
  if (!text.ok()) return;
  d.cpuinfo_read = true;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(
        line.substr(line.find(':') == std::string::npos ? line.size() : line.find(':') + 1));
    std::string w;
    while (words >> w) {
      if (w == "sgx") d.cpuinfo_sgx = true;
      if (w == "sgx_lc") d.cpuinfo_sgx_lc = true;
    }
    break;  // every CPU lists the same flags
  }
}

// Gives each CPUID section a NUMA node; see the header for the rules.
void MapSections(SgxDiscovery& d) {
  if (d.sections.empty()) return;
  if (!d.sysfs_epc_bytes.empty()) {
    // Sections in address order fill the EPC nodes in node order (nodes own ascending
    // physical ranges); it must add up exactly, or the mapping is unknown.
    auto node = d.sysfs_epc_bytes.begin();
    uint64_t filled = 0;
    bool ok = true;
    for (auto& s : d.sections) {
      if (node == d.sysfs_epc_bytes.end()) {
        ok = false;
        break;
      }
      s.numa = node->first;
      if (!AddChecked(&filled, s.size)) {
        ok = false;
        break;
      }
      if (filled == node->second) {
        ++node;
        filled = 0;
      } else if (filled > node->second) {
        ok = false;
        break;
      }
    }
    if (ok && node == d.sysfs_epc_bytes.end()) return;
    for (auto& s : d.sections) s.numa = -1;
    return;
  }
  if (d.numa_nodes.size() <= 1) {
    int64_t only = d.numa_nodes.empty() ? 0 : d.numa_nodes[0];
    for (auto& s : d.sections) s.numa = only;
  } else if (d.numa_nodes.size() == d.sections.size()) {
    for (size_t i = 0; i < d.sections.size(); ++i) d.sections[i].numa = d.numa_nodes[i];
  }
}

std::string MiB(uint64_t bytes) {
  return bytes % (1 << 20) == 0 ? fmt::format("{} MiB", bytes >> 20)
                                : fmt::format("{} bytes", bytes);
}

}  // namespace

std::string HostPath(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + path;
}

uint64_t SgxDiscovery::total_epc_bytes() const {
  uint64_t t = 0;
  for (const auto& [node, bytes] : epc_bytes) {
    if (!AddChecked(&t, bytes)) return UINT64_MAX;
  }
  return t;
}

bool SgxDiscovery::HasDevice(const std::string& host_path) const {
  return std::find(device_nodes.begin(), device_nodes.end(), host_path) != device_nodes.end();
}

Result<std::map<int64_t, uint64_t>> ParseEpcOverride(const std::vector<std::string>& items) {
  std::map<int64_t, uint64_t> out;
  for (const std::string& item : items) {
    std::stringstream parts(item);
    std::string part;
    while (std::getline(parts, part, ',')) {
      if (part.empty()) continue;
      std::string mib = part, numa = "0";
      if (auto colon = part.find(':'); colon != std::string::npos) {
        mib = part.substr(0, colon);
        numa = part.substr(colon + 1);
      }
      auto m = ParseU64(mib, "--epc-mib");
      auto n = ParseU64(numa, "--epc-mib NUMA node");
      if (!m.ok() || !n.ok() || *m == 0 || *n > 1023 || *m > kMaxEpcOverrideMib) {
        return Status::InvalidArgument(fmt::format(
            "--epc-mib '{}': expected MiB[:NUMA] with MiB in 1..2^30 and NUMA in 0..1023", part));
      }
      // A node given again adds up, within the same 2^30 MiB: bytes (MiB << 20) then stay
      // below 2^50 per node and 2^60 for all 1024 nodes.
      uint64_t& node_mib = out[int64_t(*n)];
      if (node_mib + *m > kMaxEpcOverrideMib) {
        return Status::InvalidArgument(fmt::format(
            "--epc-mib: NUMA node {} adds up to more than 2^30 MiB ({} + {})", *n, node_mib, *m));
      }
      node_mib += *m;
    }
  }
  return out;
}

Result<SgxDiscovery> Discover(const DiscoveryOptions& options) {
  SgxDiscovery d;
  d.host_root = options.host_root;
  const std::string& root = options.host_root;
  // A --host-root that does not exist (the pod lacks the hostPath mount) must not read as
  // "no SGX on this node".
  if (!root.empty() && root != "/" && !PathExists(root)) {
    return Status::NotFound("no such path: " + root +
                            " (--host-root; is the host's root mounted there?)");
  }
  ReadCpuid(root, d);
  CONFCOM_RETURN_IF_ERROR(ReadSysfs(root, d));
  ReadCpuinfo(root, d);
  for (const auto& list : {EnclaveDeviceNodes(), ProvisionDeviceNodes()}) {
    for (const auto& p : list) {
      if (PathExists(HostPath(root, p))) d.device_nodes.push_back(p);
    }
  }
  if (PathExists(HostPath(root, "/dev/sgx_vepc"))) d.device_nodes.push_back("/dev/sgx_vepc");
  MapSections(d);

  // CPUID sections are below 2^52 bytes each (20 + 20 bits of 4 KiB pages) and at most 64,
  // so their sum cannot wrap; sysfs files hold any 64-bit number, and a sum past 2^64 is a
  // broken kernel or a forged tree: refused, never wrapped to a small EPC.
  uint64_t cpuid_total = 0;
  for (const auto& s : d.sections) {
    if (!AddChecked(&cpuid_total, s.size)) {
      return Status::Corruption(fmt::format(
          "CPUID EPC sections add up past 2^64 bytes ({} sections)", d.sections.size()));
    }
  }
  uint64_t sysfs_total = 0;
  for (const auto& [n, b] : d.sysfs_epc_bytes) {
    if (!AddChecked(&sysfs_total, b)) {
      return Status::Corruption(
          fmt::format("sysfs sgx_total_bytes of {} NUMA nodes add up past 2^64 bytes (node{}: {})",
                      d.sysfs_epc_bytes.size(), n, b));
    }
  }

  if (!d.sections.empty() && !d.sysfs_epc_bytes.empty()) {
    bool mapped = std::all_of(d.sections.begin(), d.sections.end(),
                              [](const EpcSection& s) { return s.numa >= 0; });
    if (cpuid_total != sysfs_total || !mapped) {
      d.warnings.push_back(fmt::format(
          "CPUID reports {} of EPC in {} section(s) but the kernel (sysfs sgx_total_bytes) "
          "manages {} on {} NUMA node(s): using the kernel's figures",
          MiB(cpuid_total), d.sections.size(), MiB(sysfs_total), d.sysfs_epc_bytes.size()));
    }
  }
  if (d.sgx_supported && d.sections.empty() && d.cpuid_source != "none") {
    d.warnings.push_back(
        "CPUID reports SGX but no EPC sections: SGX is probably disabled "
        "in the BIOS, or its EPC size is 0");
  }
  if (d.cpuinfo_read && !d.cpuinfo_sgx && (d.sgx_supported || !d.sysfs_epc_bytes.empty())) {
    d.warnings.push_back(
        "the CPU has SGX but /proc/cpuinfo has no 'sgx' flag: the kernel "
        "disabled it (no driver, or nosgx on the kernel command line)");
  }

  if (!options.epc_override_mib.empty()) {
    d.epc_source = "override";
    for (const auto& [node, mib] : options.epc_override_mib) {
      if (mib > kMaxEpcOverrideMib) {
        return Status::InvalidArgument(
            fmt::format("--epc-mib: {} MiB on NUMA node {} is above 2^30 MiB", mib, node));
      }
      d.epc_bytes[node] = mib << 20;
    }
  } else if (!d.sysfs_epc_bytes.empty()) {
    d.epc_source = "sysfs";
    d.epc_bytes = d.sysfs_epc_bytes;
  } else if (!d.sections.empty()) {
    d.epc_source = "cpuid";
    for (const auto& s : d.sections) d.epc_bytes[s.numa] += s.size;  // below cpuid_total
    if (d.epc_bytes.count(-1)) {
      d.warnings.push_back(fmt::format(
          "cannot tell which NUMA node each of the {} EPC sections is on ({} NUMA nodes, no "
          "sysfs sgx_total_bytes: kernel older than 5.17?): advertising without topology",
          d.sections.size(), d.numa_nodes.size()));
      uint64_t all = d.total_epc_bytes();
      d.epc_bytes.clear();
      d.epc_bytes[-1] = all;
    }
  } else {
    d.epc_source = "none";
  }
  bool has_enclave_node = std::any_of(EnclaveDeviceNodes().begin(), EnclaveDeviceNodes().end(),
                                      [&](const std::string& p) { return d.HasDevice(p); });
  if (d.epc_source != "none" && d.epc_source != "override" && !has_enclave_node) {
    d.warnings.push_back(
        "the node has EPC but no SGX enclave device node (/dev/sgx_enclave, "
        "/dev/sgx/enclave, /dev/isgx): the devices start Unhealthy");
  }
  return d;
}

nlohmann::json ToJson(const SgxDiscovery& d) {
  nlohmann::json j;
  j["host_root"] = d.host_root;
  j["cpuid"] = {{"source", d.cpuid_source},
                {"sgx", d.sgx_supported},
                {"sgx_lc", d.sgx_lc},
                {"sgx1", d.sgx1},
                {"sgx2", d.sgx2}};
  auto sections = nlohmann::json::array();
  for (const auto& s : d.sections) {
    sections.push_back(
        {{"base", fmt::format("{:#x}", s.base)}, {"size_bytes", s.size}, {"numa_node", s.numa}});
  }
  j["cpuid"]["epc_sections"] = sections;
  j["sysfs"]["numa_nodes"] = d.numa_nodes;
  auto sysfs = nlohmann::json::object();
  for (const auto& [n, b] : d.sysfs_epc_bytes) sysfs[std::to_string(n)] = b;
  j["sysfs"]["sgx_total_bytes"] = sysfs;
  j["cpuinfo"] = {{"read", d.cpuinfo_read}, {"sgx", d.cpuinfo_sgx}, {"sgx_lc", d.cpuinfo_sgx_lc}};
  j["device_nodes"] = d.device_nodes;
  auto epc = nlohmann::json::array();
  for (const auto& [n, b] : d.epc_bytes) {
    epc.push_back({{"numa_node", n}, {"bytes", b}, {"mib", b >> 20}});
  }
  j["epc"] = {{"source", d.epc_source},
              {"total_bytes", d.total_epc_bytes()},
              {"total_mib", d.total_epc_bytes() >> 20},
              {"per_numa_node", epc}};
  j["warnings"] = d.warnings;
  return j;
}

void LogDiscovery(const SgxDiscovery& d, bool simulation) {
  for (const auto& w : d.warnings) spdlog::warn("discovery: {}", w);
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
  if (d.total_epc_bytes() < (1 << 20)) return;
  std::string nodes;
  for (const auto& p : d.device_nodes) nodes += " " + p;
  spdlog::info("EPC: {} MiB on {} NUMA node(s) (from {}); device nodes:{}",
               d.total_epc_bytes() >> 20, d.epc_bytes.size(), d.epc_source,
               nodes.empty() ? std::string(" none") : nodes);
}

std::string ToText(const SgxDiscovery& d) {
  std::string out;
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  out += fmt::format("host root:      {}\n", d.host_root);
  out += fmt::format("cpuid source:   {}\n", d.cpuid_source);
  out += fmt::format("sgx (cpuid):    {} (sgx1 {}, sgx2 {}, flexible launch control {})\n",
                     yn(d.sgx_supported), yn(d.sgx1), yn(d.sgx2), yn(d.sgx_lc));
  for (const auto& s : d.sections) {
    out += fmt::format("epc section:    base {:#x} size {} numa {}\n", s.base, MiB(s.size),
                       s.numa >= 0 ? std::to_string(s.numa) : "unknown");
  }
  out += fmt::format("numa nodes:     {}\n", d.numa_nodes.size());
  for (const auto& [n, b] : d.sysfs_epc_bytes) {
    out += fmt::format("sysfs node{}:    sgx_total_bytes {} ({})\n", n, b, MiB(b));
  }
  out += fmt::format("cpuinfo flags:  {}\n",
                     d.cpuinfo_read
                         ? fmt::format("sgx {}, sgx_lc {}", yn(d.cpuinfo_sgx), yn(d.cpuinfo_sgx_lc))
                         : std::string("(unreadable)"));
  out += "device nodes:  ";
  for (const auto& p : d.device_nodes) out += " " + p;
  if (d.device_nodes.empty()) out += " (none)";
  out += "\n";
  out += fmt::format("epc:            {} from {}\n", MiB(d.total_epc_bytes()), d.epc_source);
  for (const auto& [n, b] : d.epc_bytes) {
    out += fmt::format("  numa {}:       {}\n", n >= 0 ? std::to_string(n) : "?", MiB(b));
  }
  for (const auto& w : d.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace confcom::deviceplugin
