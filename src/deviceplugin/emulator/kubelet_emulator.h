// A fake kubelet for the device plugin API v1beta1, for tests (linked in-process) and for the
// sgx-kubelet-emulator binary. Like kubelet it deletes the sockets in its folder at Start(),
// serves Registration on <dir>/kubelet.sock, dials each registering plugin back as kubelet does
// (kube/kubelet_dial.h: a larger ListAndWatch message than 4 MiB fails here as it would there),
// asks GetDevicePluginOptions and follows ListAndWatch; a new registration of a resource
// replaces its old stream. It can allocate once from one resource (after GetPreferredAllocation
// when offered). Everything it sees is reported as a JSON event; the events and their fields are
// listed in docs/device-plugin.md ("The kubelet emulator").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::deviceplugin {

struct KubeletEmulatorOptions {
  std::string dir;              // the device-plugins folder (created if missing)
  bool keep_sockets = false;    // true: leave the folder's sockets alone at Start()
  std::string resource;         // the resource to allocate from
  uint64_t allocate_count = 0;  // devices to allocate after its first ListAndWatch message
  std::vector<std::string> allocate_ids;   // or exactly these IDs (then allocate_count is unused)
  bool allocate_per_registration = false;  // allocate again after each new registration of it
};

// Thread-safe: Wait() and Interrupt() may be called from any thread; Start() and Stop() from one.
class KubeletEmulator {
 public:
  // `on_event` receives every event ({"event": "registered", ...}), one call at a time, from
  // the emulator's gRPC and stream threads.
  KubeletEmulator(KubeletEmulatorOptions options,
                  std::function<void(const nlohmann::json& event)> on_event);
  // Stop().
  ~KubeletEmulator();
  KubeletEmulator(const KubeletEmulator&) = delete;
  KubeletEmulator& operator=(const KubeletEmulator&) = delete;

  // Deletes the folder's sockets (unless keep_sockets), serves kubelet.sock and reports
  // {"event":"serving","socket":PATH}. Errors: Unavailable when it cannot serve there.
  Status Start();
  // Ends every stream, stops serving and removes kubelet.sock. Idempotent.
  void Stop();

  // Blocks until Interrupt(), until `timeout` passed (<= 0: no time limit), or, with
  // `until_allocated`, until the allocation's result was reported. Returns whether it was.
  bool Wait(std::chrono::milliseconds timeout, bool until_allocated);
  // Ends every Wait(), now and later (e.g. from a signal hook).
  void Interrupt();
  // Whether the allocation failed (an "allocate_error" event): kubelet would fail the pod.
  bool allocate_failed() const;

  // The socket path of the folder's kubelet.sock.
  std::string socket_path() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace confcom::deviceplugin
