// Test certificates for the HTTPS layer, issued by pki: a CA "test-ca-<tag>" and a serving
// certificate for localhost with the CN "server-<tag>".
#pragma once

#include <string>

#include "testing/test_util.h"

namespace confcom::https {

// Writes ca-<tag>.crt, srv-<tag>.crt and srv-<tag>.key into `dir`, and copies the pair to
// tls.crt and tls.key when `install` (renamed into place, as the kubelet swaps Secret files).
void WriteServingPair(const testing::TempDir& dir, const std::string& tag, bool install = true);

}  // namespace confcom::https
