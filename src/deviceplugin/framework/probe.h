// The readiness and liveness check of a device plugin: dial its socket as kubelet does
// (kube/kubelet_dial.h) and ask GetDevicePluginOptions within a deadline. What a DaemonSet's
// exec probe runs (`sgx-device-plugin --probe`), so a plugin that serves is seen as kubelet
// sees it, whether or not kubelet is there.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::deviceplugin {

// Returns Ok when the socket at `path` answers GetDevicePluginOptions within `timeout`.
// Errors, each message naming `path`: NotFound (nothing there: the plugin is not serving),
// InvalidArgument (not a socket), Unavailable (no answer in time; with gRPC's message and
// code). Thread-safe.
Status ProbePluginSocket(const std::string& path, std::chrono::milliseconds timeout);

// Probes each of `endpoints` (socket names in `dir`) and prints one line per socket on stdout:
// "ok: ... answers", or "<program> probe: <why>", with "(the plugin is not serving;
// <not_serving_hint>)" when nothing is there. Returns true when every one answers. Thread-safe.
bool ProbePluginSockets(const std::string& dir, const std::vector<std::string>& endpoints,
                        std::chrono::milliseconds timeout, const std::string& program,
                        const std::string& not_serving_hint);

}  // namespace confcom::deviceplugin
