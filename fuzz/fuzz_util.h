// Shared helpers of the libFuzzer targets (header-only; see fuzz/README.md).
//
// FUZZ_CHECK(cond, msg) is an invariant of the code under test: when it fails the input is a
// finding, so it prints the message and aborts (libFuzzer then saves the input as crash-*).
#pragma once

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "testing/test_util.h"

#define FUZZ_CHECK(cond, msg)                                                                   \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                                   \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace confcom::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The committed fixed data (fuzz/data): $CONFCOM_FUZZ_DATA_DIR, else the source folder the
// fuzzers were built from.
inline std::string DataDir() {
  if (const char* d = std::getenv("CONFCOM_FUZZ_DATA_DIR"); d != nullptr && *d != '\0') return d;
#ifdef CONFCOM_FUZZ_DATA_DIR
  return CONFCOM_FUZZ_DATA_DIR;
#else
  return "fuzz/data";
#endif
}

// Quiet: the code under test logs refusals at warn; a fuzzer makes millions of them.
inline void QuietLogs() { spdlog::set_level(spdlog::level::off); }

// Fuzzers and the seed generator use the tests' temporary directories.
using TempDir = confcom::testing::TempDir;

// Splits fuzz input deterministically: small integers taken from the front.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  size_t remaining() const { return n_; }
  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::string_view Take(size_t k) {
    k = k < n_ ? k : n_;
    std::string_view v(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return v;
  }
  std::string_view Rest() { return Take(n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace confcom::fuzz
