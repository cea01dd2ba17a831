#include "deviceplugin/framework/preferred_allocation.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace confcom::deviceplugin {

std::vector<uint64_t> PreferDevices(const DeviceSet& set, const std::vector<uint64_t>& available,
                                    const std::vector<uint64_t>& must, size_t size) {
  std::vector<uint64_t> out(must.begin(), must.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() >= size) return out;
  size_t needed = size - out.size();
  std::set<uint64_t> taken(out.begin(), out.end());
  std::map<int64_t, std::vector<uint64_t>> free;  // NUMA node -> free devices
  for (uint64_t i : available) {
    if (!taken.count(i)) free[set.NumaOf(i)].push_back(i);
  }
  for (auto& [n, v] : free) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  std::set<int64_t> must_nodes;
  for (uint64_t i : out) must_nodes.insert(set.NumaOf(i));

  auto take = [&](int64_t node, size_t n) {
    auto& v = free[node];
    n = std::min(n, v.size());
    out.insert(out.end(), v.begin(), v.begin() + long(n));
    v.erase(v.begin(), v.begin() + long(n));
    needed -= n;
  };
  // One node: the must-include node if there is exactly one, else the best fit.
  if (must_nodes.size() <= 1) {
    std::optional<int64_t> best;
    for (const auto& [node, v] : free) {
      if (!must_nodes.empty() && node != *must_nodes.begin()) continue;
      if (v.size() >= needed && (!best || v.size() < free[*best].size())) best = node;
    }
    if (best) {
      take(*best, needed);
      return out;
    }
  }
  // Fewest nodes: the must-include nodes first, then the largest free nodes.
  std::vector<int64_t> order(must_nodes.begin(), must_nodes.end());
  std::vector<int64_t> rest;
  for (const auto& [node, v] : free) {
    if (!must_nodes.count(node)) rest.push_back(node);
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [&](int64_t a, int64_t b) { return free[a].size() > free[b].size(); });
  order.insert(order.end(), rest.begin(), rest.end());
  for (int64_t node : order) {
    if (needed == 0) break;
    take(node, needed);
  }
  return out;
}

namespace {

class NumaPacking final : public PreferredAllocator {
 public:
  std::vector<uint64_t> Prefer(const DeviceSet& set, const std::vector<uint64_t>& available,
                               const std::vector<uint64_t>& must, size_t size) const override {
    return PreferDevices(set, available, must, size);
  }
};

}  // namespace

std::shared_ptr<const PreferredAllocator> MakeNumaPackingAllocator() {
  return std::make_shared<NumaPacking>();
}

}  // namespace confcom::deviceplugin
