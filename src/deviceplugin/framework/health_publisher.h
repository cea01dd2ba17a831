// Health publishing: a resource's Health (per inventory block) becomes a device health vector,
// and, only when that vector changed, a new ListAndWatch message (DeviceSet::Encode, never
// above the plan's limit) with the next version, logged with its numbers and pushed to every
// open stream of the Hub.
#pragma once

#include <string>

#include "deviceplugin/framework/list_and_watch.h"
#include "deviceplugin/framework/plugin_stats.h"
#include "deviceplugin/framework/resource.h"

namespace confcom::deviceplugin {

// Publishes `h` (blocks missing from h.blocks count as healthy) as described above; returns
// nothing and never fails. `hub.set` must be planned. One caller at a time (PluginServer::Start,
// then its control thread); the Hub's streams may be served concurrently.
void PublishHealth(Hub& hub, const std::string& resource_name, const Health& h, PluginStats& stats);

}  // namespace confcom::deviceplugin
