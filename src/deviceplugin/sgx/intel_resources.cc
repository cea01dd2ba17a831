#include "deviceplugin/sgx/intel_resources.h"

#include "common/file_util.h"
#include "deviceplugin/sgx/discovery.h"

namespace confcom::deviceplugin {
namespace {

// One device node shared by `limit` devices.
class SharedNodeResource final : public Resource {
 public:
  SharedNodeResource(SgxResourceOptions o, std::string name, std::string endpoint,
                     std::string id_prefix, std::string node, uint64_t limit, bool socket_folder)
      : opt_(std::move(o)),
        name_(std::move(name)),
        endpoint_(std::move(endpoint)),
        id_prefix_(std::move(id_prefix)),
        node_(std::move(node)),
        limit_(limit),
        socket_folder_(socket_folder) {}

  std::string name() const override { return name_; }
  std::string endpoint() const override { return endpoint_; }
  std::string id_prefix() const override { return id_prefix_; }
  std::vector<DeviceBlock> Inventory() const override { return {DeviceBlock{-1, limit_}}; }
  bool want_topology() const override { return false; }
  std::vector<std::string> WatchDirs() const override { return {HostPath(opt_.host_root, "/dev")}; }

  Health CheckHealth() const override {
    Health h;
    const bool ok = opt_.simulation || PathExists(HostPath(opt_.host_root, node_));
    h.blocks.assign(1, ok);
    if (!ok) h.reason = "no SGX device node " + node_;
    return h;
  }

  Result<ContainerConfig> Container(const Allocation&) const override {
    ContainerConfig c;
    if (socket_folder_) c.mounts = AesmdSocketMounts(opt_);
    if (opt_.simulation) return c;
    if (!PathExists(HostPath(opt_.host_root, node_))) {
      return Status::Unavailable("no SGX device node " + node_ + " on the host");
    }
    c.devices.push_back(DeviceSpec{node_, ResolveHostDevice(opt_.host_root, node_), "rw"});
    return c;
  }

 private:
  SgxResourceOptions opt_;
  std::string name_, endpoint_, id_prefix_, node_;
  uint64_t limit_;
  bool socket_folder_;  // the enclave resource gives the aesmd socket folder, provision does not
};

}  // namespace

std::shared_ptr<Resource> MakeIntelEnclaveResource(SgxResourceOptions options, uint64_t limit) {
  std::string name = options.name.empty() ? kIntelEnclaveResourceName : options.name;
  return std::make_shared<SharedNodeResource>(std::move(options), name, kIntelEnclaveEndpoint,
                                              "sgx-enclave-", kIntelEnclaveNode, limit, true);
}

std::shared_ptr<Resource> MakeIntelProvisionResource(SgxResourceOptions options, uint64_t limit) {
  std::string name = options.name.empty() ? kIntelProvisionResourceName : options.name;
  return std::make_shared<SharedNodeResource>(std::move(options), name, kIntelProvisionEndpoint,
                                              "sgx-provision-", kIntelProvisionNode, limit, false);
}

}  // namespace confcom::deviceplugin
