// Byte helpers: hex encoding, little-endian loads/stores, constant-time comparison. All pure;
// the loads and stores read or write exactly 2, 4 or 8 bytes at `p`, which the caller bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace confcom {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// Lower-case hex, two digits per byte.
std::string ToHex(ByteSpan bytes);
// Accepts upper or lower case; an optional "0x" prefix. InvalidArgument naming the offending
// position for a non-hex digit or an odd length.
Result<Bytes> FromHex(std::string_view hex);
// Like FromHex, but the result must have exactly `size` bytes (else InvalidArgument naming
// `what`).
Result<Bytes> FromHexExact(std::string_view hex, size_t size, std::string_view what);

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline uint16_t LoadLe16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t LoadLe64(const uint8_t* p) {
  return uint64_t(LoadLe32(p)) | uint64_t(LoadLe32(p + 4)) << 32;
}
inline void StoreLe16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

// Compares in time independent of where the inputs differ.
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace confcom
