#include "sgxctl/node_doctor.h"

#include <curl/curl.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "sgxctl/qcnl_config.h"
#include "common/file_util.h"

namespace confcom::sgxctl {
namespace {

Finding Ok(const char* check, std::string detail) {
  return {Level::kOk, check, std::move(detail), ""};
}
Finding Warn(const char* check, std::string detail, std::string fix) {
  return {Level::kWarn, check, std::move(detail), std::move(fix)};
}
Finding Fail(const char* check, std::string detail, std::string fix) {
  return {Level::kFail, check, std::move(detail), std::move(fix)};
}

// The group's name from <root>/etc/group when checking another root, else from this system.
std::string GroupName(const std::string& root, gid_t gid) {
  if (!root.empty()) {
    std::ifstream in(root + "/etc/group");
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ':');) f.push_back(x);
      if (f.size() >= 3 && f[2] == std::to_string(gid)) return f[0];
    }
  } else if (const struct group* g = ::getgrgid(gid)) {
    return g->gr_name;
  }
  return "gid " + std::to_string(gid);
}

struct Device {
  std::string path;  // as on the node
  struct stat st;
};

std::optional<Device> FindDevice(const std::string& root,
                                 std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    struct stat st;
    if (::stat((root + p).c_str(), &st) == 0) return Device{p, st};
  }
  return std::nullopt;
}

Finding DeviceFinding(const DoctorOptions& o, const Identity& who, const Device& d,
                      const char* why) {
  std::string group = GroupName(o.host_root, d.st.st_gid);
  std::string seen = fmt::format("{}: group {} (gid {}), mode {:04o}", d.path, group, d.st.st_gid,
                                 d.st.st_mode & 07777);
  if (MayOpenReadWrite(who, d.st.st_uid, d.st.st_gid, d.st.st_mode)) {
    return Ok("device", seen + fmt::format("; uid {} may open it", who.uid));
  }
  return Fail(
      "device",
      seen + fmt::format("; uid {} (groups without {}) may not open it: {}", who.uid, group, why),
      fmt::format(
          "run with gid {} in supplementalGroups (pod securityContext), or add the user to group {}",
          d.st.st_gid, group));
}

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

const char* LevelName(Level level) {
  switch (level) {
    case Level::kOk: return "OK";
    case Level::kWarn: return "WARN";
    case Level::kFail: return "FAIL";
  }
  return "?";
}

Identity Identity::OfThisProcess() {
  Identity id;
  id.uid = ::geteuid();
  id.gid = ::getegid();
  int n = ::getgroups(0, nullptr);
  if (n > 0) {
    id.groups.resize(size_t(n));
    n = ::getgroups(n, id.groups.data());
    id.groups.resize(n > 0 ? size_t(n) : 0);
  }
  return id;
}

bool MayOpenReadWrite(const Identity& who, uid_t owner, gid_t group, mode_t mode) {
  if (who.uid == 0) return true;
  mode_t rw;
  if (who.uid == owner) {
    rw = S_IRUSR | S_IWUSR;
  } else if (who.gid == group ||
             std::find(who.groups.begin(), who.groups.end(), group) != who.groups.end()) {
    rw = S_IRGRP | S_IWGRP;
  } else {
    rw = S_IROTH | S_IWOTH;
  }
  return (mode & rw) == rw;
}

std::vector<Finding> CheckDevices(const DoctorOptions& o) {
  std::vector<Finding> out;
  Identity who = o.identity ? *o.identity : Identity::OfThisProcess();
  if (auto enclave = FindDevice(o.host_root, {"/dev/sgx_enclave", "/dev/sgx/enclave"})) {
    out.push_back(DeviceFinding(o, who, *enclave, "no enclave can be loaded"));
  } else {
    out.push_back(Fail(
        "device", "no SGX enclave device (/dev/sgx_enclave or /dev/sgx/enclave)",
        "on an SGX node, request sgx.intel.com/epc: the webhook adds sgx.intel.com/enclave, which "
        "gives the container the device (legacy layout: request "
        "kubernetes.azure.com/sgx_epc_mem_in_MiB); on the host check SGX is on in the BIOS and the "
        "kernel is 5.11 or later"));
  }
  if (auto prov = FindDevice(o.host_root, {"/dev/sgx_provision", "/dev/sgx/provision"})) {
    out.push_back(DeviceFinding(
        o, who, *prov,
        "the provisioning enclave cannot run (SGX_ERROR_SERVICE_INVALID_PRIVILEGE, 0x4004)"));
  } else {
    out.push_back(Fail(
        "device", "no SGX provisioning device (/dev/sgx_provision or /dev/sgx/provision)",
        "request sgx.intel.com/provision: 1 for the quote helper (its manifest does; legacy layout: "
        "kubernetes.azure.com/sgx_provision); the host needs the in-tree SGX driver (Linux 5.11 or "
        "later)"));
  }
  return out;
}

