// The devices of one resource as kubelet sees them, and the policy that keeps every
// ListAndWatch message within kubelet's gRPC receive limit (4 MiB).
//
// A resource has an inventory: blocks of interchangeable devices, each block on one NUMA node
// (for EPC: one device per MiB, one block per NUMA node). PlanLayout() decides once, at start,
// how the inventory is advertised, trying these steps in order and taking the first that fits:
//   1. decimal IDs ("0".."N-1"), topology on every device (multi-NUMA only), and every device
//      listed with its true health in every state (the all-Unhealthy message fits);
//   2. the same with compact IDs (see DeviceId);
//   3. compact IDs with topology; the all-Healthy message fits, but not every Unhealthy one:
//      when listing unhealthy devices as "Unhealthy" would not fit, they are left out instead;
//   4./5. as 2./3. without topology (kubelet's topology manager then sees no NUMA affinity;
//      GetPreferredAllocation still packs by NUMA node from the plan's own knowledge);
//   6. the largest device count whose all-Healthy message fits, spread over the blocks in
//      proportion to their size (capacity lost; the rest is never advertised).
// Every step but 1 adds a warning with the numbers. Because a message lists either every
// advertised device or only the healthy ones, no message is ever larger than the plan's
// all-Healthy message, which fits: kubelet never sees an oversize message.
//
// DeviceSet then encodes messages for any health vector directly into protobuf wire bytes
// (262,144 generated Device objects would cost ~40 MB; the bytes cost ~4 MB) and maps IDs back
// to device indexes. Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confcom::deviceplugin {

// Kubelet's default gRPC receive limit (gRPC-Go's default): exactly this many bytes pass.
inline constexpr size_t kKubeletMaxMessageBytes = 4 * 1024 * 1024;

// Device ID schemes. Decimal: "0", "1", ... Compact: shortest strings first over the 64
// characters 0-9 a-z A-Z - _ ("0".."_", then "00".."__", then "000"...): 64 one-character IDs,
// 4,096 two-character, 262,144 three-character. A device's ID never changes while the plugin
// runs (kubelet checkpoints allocations by ID).
enum class IdScheme { kDecimal, kCompact };
std::string DeviceId(IdScheme scheme, uint64_t index);
std::optional<uint64_t> ParseDeviceId(IdScheme scheme, std::string_view id);
const char* IdSchemeName(IdScheme scheme);

struct DeviceBlock {
  int64_t numa = -1;   // NUMA node; -1 = unknown (no topology possible)
  uint64_t count = 0;  // devices
};

struct Layout {
  IdScheme ids = IdScheme::kDecimal;
  bool topology = false;
  bool unhealthy_always_listed = true;  // false: unhealthy devices may be left out
  std::vector<DeviceBlock> blocks;      // the advertised devices (counts may be below inventory)
  uint64_t inventory = 0;               // devices the resource has
  uint64_t advertised = 0;              // devices ever listed
  size_t healthy_bytes = 0;             // the all-Healthy message
  size_t unhealthy_bytes = 0;           // the all-Unhealthy message, every device listed
  size_t limit = kKubeletMaxMessageBytes;
  int step = 1;                       // which step of the policy above
  std::string id_prefix;              // before every ID, e.g. "sgx-enclave-"
  std::vector<std::string> warnings;  // one per degradation, with the numbers
};

// want_topology: attach TopologyInfo (the caller passes false on single-NUMA machines).
// id_prefix: a fixed string before every ID ("sgx-enclave-" makes "sgx-enclave-0", ...);
// counted in every size.
Layout PlanLayout(const std::vector<DeviceBlock>& inventory, bool want_topology,
                  size_t limit = kKubeletMaxMessageBytes, std::string_view id_prefix = "");

class DeviceSet {
 public:
  explicit DeviceSet(Layout layout);

  const Layout& layout() const { return layout_; }
  uint64_t size() const { return layout_.advertised; }
  int64_t NumaOf(uint64_t index) const;
  std::string Id(uint64_t index) const { return layout_.id_prefix + DeviceId(layout_.ids, index); }
  // The index of an advertised device, or nullopt for anything else.
  std::optional<uint64_t> Find(std::string_view id) const;

  struct Message {
    std::shared_ptr<const std::string> bytes;  // a serialized v1beta1.ListAndWatchResponse
    uint64_t listed = 0, healthy = 0, unhealthy_listed = 0, unhealthy_omitted = 0;
  };
  // healthy[i] for every advertised device (size() entries).
  Message Encode(const std::vector<bool>& healthy) const;
  // The exact byte size Encode would produce if every unhealthy device were listed.
  size_t FullSize(const std::vector<bool>& healthy) const;

 private:
  Layout layout_;
  std::vector<uint64_t> block_end_;  // cumulative device counts
};

}  // namespace confcom::deviceplugin
