// The bytes a server's connections may hold together for requests and replies. A request is
// charged as soon as its header declares its size, a reply's room before its handler runs;
// both are given back as soon as they are no longer needed. When nothing fits, the server
// closes the request unread or answers it BUSY (frame_server.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace confcom::helper {

// Thread safety: every method may be called from any thread (lock-free atomics).
class MemoryBudget {
 public:
  // `limit` bytes. The count is kept in `charged` and its high-water mark in `peak`, the
  // caller's counters (FrameServerStats exports them); both must outlive the budget.
  MemoryBudget(size_t limit, std::atomic<int64_t>* charged, std::atomic<int64_t>* peak)
      : limit_(limit), charged_(charged), peak_(peak) {}

  // Charges `bytes` if the total stays within the limit: true; otherwise false, nothing charged.
  bool TryCharge(size_t bytes);
  // Charges `bytes` even past the limit (a short BUSY reply: answering costs a few bytes).
  void ForceCharge(size_t bytes);
  // Gives back `bytes` charged earlier.
  void Release(size_t bytes);

  size_t limit() const { return limit_; }
  // Bytes charged now.
  int64_t charged() const { return charged_->load(); }

  // OK when `limit` holds `connections` requests of `max_frame_size` bytes and `loops` replies
  // of `max_reply_size` bytes (each with its frame header), so that clients sending only
  // request headers cannot fill it; otherwise InvalidArgument naming the sizes and the flags
  // that set them (--max-buffered-mib, --max-connections, --max-frame-size).
  static Status CheckHolds(size_t limit, size_t connections, uint32_t max_frame_size, int loops,
                           size_t max_reply_size);

 private:
  void UpdatePeak(int64_t value);

  const size_t limit_;
  std::atomic<int64_t>* charged_;
  std::atomic<int64_t>* peak_;
};

}  // namespace confcom::helper
