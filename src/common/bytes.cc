#include "common/bytes.h"

namespace confcom {

std::string ToHex(ByteSpan bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  if (hex.size() % 2 != 0) {
    return Status::InvalidArgument("hex string has an odd number of digits (" +
                                   std::to_string(hex.size()) + ")");
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      size_t pos = hi < 0 ? 2 * i : 2 * i + 1;
      return Status::InvalidArgument("not a hex digit at position " + std::to_string(pos) + ": '" +
                                     std::string(1, hex[pos]) + "'");
    }
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

Result<Bytes> FromHexExact(std::string_view hex, size_t size, std::string_view what) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  if (bytes->size() != size) {
    return Status::InvalidArgument(std::string(what) + ": expected " + std::to_string(size) +
                                   " bytes (" + std::to_string(2 * size) + " hex digits), got " +
                                   std::to_string(bytes->size()));
  }
  return bytes;
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace confcom
