// Small helpers shared by the fault tests: timing, percentiles, another process's fd count and
// memory, whether the build runs under ASan.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace confcom::faults {

using Clock = std::chrono::steady_clock;

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The p-th percentile (0..100) of `values` (nearest rank); 0 when empty.
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = size_t(p / 100.0 * double(values.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

inline double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

// Whether this build runs under ASan, whose shadow memory and quarantine of freed blocks (up to
// 256 MiB by default) the fault tests' RSS bounds must allow for.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or -1.
inline long StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Open descriptors of process `pid` (entries of /proc/<pid>/fd), or -1.
inline int FdCountOf(pid_t pid) {
  std::error_code ec;
  int n = 0;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
  if (ec) return -1;
  for (; it != end; it.increment(ec)) {
    if (ec) return -1;
    ++n;
  }
  return n;
}

}  // namespace confcom::faults
