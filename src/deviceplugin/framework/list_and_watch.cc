#include "deviceplugin/framework/list_and_watch.h"

#include <spdlog/spdlog.h>

namespace confcom::deviceplugin {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::shared_ptr<const std::string>& bytes) {
  if (bytes->empty()) {
    // A default ByteBuffer is "no message" to gRPC (an abort); an empty list is zero bytes.
    grpc::Slice empty(std::string{});
    return grpc::ByteBuffer(&empty, 1);
  }
  // The slice borrows the shared string: no copy of up to 4 MiB per stream and message.
  auto* hold = new std::shared_ptr<const std::string>(bytes);
  grpc::Slice slice(
      const_cast<char*>(bytes->data()), bytes->size(),
      [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); }, hold);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

void ListAndWatchReactor::Begin(const std::shared_ptr<ListAndWatchReactor>& self) {
  Snapshot first;
  {
    std::lock_guard l(hub_->mu);
    hub_->streams.insert(self);
    first = hub_->message;
  }
  Push(first);
}

void ListAndWatchReactor::Push(const Snapshot& s) {
  bool start = false;
  {
    std::lock_guard l(mu_);
    if (finishing_ || s.version <= queued_version_) return;
    queued_version_ = s.version;
    pending_ = s.bytes;
    start = PrepareWriteLocked();
  }
  if (start) StartWrite(&buf_);
}

// Our side ends the stream (server stopping).
void ListAndWatchReactor::Stop() {
  bool finish = false;
  {
    std::lock_guard l(mu_);
    stop_requested_ = true;
    finish = PrepareFinishLocked();
  }
  if (finish) Finish(grpc::Status::OK);
}

void ListAndWatchReactor::OnWriteDone(bool ok) {
  bool start = false, finish = false;
  {
    std::lock_guard l(mu_);
    writing_ = false;
    if (!ok) broken_ = true;
    if (!broken_ && !cancelled_ && !stop_requested_) start = PrepareWriteLocked();
    if (!start) finish = PrepareFinishLocked();
  }
  if (start) StartWrite(&buf_);
  if (finish) Finish(broken_ ? grpc::Status::CANCELLED : grpc::Status::OK);
}

void ListAndWatchReactor::OnCancel() {
  bool finish = false;
  {
    std::lock_guard l(mu_);
    cancelled_ = true;
    finish = PrepareFinishLocked();
  }
  if (finish) Finish(grpc::Status::CANCELLED);
}

void ListAndWatchReactor::OnDone() {
  bool by_peer;
  {
    std::lock_guard l(mu_);
    by_peer = !stop_requested_;
  }
  auto hub = hub_;  // `this` may be deleted by the erase below
  Clock::duration lived = Clock::now() - started_;
  {
    std::lock_guard l(hub->mu);
    for (auto it = hub->streams.begin(); it != hub->streams.end(); ++it) {
      if (it->get() == this) {
        hub->streams.erase(it);
        break;
      }
    }
  }
  if (by_peer && hub->on_peer_ended) hub->on_peer_ended(lived);
}

bool ListAndWatchReactor::PrepareWriteLocked() {
  if (writing_ || finishing_ || !pending_) return false;
  writing_ = true;
  buf_ = ToByteBuffer(pending_);
  pending_.reset();
  return true;
}
bool ListAndWatchReactor::PrepareFinishLocked() {
  if (writing_ || finishing_) return false;
  if (!broken_ && !cancelled_ && !stop_requested_) return false;
  finishing_ = true;
  return true;
}

}  // namespace confcom::deviceplugin
