#include "helper/memory_budget.h"

#include <string>

#include "aesm/framing.h"

namespace confcom::helper {

bool MemoryBudget::TryCharge(size_t bytes) {
  int64_t now = charged_->load();
  do {
    if (size_t(now) + bytes > limit_) return false;
  } while (!charged_->compare_exchange_weak(now, now + int64_t(bytes)));
  UpdatePeak(now + int64_t(bytes));
  return true;
}

void MemoryBudget::ForceCharge(size_t bytes) { UpdatePeak(*charged_ += int64_t(bytes)); }

void MemoryBudget::Release(size_t bytes) { *charged_ -= int64_t(bytes); }

void MemoryBudget::UpdatePeak(int64_t value) {
  int64_t peak = peak_->load();
  while (value > peak && !peak_->compare_exchange_weak(peak, value)) {
  }
}

Status MemoryBudget::CheckHolds(size_t limit, size_t connections, uint32_t max_frame_size,
                                int loops, size_t max_reply_size) {
  const uint64_t requests =
      uint64_t(connections) * (uint64_t(max_frame_size) + aesm::kFrameHeaderSize);
  const uint64_t replies = uint64_t(loops) * (uint64_t(max_reply_size) + aesm::kFrameHeaderSize);
  if (requests + replies <= limit) return Status::Ok();
  const uint64_t mib = 1u << 20;
  return Status::InvalidArgument(
      "the memory budget of " + std::to_string(limit / mib) +
      " MiB (--max-buffered-mib) is smaller "
      "than " +
      std::to_string(connections) + " connections (--max-connections) x " +
      std::to_string(max_frame_size) + "-byte requests (--max-frame-size) + " +
      std::to_string(loops) + " thread(s) x " + std::to_string(max_reply_size) +
      "-byte replies = " + std::to_string((requests + replies + mib - 1) / mib) +
      " MiB: clients sending only request headers could fill it and lock everyone out. Raise "
      "--max-buffered-mib or lower --max-connections or --max-frame-size");
}

}  // namespace confcom::helper
