// Rate limits for log lines that clients can trigger at will (bad requests, refusals, time-outs):
// a hostile client must not be able to flood the node's log or hide other events in it.
//
// A LogLimiter lets `burst` lines through, then one more each `interval / burst`; lines over
// the limit are counted, and the next line let through reports how many were dropped. One
// limiter per kind of event; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <spdlog/spdlog.h>
#include <string>
#include <utility>

namespace confcom {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(int burst = 10, std::chrono::milliseconds interval = std::chrono::seconds(1))
      : burst_(burst), refill_every_(interval / (burst > 0 ? burst : 1)), tokens_(burst) {}

  // True when this line may be logged; then *suppressed is the number of lines dropped since
  // the last one let through (to be mentioned in it).
  bool Allow(uint64_t* suppressed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    if (last_refill_ == Clock::time_point{}) last_refill_ = now;
    if (refill_every_.count() > 0) {
      auto gained = (now - last_refill_) / refill_every_;
      if (gained > 0) {
        tokens_ = int(std::min<int64_t>(burst_, tokens_ + gained));
        last_refill_ += refill_every_ * gained;
      }
    }
    if (tokens_ <= 0) {
      ++dropped_;
      return false;
    }
    --tokens_;
    *suppressed = dropped_;
    dropped_ = 0;
    return true;
  }

 private:
  std::mutex mu_;
  const int burst_;
  const Clock::duration refill_every_;
  int tokens_;
  Clock::time_point last_refill_{};
  uint64_t dropped_ = 0;
};

// Logs a warning through `limiter`, mentioning the lines it dropped before.
template <typename... Args>
void LimitedWarn(LogLimiter& limiter, spdlog::format_string_t<Args...> format, Args&&... args) {
  uint64_t dropped = 0;
  if (!limiter.Allow(&dropped)) return;
  std::string line = fmt::format(format, std::forward<Args>(args)...);
  if (dropped > 0) line += " (" + std::to_string(dropped) + " similar line(s) suppressed)";
  spdlog::warn("{}", line);
}

}  // namespace confcom
