// AESM framing: a 4-byte little-endian length, then exactly that many bytes of protobuf.
//
// FrameReader assembles one frame from reads of any size and never asks for a byte past the
// end of the frame (one request per connection: anything after it is not ours to read).
// It rejects a zero length and any length above its bound as soon as the header is complete,
// before reading the body. ReadFrame/WriteFrame are blocking helpers with a deadline for
// clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::aesm {

// Requests are at most ~2 KiB (GetQuoteEx with qe_report_info); responses carry a quote of
// a few KiB. 64 KiB bounds both generously.
inline constexpr uint32_t kDefaultMaxFrameSize = 64 * 1024;
inline constexpr size_t kFrameHeaderSize = 4;

// The 4-byte length followed by `payload`; pure.
std::string EncodeFrame(std::string_view payload);

// One frame from one connection; not thread-safe (each connection owns its reader).
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_payload_size = kDefaultMaxFrameSize)
      : max_size_(max_payload_size) {}

  // Where the next read should go; its size is exactly what the frame still lacks.
  std::span<uint8_t> NextBuffer();
  // Records that `n` bytes were read into NextBuffer(). Fails (and stays failed) on a zero
  // or oversize length (InvalidArgument naming the length).
  Status Commit(size_t n);

  // Whether the whole frame has arrived.
  bool complete() const { return header_done_ && payload_.size() == filled_; }
  // Whether any byte of the frame has arrived.
  bool started() const { return header_filled_ > 0; }
  // Valid once complete().
  std::string_view payload() const { return {payload_.data(), payload_.size()}; }
  // Moves the payload out (valid once complete()); the reader is spent afterwards.
  std::string TakePayload() { return std::move(payload_); }
  // The length the header declared (0 until the header is complete).
  uint32_t declared_size() const { return declared_; }

 private:
  uint32_t max_size_;
  uint8_t header_[kFrameHeaderSize] = {};
  size_t header_filled_ = 0;
  bool header_done_ = false;
  uint32_t declared_ = 0;
  std::string payload_;
  size_t filled_ = 0;
  Status error_;
};

using Clock = std::chrono::steady_clock;

// Blocking I/O on a connected stream socket, each call bounded by `deadline`. Errors:
// DeadlineExceeded at the deadline; IoError when the peer closes or resets; errno's code for
// other failures of poll/send/recv.
Status WriteAll(int fd, std::string_view data, Clock::time_point deadline);
Status WriteFrame(int fd, std::string_view payload, Clock::time_point deadline);
// One whole frame's payload; also FrameReader's InvalidArgument for a bad length.
Result<std::string> ReadFrame(int fd, uint32_t max_payload_size, Clock::time_point deadline);

}  // namespace confcom::aesm
