#include "deviceplugin/framework/device_set.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <fmt/format.h>
#include <numeric>

namespace confcom::deviceplugin {
namespace {

constexpr std::string_view kAlphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
constexpr std::string_view kHealthy = "Healthy";
constexpr std::string_view kUnhealthy = "Unhealthy";

// The value of each byte as a digit of the compact alphabet, -1 for bytes outside it: a table,
// because Allocate looks up thousands of IDs per call.
constexpr std::array<int8_t, 256> kDigitValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (size_t i = 0; i < kAlphabet.size(); ++i) t[uint8_t(kAlphabet[i])] = int8_t(i);
  return t;
}();

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(0x80 | (v & 0x7f)));
    v >>= 7;
  }
  out.push_back(char(v));
}

// Bytes of the NUMANode / TopologyInfo part of a Device (field 3), 0 without topology.
size_t TopologyFieldSize(int64_t numa) {
  size_t node_body = numa == 0 ? 0 : 1 + VarintSize(uint64_t(numa));  // proto3 omits ID 0
  size_t info_body = 1 + VarintSize(node_body) + node_body;
  return 1 + VarintSize(info_body) + info_body;
}

size_t DeviceBodySize(size_t id_len, bool healthy, size_t topo) {
  return 2 + id_len + 2 + (healthy ? kHealthy.size() : kUnhealthy.size()) + topo;
}

// Bytes of one `repeated Device devices = 1` entry.
size_t EntrySize(size_t id_len, bool healthy, size_t topo) {
  size_t body = DeviceBodySize(id_len, healthy, topo);
  return 1 + VarintSize(body) + body;
}

// First index whose compact ID has `len` characters.
uint64_t CompactOffset(size_t len) {
  uint64_t off = 0, span = 1;
  for (size_t l = 1; l < len; ++l) {
    span *= kAlphabet.size();
    off += span;
  }
  return off;
}

size_t IdLength(IdScheme scheme, uint64_t index) {
  size_t len = 1;
  if (scheme == IdScheme::kDecimal) {
    while (index >= 10) {
      index /= 10;
      ++len;
    }
    return len;
  }
  uint64_t span = kAlphabet.size();
  while (index >= span) {
    index -= span;
    span *= kAlphabet.size();
    ++len;
  }
  return len;
}

// Calls fn(id_len, count) for the runs of equal ID length among indexes [begin, end).
template <typename Fn>
void ForEachIdRun(IdScheme scheme, uint64_t begin, uint64_t end, Fn fn) {
  const uint64_t base = scheme == IdScheme::kDecimal ? 10 : kAlphabet.size();
  uint64_t i = begin;
  while (i < end) {
    size_t len = IdLength(scheme, i);
    uint64_t run_end;  // first index with a longer ID
    if (scheme == IdScheme::kDecimal) {
      run_end = 1;
      for (size_t l = 0; l < len; ++l) run_end *= base;
    } else {
      run_end = CompactOffset(len + 1);
    }
    uint64_t stop = std::min(end, run_end);
    fn(len, stop - i);
    i = stop;
  }
}

struct Sizes {
  size_t healthy = 0;
  size_t unhealthy = 0;
};

Sizes MeasureBlocks(IdScheme ids, bool topology, const std::vector<DeviceBlock>& blocks,
                    size_t prefix) {
  Sizes s;
  uint64_t start = 0;
  for (const auto& b : blocks) {
    size_t topo = topology ? TopologyFieldSize(b.numa) : 0;
    ForEachIdRun(ids, start, start + b.count, [&](size_t len, uint64_t n) {
      s.healthy += n * EntrySize(prefix + len, true, topo);
      s.unhealthy += n * EntrySize(prefix + len, false, topo);
    });
    start += b.count;
  }
  return s;
}

uint64_t Total(const std::vector<DeviceBlock>& blocks) {
  uint64_t n = 0;
  for (const auto& b : blocks) n += b.count;
  return n;
}

// `n` devices spread over the blocks in proportion to their size (largest remainders first).
std::vector<DeviceBlock> Scale(const std::vector<DeviceBlock>& blocks, uint64_t n) {
  uint64_t total = Total(blocks);
  std::vector<DeviceBlock> out = blocks;
  if (total == 0) return out;
  uint64_t given = 0;
  std::vector<std::pair<uint64_t, size_t>> rem;
  for (size_t i = 0; i < out.size(); ++i) {
    __uint128_t scaled = __uint128_t(blocks[i].count) * n;
    out[i].count = uint64_t(scaled / total);
    rem.push_back({uint64_t(scaled % total), i});
    given += out[i].count;
  }
  std::sort(rem.begin(), rem.end(), [](auto a, auto b) { return a.first > b.first; });
  for (size_t k = 0; given < n && k < rem.size(); ++k, ++given) out[rem[k].second].count++;
  return out;
}

std::string Bytes(size_t n) { return fmt::format("{} bytes", n); }

}  // namespace

