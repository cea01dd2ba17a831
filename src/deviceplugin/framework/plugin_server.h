// The generic kubelet device plugin: one Resource, served on <dir>/<endpoint>.
//
// Start() plans the device layout (DeviceSet) and starts a control thread that serves
// v1beta1.DevicePlugin, registers on <dir>/kubelet.sock (backoff 100 ms doubling to 5 s), and
// serves and registers again when kubelet deletes our socket, restarts or drops our last
// ListAndWatch stream; health changes seen with inotify reach every open stream at once. The
// life cycle in full: docs/device-plugin.md, "Life cycle". The gRPC service and its checks of
// kubelet's requests: device_plugin_service.h; the streams: list_and_watch.h.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/framework/plugin_stats.h"
#include "deviceplugin/framework/preferred_allocation.h"
#include "deviceplugin/framework/resource.h"

namespace confcom::deviceplugin {

inline constexpr const char* kDefaultDevicePluginDir = "/var/lib/kubelet/device-plugins";
inline constexpr const char* kKubeletSocket = "kubelet.sock";
inline constexpr const char* kApiVersion = "v1beta1";

struct PluginOptions {
  std::string dir = kDefaultDevicePluginDir;
  size_t max_message_bytes = kKubeletMaxMessageBytes;
  std::chrono::milliseconds register_timeout{15000};  // kubelet may take 10 s to dial back
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds recheck{5000};
};

// Thread-safe: Start() and Stop() from one thread; devices(), resource_name() and stats() from
// any thread once Start() returned Ok (the gRPC and control threads are internal).
class PluginServer {
 public:
  PluginServer(std::shared_ptr<Resource> resource, PluginOptions options);
  // Stop().
  ~PluginServer();
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  // Plans the layout (its warnings logged), publishes the first health and starts the control
  // thread, which serves and registers: kubelet being absent is not an error. Errors: Internal
  // when already started; the error of creating `dir` or of the control thread's eventfd.
  Status Start();
  // Ends the streams, joins the control thread, shuts the server down and removes our socket.
  // Idempotent; harmless before Start().
  void Stop();

  // The planned devices. Only after Start() returned Ok (before, there is no plan).
  const DeviceSet& devices() const;
  // The resource's name, e.g. "sgx.intel.com/enclave".
  std::string resource_name() const;
  // The counters behind the metrics (metrics.h); valid for the server's life.
  const PluginStats& stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace confcom::deviceplugin
