// GetPreferredAllocation, an optional interface of a Resource: a resource that has an opinion
// about which of its devices a container should get returns a PreferredAllocator; one that
// has none returns nullptr and the plugin tells kubelet it offers no preferred allocation.
//
// The server checks the request before calling Prefer (known IDs, no duplicates, must ⊆
// available, |must| <= size <= |available|) and checks the answer after (exactly `size`
// distinct devices, all of `must`, all from `available`); a policy cannot make it break the
// protocol. Prefer is called from gRPC threads concurrently: implementations are immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "deviceplugin/framework/device_set.h"

namespace confcom::deviceplugin {

class PreferredAllocator {
 public:
  virtual ~PreferredAllocator() = default;
  // `size` devices (indexes into `set`) out of `available`, containing `must`. The arguments
  // are checked before; an answer that breaks them fails the call with INTERNAL.
  virtual std::vector<uint64_t> Prefer(const DeviceSet& set, const std::vector<uint64_t>& available,
                                       const std::vector<uint64_t>& must, size_t size) const = 0;
};

// The NUMA packing policy: `size` devices out of `available` (indexes), containing `must`,
// from one NUMA node when one can hold them (the node with the fewest free devices that is
// big enough, keeping large free nodes for large requests), else from the fewest nodes
// (largest first). Lowest indexes first inside a node. Exposed as a function for tests.
// Pure: thread-safe.
std::vector<uint64_t> PreferDevices(const DeviceSet& set, const std::vector<uint64_t>& available,
                                    const std::vector<uint64_t>& must, size_t size);
// PreferDevices as a PreferredAllocator (stateless). Never fails.
std::shared_ptr<const PreferredAllocator> MakeNumaPackingAllocator();

}  // namespace confcom::deviceplugin
