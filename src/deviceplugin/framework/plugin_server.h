// The generic kubelet device plugin: one Resource, served on <dir>/<endpoint>.
//
// Start() plans the device layout (DeviceSet; warnings logged) and starts a control thread
// that owns the life cycle:
//   - serve gRPC v1beta1.DevicePlugin on the socket, then call v1beta1.Registration/Register
//     on <dir>/kubelet.sock (on the control thread; the gRPC server's own threads answer
//     kubelet's dial-back meanwhile). While kubelet is absent, retry with exponential backoff
//     (100 ms doubling to 5 s), logging each failure at warn once and then at debug;
//   - inotify on <dir>: our socket deleted -> stop the old server, serve a new one, register;
//     kubelet.sock created -> register at once (backoff reset). A stat of our socket every
//     `recheck` is only a safety net for lost events;
//   - inotify on the resource's WatchDirs(): re-check health; a change is pushed at once to
//     every open ListAndWatch stream as a complete new message;
//   - kubelet ended a ListAndWatch stream (it drops a stream it cannot take) and has no other
//     stream open 500 ms later (nor after our last registration) -> register again, with a
//     backoff that grows while streams keep ending within 10 s (a misbehaving peer must not
//     make us register in a tight loop). kubelet.sock appearing is ignored when it is the
//     very socket (device, inode) we registered with.
// ListAndWatch messages are encoded once per change (health_publisher.h) and shared by every
// stream without copies (list_and_watch.h). The gRPC service and its checks of kubelet's
// requests are in device_plugin_service.h. The control loop is a state struct (Impl::Loop)
// whose fields the events above set.
// Stop() ends the streams, shuts the server down and removes our socket. Thread-safe.
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

class PluginServer {
 public:
  PluginServer(std::shared_ptr<Resource> resource, PluginOptions options);
  ~PluginServer();
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  Status Start();
  void Stop();

  const DeviceSet& devices() const;  // after Start()
  std::string resource_name() const;
  const PluginStats& stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace confcom::deviceplugin
