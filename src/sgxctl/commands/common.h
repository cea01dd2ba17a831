// What several sgxctl subcommands share: error output, the AESM socket flag, hex flags, and
// the helper probe `ping` and `status` both make.
#pragma once

#include <CLI/CLI.hpp>
#include <cstring>
#include <string>

#include "quote_ex/sgx_uae_quote_ex.h"
#include "common/bytes.h"
#include "common/status.h"
#include "sgx/types.h"

namespace confcom::sgxctl {

// Prints "sgxctl: <message>" to stderr; returns 1.
int Fail(const std::string& message);
// "<call> failed: <SGX status name>" plus a hint for the statuses with a likely cause.
int FailCall(const char* call, sgx_status_t st, const std::string& socket);

// --socket: sets the socket for this process's libsgx_quote_ex calls (empty: the default).
void AddSocketFlag(CLI::App& sub, std::string& socket);
void UseSocket(const std::string& socket);
std::string EffectiveSocket();

// Hex into a fixed-size field; `allow_shorter` zero-pads.
template <size_t N>
Status HexInto(const std::string& hex, sgx::Array<N>& out, const char* what, bool allow_shorter) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  if (bytes->size() > N || (!allow_shorter && bytes->size() != N)) {
    return Status::InvalidArgument(std::string(what) + ": expected " + (allow_shorter ? "at most " : "") +
                                   std::to_string(N) + " bytes, got " + std::to_string(bytes->size()));
  }
  out = {};
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return Status::Ok();
}

// OK when the helper answers and offers ECDSA P-256 quoting (the readiness probe's check).
Status PingHelper(const std::string& socket);

}  // namespace confcom::sgxctl
