// ListAndWatch streams and the state they share with the gRPC service and the control thread.
//
// Hub: the device set, the current health, the current encoded message (a Snapshot with a
// version) and the open streams, under one mutex (health_publisher.h makes new messages).
// ListAndWatchReactor: one stream. It writes one message at a time; a newer message replaces
// a queued one (each message is the whole list, so only the latest matters); messages are
// shared between streams without copies. gRPC calls are made without our locks held. The
// reactor removes itself from the Hub when gRPC is done with it and, when the peer ended the
// stream, calls Hub::on_peer_ended with how long the stream lived.
#pragma once

#include <chrono>
#include <functional>
#include <grpcpp/grpcpp.h>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "deviceplugin/framework/device_set.h"

namespace confcom::deviceplugin {

using Clock = std::chrono::steady_clock;

struct Snapshot {
  std::shared_ptr<const std::string> bytes;
  uint64_t version = 0;
};

class ListAndWatchReactor;

// Thread-safe: `set` and `on_peer_ended` are set before serving (on_peer_ended cleared after)
// and then read without the lock; every other field only under `mu`.
struct Hub {
  std::mutex mu;
  std::shared_ptr<const DeviceSet> set;
  std::vector<bool> healthy;
  std::string reason;
  Snapshot message;
  std::set<std::shared_ptr<ListAndWatchReactor>> streams;
  // Called (without locks held) when the peer ended a stream.
  std::function<void(Clock::duration lived)> on_peer_ended;

  std::shared_ptr<const DeviceSet> Set() {
    std::lock_guard l(mu);
    return set;
  }
  std::vector<std::shared_ptr<ListAndWatchReactor>> Streams() {
    std::lock_guard l(mu);
    return {streams.begin(), streams.end()};
  }
};

// Thread-safe: Push() and Stop() may be called from any thread, concurrently with gRPC's
// callbacks; its state is under its own mutex, never held together with the Hub's.
class ListAndWatchReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit ListAndWatchReactor(std::shared_ptr<Hub> hub) : hub_(std::move(hub)) {}

  // Joins the Hub and writes the current message. Called once, by the service, with the
  // shared_ptr that owns this reactor (the Hub keeps it until OnDone).
  void Begin(const std::shared_ptr<ListAndWatchReactor>& self);
  // Sends `s` unless it is not newer than what was queued or sent; replaces a queued message.
  void Push(const Snapshot& s);
  // Our side ends the stream (server stopping): finishes it with OK after the write in flight.
  void Stop();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  bool PrepareWriteLocked();
  bool PrepareFinishLocked();

  std::shared_ptr<Hub> hub_;
  Clock::time_point started_ = Clock::now();
  std::mutex mu_;
  std::shared_ptr<const std::string> pending_;
  uint64_t queued_version_ = 0;
  grpc::ByteBuffer buf_;
  bool writing_ = false, finishing_ = false, stop_requested_ = false, cancelled_ = false,
       broken_ = false;
};

}  // namespace confcom::deviceplugin
