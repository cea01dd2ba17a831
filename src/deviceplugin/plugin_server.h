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
// ListAndWatch messages are encoded once per change (DeviceSet::Encode, never above the
// limit) and shared by every stream without copies. Allocate fails the whole call with
// INVALID_ARGUMENT for an unknown ID and FAILED_PRECONDITION for an unhealthy one.
// Stop() ends the streams, shuts the server down and removes our socket. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "deviceplugin/device_set.h"
#include "deviceplugin/resource.h"

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

struct PluginStats {
  std::atomic<uint64_t> registrations{0};
  std::atomic<uint64_t> register_failures{0};
  std::atomic<uint64_t> serves{0};     // servers bound (1 + restarts)
  std::atomic<uint64_t> messages{0};   // distinct ListAndWatch messages built
  std::atomic<uint64_t> allocations{0};
  std::atomic<uint64_t> allocated_devices{0};  // device IDs handed out by successful Allocates
  std::atomic<uint64_t> healthy{0};            // in the newest ListAndWatch message
  std::atomic<uint64_t> unhealthy{0};
  std::atomic<uint64_t> message_bytes{0};      // size of the newest ListAndWatch message
};

class PluginServer {
 public:
  PluginServer(std::shared_ptr<Resource> resource, PluginOptions options);
  ~PluginServer();
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  Status Start();
  void Stop();

  const DeviceSet& devices() const;
  const PluginStats& stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The preferred allocation policy, exposed for tests: `size` devices out of `available`
// (indexes), containing `must`, from one NUMA node when one can hold them (the node with the
// fewest free devices that is big enough, keeping large free nodes for large requests), else
// from the fewest nodes (largest first). Lowest indexes first inside a node.
std::vector<uint64_t> PreferDevices(const DeviceSet& set, const std::vector<uint64_t>& available,
                                    const std::vector<uint64_t>& must, size_t size);

}  // namespace confcom::deviceplugin
