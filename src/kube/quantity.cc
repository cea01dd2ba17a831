#include "kube/quantity.h"

#include <cctype>

namespace confcom::kube {
namespace {

using u128 = unsigned __int128;

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("quantity '" + std::string(text.substr(0, 64)) +
                                 "': " + std::string(why));
}

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The suffix as a binary shift (Ki = 10 ... Ei = 60) or a power of ten; false if unknown.
bool ParseSuffix(std::string_view suffix, int* shift, int* exp10) {
  if (suffix.empty()) return true;
  if (suffix.size() == 2 && suffix[1] == 'i') {
    const size_t k = std::string_view("KMGTPE").find(suffix[0]);
    if (k == std::string_view::npos) return false;
    *shift = 10 * int(k + 1);
    return true;
  }
  static constexpr struct {
    std::string_view name;
    int exp10;
  } kDecimal[] = {{"m", -3}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& d : kDecimal) {
    if (suffix == d.name) {
      *exp10 = d.exp10;
      return true;
    }
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  // An exponent: e or E, an optional sign, 1 to 3 digits (1e999 is already far too large).
  std::string_view e = suffix.substr(1);
  bool negative = false;
  if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
    negative = e[0] == '-';
    e.remove_prefix(1);
  }
  if (e.empty() || e.size() > 3) return false;
  int v = 0;
  for (char c : e) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *exp10 = negative ? -v : v;
  return true;
}

}  // namespace

Result<Quantity> ParseQuantity(std::string_view text) {
  std::string_view s = text;
  if (s.empty()) return Bad(text, "empty");
  if (s.size() > 64) return Bad(text, "longer than 64 characters");
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // All digits, before and after the point, and how many were after it.
  std::string digits;
  int fraction_digits = 0;
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) digits += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && IsDigit(s[i]); ++i, ++fraction_digits) digits += s[i];
  }
  if (digits.empty()) return Bad(text, "no digits");
  int shift = 0, exp10 = 0;
  if (!ParseSuffix(s.substr(i), &shift, &exp10)) {
    return Bad(text, s[i] == 'e' || s[i] == 'E' ? "bad exponent" : "unknown suffix");
  }
  // value = digits * 2^shift * 10^exp10, digits without leading or trailing zeros.
  exp10 -= fraction_digits;
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Quantity{};  // zero, whatever the sign
  if (negative) return Bad(text, "negative");
  digits.erase(0, first);
  const size_t last = digits.find_last_not_of('0');
  exp10 += int(digits.size() - 1 - last);
  digits.resize(last + 1);
  // An integer part of 20 digits is at least 10^19, beyond 2^62 whatever the suffix.
  if (int(digits.size()) + exp10 > 19) return Bad(text, "too large");

  Quantity q;
  u128 v = 0;
  if (exp10 >= 0) {
    for (char c : digits) v = v * 10 + unsigned(c - '0');
    for (int k = 0; k < exp10; ++k) v *= 10;
    v <<= shift;  // below 10^19 * 2^60 < 2^124
  } else if (shift == 0) {
    // No trailing zeros: a non-zero fraction remains, rounded up.
    const size_t whole = digits.size() > size_t(-exp10) ? digits.size() - size_t(-exp10) : 0;
    for (size_t k = 0; k < whole; ++k) v = v * 10 + unsigned(digits[k] - '0');
    v += 1;
    q.rounded = true;
  } else {
    // A fraction times 2^shift may be whole ("0.5Gi"): exactly ceil(digits * 2^shift /
    // 10^places). Past 30 places 10^places and the digits could overflow 128 bits; no quantity
    // the API server sends has that many.
    const int places = -exp10;
    if (places > 30) return Bad(text, "too many decimal places");
    u128 n = 0;
    for (char c : digits) {
      n = n * 10 + unsigned(c - '0');
      if (n > (u128(1) << 100)) return Bad(text, "too large");
    }
    if (n > ((~u128(0)) >> 1 >> shift)) return Bad(text, "too large");
    const u128 scaled = n << shift;
    u128 div = 1;
    for (int k = 0; k < places; ++k) div *= 10;
    v = scaled / div;
    if (scaled % div != 0) {
      v += 1;
      q.rounded = true;
    }
  }
  if (v > u128(kMaxQuantity)) return Bad(text, "too large");
  q.value = int64_t(v);
  return q;
}

std::string FormatBinaryQuantity(int64_t value) {
  if (value <= 0) return std::to_string(value);
  static const char* kSuffix[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int best = -1;
  for (int k = 0; k < 6; ++k) {
    if (value % (int64_t(1) << (10 * (k + 1))) == 0) best = k;
  }
  if (best < 0) return std::to_string(value);
  return std::to_string(value >> (10 * (best + 1))) + kSuffix[best];
}

}  // namespace confcom::kube
