// The device plugin's Prometheus metrics, read from each PluginServer at scrape time:
//   confcom_device_plugin_devices{resource,health}            devices in the newest ListAndWatch message
//   confcom_device_plugin_advertised_devices{resource}        capacity (one device per MiB for EPC)
//   confcom_device_plugin_allocated_devices_total{resource}   distinct devices handed out by
//                                                             successful Allocate calls
//   confcom_device_plugin_allocations_total{resource}         successful Allocate calls
//   confcom_device_plugin_refused_total{resource}             Allocate/GetPreferredAllocation
//                                                             calls refused (bad or hostile input)
//   confcom_device_plugin_registrations_total{resource}       successful registrations with kubelet
//   confcom_device_plugin_register_failures_total{resource}
//   confcom_device_plugin_listandwatch_message_bytes{resource} (kubelet's limit: 4194304)
//   confcom_device_plugin_info{version,epc_source,simulated}  1
#pragma once

#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/framework/plugin_server.h"

namespace confcom::deviceplugin {

struct PluginMetricsSource {
  std::string resource;
  const PluginServer* server;
};

std::shared_ptr<prometheus::Collectable> MakePluginCollector(
    std::vector<PluginMetricsSource> sources, std::string epc_source, bool simulated);

}  // namespace confcom::deviceplugin