const char* IdSchemeName(IdScheme scheme) {
  return scheme == IdScheme::kDecimal ? "decimal" : "compact";
}

std::string DeviceId(IdScheme scheme, uint64_t index) {
  if (scheme == IdScheme::kDecimal) return std::to_string(index);
  size_t len = IdLength(scheme, index);
  uint64_t value = index - CompactOffset(len);
  std::string id(len, '0');
  for (size_t k = len; k-- > 0;) {
    id[k] = kAlphabet[value % kAlphabet.size()];
    value /= kAlphabet.size();
  }
  return id;
}

namespace {
// ParseDeviceId's body, with a plain return: Find calls it for every ID of an Allocate, and a
// std::optional returned from a non-inlined call cost more than the parsing itself.
inline bool ParseIndex(IdScheme scheme, std::string_view id, uint64_t* out) {
  if (id.empty() || id.size() > 10) return false;
  uint64_t value = 0;
  if (scheme == IdScheme::kDecimal) {
    if (id.size() > 1 && id[0] == '0') return false;  // one spelling per device
    for (char c : id) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + uint64_t(c - '0');
    }
    *out = value;
    return true;
  }
  for (char c : id) {
    int v = kDigitValue[uint8_t(c)];
    if (v < 0) return false;
    value = value * kAlphabet.size() + uint64_t(v);
  }
  *out = CompactOffset(id.size()) + value;
  return true;
}
}  // namespace

std::optional<uint64_t> ParseDeviceId(IdScheme scheme, std::string_view id) {
  uint64_t value;
  if (!ParseIndex(scheme, id, &value)) return std::nullopt;
  return value;
}

Layout PlanLayout(const std::vector<DeviceBlock>& inventory, bool want_topology, size_t limit,
                  std::string_view id_prefix) {
  Layout plan;
  plan.id_prefix = std::string(id_prefix);
  auto Measure = [&](IdScheme ids, bool topology, const std::vector<DeviceBlock>& blocks) {
    return MeasureBlocks(ids, topology, blocks, id_prefix.size());
  };
  plan.limit = limit;
  plan.inventory = Total(inventory);
  bool topo_possible = want_topology && !inventory.empty() &&
                       std::all_of(inventory.begin(), inventory.end(),
                                   [](const DeviceBlock& b) { return b.numa >= 0; });

  struct Step {
    IdScheme ids;
    bool topology;
    bool need_unhealthy_fit;
  };
  const Step steps[] = {{IdScheme::kDecimal, true, true},
                        {IdScheme::kCompact, true, true},
                        {IdScheme::kCompact, true, false},
                        {IdScheme::kCompact, false, true},
                        {IdScheme::kCompact, false, false}};
  Sizes decimal = Measure(IdScheme::kDecimal, topo_possible, inventory);
  int step_no = 0;
  bool found = false;
  for (const Step& st : steps) {
    ++step_no;
    // Without topology to give up, steps 4 and 5 are steps 2 and 3 again.
    if (!topo_possible && step_no > 3) break;
    bool topology = st.topology && topo_possible;
    Sizes s = Measure(st.ids, topology, inventory);
    bool fits = st.need_unhealthy_fit ? s.unhealthy <= limit : s.healthy <= limit;
    if (!fits) continue;
    found = true;
    plan.ids = st.ids;
    plan.topology = topology;
    plan.unhealthy_always_listed = s.unhealthy <= limit;
    plan.blocks = inventory;
    plan.advertised = plan.inventory;
    plan.healthy_bytes = s.healthy;
    plan.unhealthy_bytes = s.unhealthy;
    plan.step = step_no;
    break;
  }
  if (!found && plan.inventory > 0) {
    // Step 6: the largest count whose all-Healthy, topology-free message fits.
    uint64_t lo = 0, hi = plan.inventory;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo + 1) / 2;
      if (Measure(IdScheme::kCompact, false, {DeviceBlock{-1, mid}}).healthy <= limit) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    plan.ids = IdScheme::kCompact;
    plan.topology = false;
    plan.blocks = Scale(inventory, lo);
    plan.advertised = lo;
    Sizes s = Measure(plan.ids, false, plan.blocks);
    plan.healthy_bytes = s.healthy;
    plan.unhealthy_bytes = s.unhealthy;
    plan.unhealthy_always_listed = s.unhealthy <= limit;
    plan.step = 6;
  }
  if (plan.inventory == 0) {
    plan.blocks = inventory;
    return plan;
  }

  const std::string lim = Bytes(limit);
  if (plan.step >= 2) {
    plan.warnings.push_back(fmt::format(
        "{} devices with decimal IDs need up to {} per ListAndWatch message, over kubelet's {}: "
        "using compact IDs (0-9a-zA-Z-_, shortest first)",
        plan.inventory, Bytes(std::max(decimal.healthy, decimal.unhealthy)), lim));
  }
  if (topo_possible && !plan.topology) {
    Sizes with = Measure(IdScheme::kCompact, true, inventory);
    plan.warnings.push_back(fmt::format(
        "NUMA topology on {} devices needs {} for the all-Healthy message, over {}: devices are "
        "listed WITHOUT topology (kubelet's topology manager sees no NUMA affinity; preferred "
        "allocations still keep to one NUMA node)",
        plan.inventory, Bytes(with.healthy), lim));
  }
  if (plan.advertised < plan.inventory) {
    plan.warnings.push_back(fmt::format(
        "even without topology {} devices need {} for the all-Healthy message, over {}: "
        "advertising only {} of {} devices ({} of capacity lost)",
        plan.inventory, Bytes(Measure(IdScheme::kCompact, false, inventory).healthy), lim,
        plan.advertised, plan.inventory, plan.inventory - plan.advertised));
  }
  if (!plan.unhealthy_always_listed) {
    uint64_t spare = (limit - plan.healthy_bytes) / 2;
    plan.warnings.push_back(fmt::format(
        "listing all {} devices as Unhealthy would need {} (all Healthy: {}), over {}: when "
        "listing the unhealthy devices does not fit (about {} or more of them), they are LEFT "
        "OUT of the message, so capacity drops instead of allocatable",
        plan.advertised, Bytes(plan.unhealthy_bytes), Bytes(plan.healthy_bytes), lim, spare));
  }
  return plan;
}

