// The resource-specific half of a device plugin. The generic PluginServer does everything
// kubelet-facing (serving, registering, ListAndWatch, ID checks, re-registration); a Resource
// only says what it has, whether it is healthy, and what a container gets, and optionally
// which devices it prefers (preferred_allocation.h). A new resource is a small class.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/framework/preferred_allocation.h"

namespace confcom::deviceplugin {

struct DeviceSpec {
  std::string container_path;
  std::string host_path;
  std::string permissions;  // "rw", "rwm", ...
};

// A host folder bind-mounted into the container (e.g. a daemon's socket folder).
struct MountSpec {
  std::string container_path;
  std::string host_path;
  bool read_only = true;
};

// What kubelet tells the runtime to add to a container for its devices.
struct ContainerConfig {
  std::map<std::string, std::string> envs;
  std::vector<DeviceSpec> devices;
  std::vector<MountSpec> mounts;
};

// The devices kubelet gave one container: indexes into the DeviceSet, and their NUMA nodes
// (sorted, unique; -1 = unknown).
struct Allocation {
  std::vector<uint64_t> devices;
  std::vector<int64_t> numa_nodes;
};

struct Health {
  std::vector<bool> blocks;  // per inventory block, in Inventory() order
  std::string reason;        // why something is unhealthy ("" when all healthy)
};

// Implementations must be thread-safe: Container() and preferred_allocator() run on gRPC
// threads concurrently, CheckHealth() on the plugin's control thread at the same time.
class Resource {
 public:
  virtual ~Resource() = default;
  virtual std::string name() const = 0;      // e.g. "kubernetes.azure.com/sgx_epc_mem_in_MiB"
  virtual std::string endpoint() const = 0;  // our socket's file name in the device-plugins dir
  virtual std::string id_prefix() const { return ""; }  // before every device ID
  // Fixed for the life of the process.
  virtual std::vector<DeviceBlock> Inventory() const = 0;
  virtual bool want_topology() const = 0;
  // Optional: the GetPreferredAllocation policy; nullptr = not offered to kubelet.
  virtual std::shared_ptr<const PreferredAllocator> preferred_allocator() const { return nullptr; }
  // Folders whose entries coming and going may change Health(); watched with inotify.
  virtual std::vector<std::string> WatchDirs() const { return {}; }
  // The health now, one entry per inventory block (missing entries count as healthy). Never
  // fails: a reason to be unhealthy is a result.
  virtual Health CheckHealth() const = 0;
  // What a container gets for `allocation`; called only with known, healthy devices (at least
  // one). An error (e.g. the device node vanished since the health check) fails the whole
  // Allocate call with INTERNAL and the error's text.
  virtual Result<ContainerConfig> Container(const Allocation& allocation) const = 0;
};

}  // namespace confcom::deviceplugin
