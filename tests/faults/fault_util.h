// Small helpers shared by the fault tests: timing, percentiles, another process's fd count.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
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