Result<long> HttpGetStatus(const std::string& url, int timeout_ms, bool verify_tls) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("curl_easy_init failed");
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK)
    return Status::Unavailable(url + ": " + (error[0] ? error : curl_easy_strerror(rc)));
  return code;
}

std::vector<Finding> CheckQcnl(const DoctorOptions& o) {
  std::vector<Finding> out;
  std::string path = o.host_root + o.qcnl_path;
  auto text = ReadFile(path, 1 << 20);
  if (!text.ok()) {
    out.push_back(
        Fail("qcnl", text.status().message(),
             "mount the quote provider's config (deploy/components/quote-helper brings it) at " +
                 o.qcnl_path));
    return out;
  }
  auto config = ParseQcnlConfig(*text);
  if (!config.ok()) {
    out.push_back(Fail(
        "qcnl", o.qcnl_path + ": " + config.status().message(),
        "fix the file (examples: deploy/components/quote-helper/qcnl-azure.conf, deploy/components/qcnl-config-pccs/pccs.conf)"));
    return out;
  }
  std::string seen = o.qcnl_path + ": pccs_url " + config->pccs_url;
  if (!config->collateral_service.empty())
    seen += ", collateral_service " + config->collateral_service;
  if (!config->use_secure_cert) {
    out.push_back(Warn(
        "qcnl", seen + "; use_secure_cert is false (the PCCS's TLS certificate is not checked)",
        "give the PCCS a certificate the node trusts and set \"use_secure_cert\": true"));
  } else {
    out.push_back(Ok("qcnl", seen));
  }
  if (!config->unknown_keys.empty()) {
    std::string keys;
    for (const auto& k : config->unknown_keys) keys += (keys.empty() ? "" : ", ") + k;
    out.push_back(Warn("qcnl", o.qcnl_path + ": unknown keys (ignored by the library): " + keys,
                       "check their spelling (keys are case-sensitive)"));
  }
  if (!o.check_pccs) return out;
  std::string url = config->pccs_url;
  if (url.back() != '/') url += '/';
  url += "rootcacrl";
  auto status = HttpGetStatus(url, o.pccs_timeout_ms, config->use_secure_cert);
  if (!status.ok()) {
    out.push_back(Fail(
        "pccs", "no answer: " + status.status().message(),
        "check the PCCS runs and is reachable from this node (DNS, firewall, proxy, TLS); quotes fail "
        "with SGX_QL_NETWORK_ERROR (0xE019) until it answers"));
  } else if (*status == 200) {
    out.push_back(Ok("pccs", fmt::format("GET {}: HTTP {}", url, *status)));
  } else {
    out.push_back(Warn(
        "pccs", fmt::format("GET {}: HTTP {}", url, *status),
        "it answers, but not with 200: check pccs_url's path (/sgx/certification/v4/) and the PCCS's log"));
  }
  return out;
}

std::vector<Finding> CheckQuoteProvider(const DoctorOptions& o) {
  std::vector<Finding> out;
  auto find = [&](const char* name) -> std::string {
    for (const auto& dir : o.library_dirs) {
      if (PathExists(o.host_root + dir + "/" + name)) return dir + "/" + name;
    }
    return "";
  };
  std::string qpl = find("libdcap_quoteprov.so.1");
  std::string qcnl = find("libsgx_default_qcnl_wrapper.so.1");
  if (qpl.empty()) {
    out.push_back(Fail(
        "quote-provider", "no libdcap_quoteprov.so.1 in the library folders",
        "use the -dcap helper image (Intel's libsgx-dcap-default-qpl) or install a quote provider"));
  } else if (qcnl.empty()) {
    out.push_back(Warn(
        "quote-provider", qpl + " found, but no libsgx_default_qcnl_wrapper.so.1",
        "fine for Azure's DCAP client (its own provider); Intel's provider needs libsgx-dcap-default-qpl whole"));
  } else {
    out.push_back(Ok("quote-provider", qpl + " and " + qcnl));
  }
  return out;
}

std::vector<Finding> CheckHelper(const DoctorOptions& o) {
  if (!o.ping_helper) return {};
  Status st = o.ping_helper();
  if (st.ok()) return {Ok("helper", o.helper_socket + " answers and offers ECDSA P-256 quoting")};
  return {Fail(
      "helper", st.message(),
      "check the sgx-quote-helper pod on this node is Ready and /var/run/aesmd is mounted; `sgxctl status`")};
}

std::vector<Finding> RunDoctor(const DoctorOptions& o) {
  std::vector<Finding> all;
  for (auto check : {CheckDevices, CheckQcnl, CheckQuoteProvider, CheckHelper}) {
    auto f = check(o);
    all.insert(all.end(), f.begin(), f.end());
  }
  return all;
}

std::string RenderFindings(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    out += fmt::format("{:<5} {:<15} {}{}\n", LevelName(f.level), f.check, f.detail,
                       f.fix.empty() ? "" : " -> fix: " + f.fix);
  }
  return out;
}

bool AnyFailed(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.level == Level::kFail; });
}

}  // namespace confcom::sgxctl
