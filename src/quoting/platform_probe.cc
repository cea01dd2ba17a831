#include "quoting/platform_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/file_util.h"

namespace confcom::quoting {

namespace {

const char* const kLibraryDirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                    "/usr/local/lib", "/lib/x86_64-linux-gnu"};

std::string FindFirst(const SgxPlatformProbe& p, const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (PathExists(p.HostPath(c))) return c;
  }
  return "";
}

std::vector<std::string> LibraryDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LD_LIBRARY_PATH")) {
    std::stringstream ss(env);
    std::string d;
    while (std::getline(ss, d, ':')) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  dirs.insert(dirs.end(), std::begin(kLibraryDirs), std::end(kLibraryDirs));
  return dirs;
}

}  // namespace

SgxPlatformProbe ProbeSgxPlatform(const std::string& host_root, const std::string& dcap_library) {
  SgxPlatformProbe p;
  p.host_root = host_root == "/" ? "" : host_root;
  p.enclave_device = FindFirst(p, {"/dev/sgx_enclave", "/dev/sgx/enclave", "/dev/isgx"});
  p.provision_device = FindFirst(p, {"/dev/sgx_provision", "/dev/sgx/provision"});
  if (!dcap_library.empty()) {
    if (PathExists(p.HostPath(dcap_library))) p.dcap_library = dcap_library;
  } else {
    std::vector<std::string> candidates;
    for (const auto& d : LibraryDirs()) candidates.push_back(d + "/" + kDcapLibraryName);
    p.dcap_library = FindFirst(p, candidates);
  }
  std::vector<std::string> qpl;
  for (const auto& d : LibraryDirs()) {
    qpl.push_back(d + "/libdcap_quoteprov.so.1");
    qpl.push_back(d + "/libdcap_quoteprov.so");
  }
  p.quote_provider = FindFirst(p, qpl);
  if (!p.quote_provider.empty()) {
    // Intel's QPL installs the versioned name; Azure's az-dcap-client only the unversioned one.
    p.quote_provider_kind = p.quote_provider.ends_with(".so.1")
                                ? "Intel's default QPL name"
                                : "unversioned name, as Azure's az-dcap-client installs it";
  }
  if (PathExists(p.HostPath("/etc/sgx_default_qcnl.conf")))
    p.qcnl_config = "/etc/sgx_default_qcnl.conf";
  return p;
}

std::vector<std::string> SgxPlatformProbe::MissingForDcap() const {
  std::vector<std::string> missing;
  if (enclave_device.empty()) {
    missing.push_back("no SGX enclave device (/dev/sgx_enclave, /dev/sgx/enclave or /dev/isgx)");
  }
  if (dcap_library.empty()) {
    missing.push_back(std::string("no DCAP quote library (") + kDcapLibraryName +
                      ", Intel's libsgx-dcap-ql package)");
  }
  return missing;
}

std::string SgxPlatformProbe::Describe() const {
  auto or_none = [](const std::string& s) { return s.empty() ? std::string("none") : s; };
  return "enclave device " + or_none(enclave_device) + ", provisioning device " +
         or_none(provision_device) + ", DCAP library " + or_none(dcap_library) +
         ", quote provider " +
         (quote_provider.empty() ? std::string("none")
                                 : quote_provider + " (" + quote_provider_kind + ")") +
         ", QCNL config " + or_none(qcnl_config) +
         (host_root.empty() ? "" : " [under " + host_root + "]");
}

Status CheckDeviceOpenable(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Status::PermissionDenied(
        what + " " + path + " cannot be opened read-write: " + std::strerror(errno) +
        " (is it mounted into the container, and is the container allowed to use it?)");
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace confcom::quoting
