#include "webhook/quantity.h"

#include <cctype>

namespace confcom::webhook {
namespace {

constexpr int64_t kMaxValue = int64_t(1) << 62;

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("quantity '" + std::string(text.substr(0, 64)) + "': " + std::string(why));
}

}  // namespace

Result<int64_t> ParseQuantity(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return Bad(text, "empty");
  if (s.size() > 64) return Bad(text, "longer than 64 characters");
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // Digits before and after the point, kept exactly (at most 64 in all, so they fit the
  // arithmetic below only as a decimal string; we scale with care).
  std::string whole, frac;
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) whole += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) frac += s[i++];
  }
  if (whole.empty() && frac.empty()) return Bad(text, "no digits");
  std::string_view suffix = s.substr(i);
  // value = (whole.frac) * mult * 10^exp10
  int64_t mult = 1;
  int exp10 = 0;
  if (suffix.empty()) {
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    const std::string_view kBin = "KMGTPE";
    size_t k = kBin.find(suffix[0]);
    if (k == std::string_view::npos) return Bad(text, "unknown suffix");
    mult = int64_t(1) << (10 * (k + 1));
  } else if (suffix == "m") {
    exp10 = -3;
  } else if (suffix == "k") {
    exp10 = 3;
  } else if (suffix == "M") {
    exp10 = 6;
  } else if (suffix == "G") {
    exp10 = 9;
  } else if (suffix == "T") {
    exp10 = 12;
  } else if (suffix == "P") {
    exp10 = 15;
  } else if (suffix == "E") {
    exp10 = 18;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool eneg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      eneg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) return Bad(text, "bad exponent");
    int v = 0;
    for (char c : e) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return Bad(text, "bad exponent");
      v = v * 10 + (c - '0');
    }
    exp10 = eneg ? -v : v;
  } else {
    return Bad(text, "unknown suffix");
  }
  // Fold the fraction into the exponent: digits = whole+frac, exp10 -= frac.size().
  std::string digits = whole + frac;
  exp10 -= int(frac.size());
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return int64_t(0);
  digits = digits.substr(first);
  // Split into an integer part and whether a non-zero remainder was dropped (round up).
  bool remainder = false;
  if (exp10 < 0) {
    size_t drop = size_t(-exp10);
    if (drop >= digits.size()) {
      remainder = true;  // non-zero digits all below 1
      digits = "0";
    } else {
      std::string_view dropped = std::string_view(digits).substr(digits.size() - drop);
      remainder = dropped.find_first_not_of('0') != std::string_view::npos;
      digits.resize(digits.size() - drop);
    }
    exp10 = 0;
  }
  if (digits.size() + size_t(exp10) > 19) return Bad(text, "too large");
  __int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  for (int k = 0; k < exp10; ++k) v *= 10;
  if (v > kMaxValue) return Bad(text, "too large");
  if (remainder) v += 1;
  // Binary multiplier after rounding the decimal part: ceil(x * mult) with x fractional is
  // handled by scaling first when there is a fraction.
  if (mult != 1) {
    if (remainder) {
      // Redo exactly: value = ceil(N * mult / 10^drop) with N the full digit string.
      // Trailing zeros change nothing; past 30 decimal places 10^places (and N) could
      // overflow 128 bits, and no quantity the API server sends has that many.
      std::string places = frac.substr(0, frac.find_last_not_of('0') + 1);
      if (places.size() > 30) return Bad(text, "too many decimal places");
      std::string all = whole + places;
      __int128 n = 0;
      for (char c : all) {
        n = n * 10 + (c - '0');
        if (n > (__int128(1) << 100)) return Bad(text, "too large");
      }
      const __int128 kMax128 = ~(__int128(1) << 127);
      if (n > kMax128 / mult) return Bad(text, "too large");
      __int128 scaled = n * mult;
      __int128 div = 1;
      for (size_t k = 0; k < places.size(); ++k) div *= 10;
      v = scaled / div + (scaled % div != 0 ? 1 : 0);
    } else {
      v *= mult;
    }
    if (v > kMaxValue) return Bad(text, "too large");
  }
  if (negative && v != 0) return Bad(text, "negative");
  return int64_t(v);
}

std::string FormatBinaryQuantity(int64_t value) {
  if (value <= 0) return std::to_string(value);
  static const char* kSuffix[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int best = -1;
  for (int k = 0; k < 6; ++k) {
    int64_t unit = int64_t(1) << (10 * (k + 1));
    if (value % unit == 0) best = k;
  }
  if (best < 0) return std::to_string(value);
  return std::to_string(value >> (10 * (best + 1))) + kSuffix[best];
}

}  // namespace confcom::webhook
