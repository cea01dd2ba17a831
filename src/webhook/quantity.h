// Kubernetes resource quantities ("10Mi", "1Gi", "500M", "1e6", "0.5Gi", "10") as integers.
//
// ParseQuantity accepts the API's quantity grammar: an optional sign, digits with an optional
// fraction, then one suffix: a binary one (Ki Mi Gi Ti Pi Ei), a decimal one (m, none, k M G T P
// E) or a decimal exponent (e3, E-2). The value is rounded UP to a whole number, as the API's
// Quantity.Value() does (so "0.5" EPC bytes is 1 byte). Negative values, values above 2^62 and
// malformed text are errors. FormatBinaryQuantity writes bytes the way the API server
// canonicalises a binary quantity: the largest of Ki..Ei that divides it ("10Mi"), else plain
// digits ("1000").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom::webhook {

Result<int64_t> ParseQuantity(std::string_view text);
std::string FormatBinaryQuantity(int64_t value);

}  // namespace confcom::webhook
