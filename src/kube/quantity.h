// Kubernetes resource quantities ("10Mi", "0.5Gi", "500M", "1e6", "100m", "10") as integers:
// the one parser of the API's quantity grammar in confcom (the grammar, the rounding and the
// limits are in docs/kubernetes-api.md). The webhook reads EPC requests with it, the device
// plugin the Node's capacity (node_capacity.h). Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::kube {

// The largest value accepted (2^62): a pod's containers summed stay within int64.
inline constexpr int64_t kMaxQuantity = int64_t(1) << 62;

// A parsed quantity: its value rounded up to a whole number, as the API's Quantity.Value()
// does ("100m" is 1), and whether that rounding changed it.
struct Quantity {
  int64_t value = 0;
  bool rounded = false;  // true when the text's value was not whole ("1.5", "100m", "1e-3")
  bool operator==(const Quantity&) const = default;
};

// Returns the value of `text` in the API's grammar (sign, digits with an optional fraction,
// one suffix: Ki..Ei, m/k/M/G/T/P/E or an exponent e3/E-2). Errors (InvalidArgument naming
// the text and why): empty, longer than 64 characters, malformed, an unknown suffix, a negative
// non-zero value, above kMaxQuantity, or more than 30 decimal places with a binary suffix.
Result<Quantity> ParseQuantity(std::string_view text);

// Returns `value` as the API server canonicalises a binary quantity: the largest of Ki..Ei
// that divides it ("10Mi", "1536Ki"), else plain digits ("1000", "0").
std::string FormatBinaryQuantity(int64_t value);

}  // namespace confcom::kube
