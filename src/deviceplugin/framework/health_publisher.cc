#include "deviceplugin/framework/health_publisher.h"

#include <spdlog/spdlog.h>

namespace confcom::deviceplugin {

void PublishHealth(Hub& hub_ref, const std::string& resource_name, const Health& h,
                   PluginStats& stats) {
  Hub* hub = &hub_ref;
  const DeviceSet& set = *hub->set;
  std::vector<bool> healthy(set.size(), true);
  uint64_t i = 0;
  const auto& blocks = set.layout().blocks;
  for (size_t b = 0; b < blocks.size(); ++b) {
    bool ok = b < h.blocks.size() ? h.blocks[b] : true;
    for (uint64_t k = 0; k < blocks[b].count; ++k) healthy[i++] = ok;
  }
  {
    std::lock_guard l(hub->mu);
    if (hub->message.bytes && healthy == hub->healthy) return;
  }
  auto t0 = Clock::now();
  DeviceSet::Message m = set.Encode(healthy);
  auto ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::vector<std::shared_ptr<ListAndWatchReactor>> streams;
  Snapshot snap;
  {
    std::lock_guard l(hub->mu);
    hub->healthy = std::move(healthy);
    hub->reason = h.reason;
    hub->message.bytes = m.bytes;
    hub->message.version++;
    snap = hub->message;
    streams.assign(hub->streams.begin(), hub->streams.end());
  }
  stats.messages++;
  uint64_t unhealthy = m.unhealthy_listed + m.unhealthy_omitted;
  stats.healthy = m.healthy;
  stats.unhealthy = unhealthy;
  stats.message_bytes = m.bytes->size();
  if (unhealthy == 0) {
    spdlog::info("{}: ListAndWatch message v{}: {} devices, all Healthy, {} bytes ({:.1f} ms)",
                 resource_name, snap.version, m.listed, m.bytes->size(), ms);
  } else {
    spdlog::warn(
        "{}: ListAndWatch message v{}: {} of {} devices Unhealthy ({}), {} listed as "
        "Unhealthy, {} left out; {} bytes of {} allowed",
        resource_name, snap.version, unhealthy, set.size(), h.reason, m.unhealthy_listed,
        m.unhealthy_omitted, m.bytes->size(), set.layout().limit);
  }
  for (auto& s : streams) s->Push(snap);
}

}  // namespace confcom::deviceplugin
