// The device plugin's Prometheus metrics (confcom_device_plugin_*: devices by health,
// advertised devices, allocations, refusals, registrations, ListAndWatch message bytes, info),
// read from each PluginServer's stats at scrape time. Each metric and its meaning:
// docs/operator-guide.md, the metrics table.
#pragma once

#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/framework/plugin_server.h"

namespace confcom::deviceplugin {

struct PluginMetricsSource {
  std::string resource;        // the `resource` label
  const PluginServer* server;  // started (devices() is read), outliving the collector
};

// A collector over `sources`; epc_source and simulated label confcom_device_plugin_info.
// Never fails. Collect() only reads atomics and immutable plans: thread-safe.
std::shared_ptr<prometheus::Collectable> MakePluginCollector(
    std::vector<PluginMetricsSource> sources, std::string epc_source, bool simulated);

}  // namespace confcom::deviceplugin
