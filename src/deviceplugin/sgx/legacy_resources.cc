#include "deviceplugin/sgx/legacy_resources.h"

#include <filesystem>

#include "common/file_util.h"

namespace confcom::deviceplugin {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string ResolveHostDevice(const std::string& root, const std::string& host_path) {
  std::error_code ec;
  fs::path seen = HostPath(root, host_path);
  if (!fs::is_symlink(seen, ec)) return host_path;
  fs::path target = fs::read_symlink(seen, ec);
  if (ec) return host_path;
  fs::path host = target.is_absolute()
                      ? target.lexically_normal()
                      : (fs::path(host_path).parent_path() / target).lexically_normal();
  if (!PathExists(HostPath(root, host.string()))) return host_path;
  return host.string();
}

std::vector<MountSpec> AesmdSocketMounts(const SgxResourceOptions& o) {
  if (o.aesmd_socket_dir.empty()) return {};
  std::error_code ec;
  if (!fs::is_directory(HostPath(o.host_root, o.aesmd_socket_dir), ec)) return {};
  return {MountSpec{kAesmdContainerDir, o.aesmd_socket_dir, true}};
}

namespace {

std::vector<std::string> Present(const std::string& root, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (PathExists(HostPath(root, p))) out.push_back(p);
  }
  return out;
}

void AddDevices(const std::string& root, const std::vector<std::string>& paths,
                ContainerConfig& c) {
  for (const auto& p : Present(root, paths)) {
    c.devices.push_back(DeviceSpec{p, ResolveHostDevice(root, p), "rw"});
  }
}

// Shared by both resources: health from the device nodes, inotify on /dev and /dev/sgx.
class SgxResourceBase : public Resource {
 public:
  explicit SgxResourceBase(SgxResourceOptions o) : opt_(std::move(o)) {}
  std::vector<std::string> WatchDirs() const override {
    return {HostPath(opt_.host_root, "/dev"), HostPath(opt_.host_root, "/dev/sgx")};
  }

 protected:
  Health AllBlocks(bool ok, std::string reason) const {
    Health h;
    h.blocks.assign(Inventory().size(), ok);
    if (!ok) h.reason = std::move(reason);
    return h;
  }
  bool HasEnclaveNode() const { return !Present(opt_.host_root, EnclaveDeviceNodes()).empty(); }

  SgxResourceOptions opt_;
};

class EpcResource final : public SgxResourceBase {
 public:
  EpcResource(const SgxDiscovery& d, SgxResourceOptions o) : SgxResourceBase(std::move(o)) {
    for (const auto& [numa, bytes] : d.epc_bytes) {
      if (bytes >> 20) blocks_.push_back(DeviceBlock{numa, bytes >> 20});
    }
    topology_ = blocks_.size() >= 2;
    for (const auto& b : blocks_) topology_ = topology_ && b.numa >= 0;
  }
  std::string name() const override { return opt_.name.empty() ? kEpcResourceName : opt_.name; }
  std::string endpoint() const override { return kEpcEndpoint; }
  std::vector<DeviceBlock> Inventory() const override { return blocks_; }
  bool want_topology() const override { return topology_; }
  std::shared_ptr<const PreferredAllocator> preferred_allocator() const override { return policy_; }

  Health CheckHealth() const override {
    if (opt_.simulation) return AllBlocks(true, "");
    return AllBlocks(HasEnclaveNode(),
                     "no SGX enclave device node (/dev/sgx_enclave, /dev/sgx/enclave, /dev/isgx)");
  }

  Result<ContainerConfig> Container(const Allocation& a) const override {
    ContainerConfig c;
    c.envs["SGX_EPC_MIB"] = std::to_string(a.devices.size());
    std::string nodes;
    for (int64_t n : a.numa_nodes) {
      if (n < 0) {
        nodes.clear();
        break;
      }
      nodes += (nodes.empty() ? "" : ",") + std::to_string(n);
    }
    if (!nodes.empty()) c.envs["SGX_EPC_NUMA_NODES"] = nodes;
    if (!opt_.simulation) AddDevices(opt_.host_root, EnclaveDeviceNodes(), c);
    if (!opt_.simulation && c.devices.empty()) {
      return Status::Unavailable("no SGX enclave device node on the host");
    }
    c.mounts = AesmdSocketMounts(opt_);
    return c;
  }

 private:
  std::vector<DeviceBlock> blocks_;
  bool topology_ = false;
  std::shared_ptr<const PreferredAllocator> policy_ = MakeNumaPackingAllocator();
};

class ProvisionResource final : public SgxResourceBase {
 public:
  ProvisionResource(SgxResourceOptions o, uint64_t count)
      : SgxResourceBase(std::move(o)), count_(count) {}
  std::string name() const override {
    return opt_.name.empty() ? kProvisionResourceName : opt_.name;
  }
  std::string endpoint() const override { return kProvisionEndpoint; }
  std::vector<DeviceBlock> Inventory() const override { return {DeviceBlock{-1, count_}}; }
  bool want_topology() const override { return false; }

  Health CheckHealth() const override {
    if (opt_.simulation) return AllBlocks(true, "");
    if (Present(opt_.host_root, ProvisionDeviceNodes()).empty()) {
      return AllBlocks(false,
                       "no SGX provisioning device node (/dev/sgx_provision, "
                       "/dev/sgx/provision)");
    }
    return AllBlocks(HasEnclaveNode(), "no SGX enclave device node");
  }

  Result<ContainerConfig> Container(const Allocation&) const override {
    ContainerConfig c;
    if (opt_.simulation) return c;
    AddDevices(opt_.host_root, ProvisionDeviceNodes(), c);
    if (c.devices.empty()) return Status::Unavailable("no SGX provisioning device node");
    AddDevices(opt_.host_root, EnclaveDeviceNodes(), c);
    return c;
  }

 private:
  uint64_t count_;
};

}  // namespace

bool IsSimulation(const SgxDiscovery& d) {
  if (d.epc_source != "override") return false;
  for (const auto& p : EnclaveDeviceNodes()) {
    if (d.HasDevice(p)) return false;
  }
  return true;
}

std::shared_ptr<Resource> MakeEpcResource(const SgxDiscovery& d, SgxResourceOptions options) {
  return std::make_shared<EpcResource>(d, std::move(options));
}

std::shared_ptr<Resource> MakeProvisionResource(const SgxDiscovery&, SgxResourceOptions options,
                                                uint64_t count) {
  return std::make_shared<ProvisionResource>(std::move(options), count);
}

}  // namespace confcom::deviceplugin
