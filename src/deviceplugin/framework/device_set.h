// The devices of one resource as kubelet sees them, and the policy that keeps every
// ListAndWatch message within kubelet's gRPC receive limit (4 MiB). PlanLayout() decides once,
// at start, how the inventory (blocks of interchangeable devices, one NUMA node each) is
// advertised: the first of six steps that fits (decimal or compact IDs, with or without
// topology, unhealthy devices listed or left out, at last fewer devices), so that no message is
// ever above the limit. The steps and their figures: docs/device-plugin.md, "Staying within
// kubelet's 4 MiB". DeviceSet encodes messages straight into protobuf wire bytes (262,144
// generated Device objects would cost ~40 MB; the bytes cost ~4 MB).
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
// Pure functions: thread-safe.
enum class IdScheme { kDecimal, kCompact };
// The ID of device `index` (no prefix).
std::string DeviceId(IdScheme scheme, uint64_t index);
// The index DeviceId() maps to `id`, or nullopt when `id` is no ID of `scheme` (e.g. "01").
std::optional<uint64_t> ParseDeviceId(IdScheme scheme, std::string_view id);
// "decimal" or "compact", for logs.
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
  int step = 1;                       // which step (1..6) of the policy
  std::string id_prefix;              // before every ID, e.g. "sgx-enclave-"
  std::vector<std::string> warnings;  // one per degradation, with the numbers
};

// The layout of `inventory` under `limit`: the first step that fits, with a warning per
// degradation. Never fails: step 6 fits any inventory (an empty one advertises nothing).
// want_topology: attach TopologyInfo (the caller passes false on single-NUMA machines).
// id_prefix: a fixed string before every ID ("sgx-enclave-" makes "sgx-enclave-0", ...);
// counted in every size. Pure: thread-safe.
Layout PlanLayout(const std::vector<DeviceBlock>& inventory, bool want_topology,
                  size_t limit = kKubeletMaxMessageBytes, std::string_view id_prefix = "");

// Immutable after construction: safe to share between threads.
class DeviceSet {
 public:
  explicit DeviceSet(Layout layout);

  const Layout& layout() const { return layout_; }
  // Devices advertised; indexes run from 0 to size() - 1.
  uint64_t size() const { return layout_.advertised; }
  // The NUMA node of device `index`; -1 when unknown or `index` >= size().
  int64_t NumaOf(uint64_t index) const;
  // The advertised ID of device `index`, prefix included.
  std::string Id(uint64_t index) const { return layout_.id_prefix + DeviceId(layout_.ids, index); }
  // The index of an advertised device, or nullopt for anything else.
  std::optional<uint64_t> Find(std::string_view id) const;

  struct Message {
    std::shared_ptr<const std::string> bytes;  // a serialized v1beta1.ListAndWatchResponse
    uint64_t listed = 0, healthy = 0, unhealthy_listed = 0, unhealthy_omitted = 0;
  };
  // The ListAndWatch message for `healthy` (size() entries, asserted): every device listed
  // when that fits the limit, else only the healthy ones. Never above the layout's limit.
  Message Encode(const std::vector<bool>& healthy) const;
  // The exact byte size Encode would produce if every unhealthy device were listed.
  size_t FullSize(const std::vector<bool>& healthy) const;

 private:
  Layout layout_;
  std::vector<uint64_t> block_end_;  // cumulative device counts
};

}  // namespace confcom::deviceplugin