DeviceSet::DeviceSet(Layout layout) : layout_(std::move(layout)) {
  uint64_t end = 0;
  for (const auto& b : layout_.blocks) {
    end += b.count;
    block_end_.push_back(end);
  }
}

int64_t DeviceSet::NumaOf(uint64_t index) const {
  auto it = std::upper_bound(block_end_.begin(), block_end_.end(), index);
  if (it == block_end_.end()) return -1;
  return layout_.blocks[size_t(it - block_end_.begin())].numa;
}

std::optional<uint64_t> DeviceSet::Find(std::string_view id) const {
  uint64_t index;
  const std::string& prefix = layout_.id_prefix;
  if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  id.remove_prefix(prefix.size());
  if (!ParseIndex(layout_.ids, id, &index) || index >= size()) return std::nullopt;
  return index;
}

size_t DeviceSet::FullSize(const std::vector<bool>& healthy) const {
  size_t total = 0;
  uint64_t i = 0;
  for (const auto& b : layout_.blocks) {
    size_t topo = layout_.topology ? TopologyFieldSize(b.numa) : 0;
    ForEachIdRun(layout_.ids, i, i + b.count, [&](size_t len, uint64_t n) {
      const size_t id_len = layout_.id_prefix.size() + len;
      size_t h = EntrySize(id_len, true, topo), u = EntrySize(id_len, false, topo);
      for (uint64_t k = 0; k < n; ++k, ++i) total += healthy[i] ? h : u;
    });
  }
  return total;
}

DeviceSet::Message DeviceSet::Encode(const std::vector<bool>& healthy) const {
  assert(healthy.size() == size());
  Message m;
  size_t full = FullSize(healthy);
  bool list_unhealthy = full <= layout_.limit;
  auto out = std::make_shared<std::string>();
  out->reserve(list_unhealthy ? full : layout_.healthy_bytes);
  uint64_t i = 0;
  for (const auto& b : layout_.blocks) {
    for (uint64_t k = 0; k < b.count; ++k, ++i) {
      bool h = healthy[i];
      if (!h && !list_unhealthy) {
        ++m.unhealthy_omitted;
        continue;
      }
      std::string id = Id(i);
      std::string_view health = h ? kHealthy : kUnhealthy;
      size_t topo = layout_.topology ? TopologyFieldSize(b.numa) : 0;
      out->push_back(0x0a);  // devices = 1, length-delimited
      PutVarint(*out, DeviceBodySize(id.size(), h, topo));
      out->push_back(0x0a);  // ID = 1
      PutVarint(*out, id.size());
      out->append(id);
      out->push_back(0x12);  // health = 2
      PutVarint(*out, health.size());
      out->append(health);
      if (layout_.topology) {
        size_t node_body = b.numa == 0 ? 0 : 1 + VarintSize(uint64_t(b.numa));
        out->push_back(0x1a);  // topology = 3
        PutVarint(*out, 1 + VarintSize(node_body) + node_body);
        out->push_back(0x0a);  // TopologyInfo.nodes = 1
        PutVarint(*out, node_body);
        if (b.numa != 0) {
          out->push_back(0x08);  // NUMANode.ID = 1, varint
          PutVarint(*out, uint64_t(b.numa));
        }
      }
      ++m.listed;
      if (h) {
        ++m.healthy;
      } else {
        ++m.unhealthy_listed;
      }
    }
  }
  // The plan guarantees this: a message lists all devices only when that fits, and otherwise
  // only healthy ones, which is never more than the all-Healthy message the plan checked.
  assert(out->size() <= layout_.limit);
  m.bytes = std::move(out);
  return m;
}

}  // namespace confcom::deviceplugin
