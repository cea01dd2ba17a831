#include "aesm/framing.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/bytes.h"

namespace confcom::aesm {

std::string EncodeFrame(std::string_view payload) {
  std::string out(kFrameHeaderSize + payload.size(), '\0');
  StoreLe32(reinterpret_cast<uint8_t*>(out.data()), uint32_t(payload.size()));
  out.replace(kFrameHeaderSize, payload.size(), payload);
  return out;
}

std::span<uint8_t> FrameReader::NextBuffer() {
  if (!error_.ok()) return {};
  if (!header_done_) return {header_ + header_filled_, kFrameHeaderSize - header_filled_};
  return {reinterpret_cast<uint8_t*>(payload_.data()) + filled_, payload_.size() - filled_};
}

Status FrameReader::Commit(size_t n) {
  if (!error_.ok()) return error_;
  if (!header_done_) {
    header_filled_ += n;
    if (header_filled_ < kFrameHeaderSize) return Status::Ok();
    declared_ = LoadLe32(header_);
    if (declared_ == 0) {
      error_ = Status::InvalidArgument("frame declares a zero-length message");
      return error_;
    }
    if (declared_ > max_size_) {
      error_ =
          Status::InvalidArgument("frame declares " + std::to_string(declared_) +
                                  " bytes, more than the limit of " + std::to_string(max_size_));
      return error_;
    }
    header_done_ = true;
    payload_.assign(declared_, '\0');
    return Status::Ok();
  }
  filled_ += n;
  return Status::Ok();
}

namespace {

// Waits until `fd` is ready for `events` or the deadline passes.
Status WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto now = Clock::now();
    if (now >= deadline) return Status::DeadlineExceeded("timed out waiting for the peer");
    // Round up so we never wake before the deadline and spin.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, int(left.count()));
    if (r > 0) return Status::Ok();
    if (r < 0 && errno != EINTR) return Status::FromErrno("poll", errno);
  }
}

}  // namespace

Status WriteAll(int fd, std::string_view data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    CONFCOM_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline));
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return Status::IoError("peer closed the connection while we were writing");
      }
      return Status::FromErrno("send", errno);
    }
    done += size_t(n);
  }
  return Status::Ok();
}

Status WriteFrame(int fd, std::string_view payload, Clock::time_point deadline) {
  return WriteAll(fd, EncodeFrame(payload), deadline);
}

Result<std::string> ReadFrame(int fd, uint32_t max_payload_size, Clock::time_point deadline) {
  FrameReader reader(max_payload_size);
  while (!reader.complete()) {
    CONFCOM_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline));
    auto buf = reader.NextBuffer();
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (errno == ECONNRESET) return Status::IoError("peer reset the connection");
      return Status::FromErrno("recv", errno);
    }
    if (n == 0) {
      return Status::IoError(reader.started() ? "peer closed the connection mid-frame"
                                              : "peer closed the connection without a reply");
    }
    CONFCOM_RETURN_IF_ERROR(reader.Commit(size_t(n)));
  }
  return reader.TakePayload();
}

}  // namespace confcom::aesm
