// What several sgxctl subcommands share: error output, the AESM socket flag, hex flags, and
// the helper probe `ping` and `status` both make. Used from sgxctl's one thread.
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
// Prints "<call> failed: <SGX status name>", a hint for the statuses with a likely cause and
// the code's one-line fix (error_advice.h); returns 1.
int FailCall(const char* call, sgx_status_t st, const std::string& socket);

// --socket: sets the socket for this process's libsgx_quote_ex calls (empty: the default).
void AddSocketFlag(CLI::App& sub, std::string& socket);
// Points this process's libsgx_quote_ex at `socket` ($CONFCOM_AESM_SOCKET); empty: leaves it.
void UseSocket(const std::string& socket);
// The socket libsgx_quote_ex will use now.
std::string EffectiveSocket();

// Hex into a fixed-size field; `allow_shorter` zero-pads. InvalidArgument (naming `what`)
// for text that is not hex or has the wrong length.
template <size_t N>
Status HexInto(const std::string& hex, sgx::Array<N>& out, const char* what, bool allow_shorter) {
  auto bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status().WithContext(what);
  if (bytes->size() > N || (!allow_shorter && bytes->size() != N)) {
    return Status::InvalidArgument(std::string(what) + ": expected " +
                                   (allow_shorter ? "at most " : "") + std::to_string(N) +
                                   " bytes, got " + std::to_string(bytes->size()));
  }
  out = {};
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return Status::Ok();
}

// OK when the helper answers and offers ECDSA P-256 quoting (the readiness probe's check);
// Unavailable when it does not answer, Corruption for an absurd key-id count, Unsupported when
// it offers no ECDSA P-256 key.
Status PingHelper(const std::string& socket);

}  // namespace confcom::sgxctl
