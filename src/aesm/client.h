// A blocking AESM client: one connection per call, like Intel's libsgx_quote_ex, so calls from
// many threads at once share nothing.
#pragma once

#include <chrono>
#include <string>

#include "aesm/aesm.pb.h"
#include "aesm/framing.h"
#include "aesm/protocol.h"
#include "common/status.h"

namespace confcom::aesm {

inline constexpr char kDefaultSocketPath[] = "/var/run/aesmd/aesm.socket";
// Environment variable our client library reads to use another socket path (a confcom
// extension for tests and debugging; Intel's client has the path compiled in).
inline constexpr char kSocketPathEnv[] = "CONFCOM_AESM_SOCKET";

// kDefaultSocketPath unless kSocketPathEnv is set and non-empty.
std::string SocketPathFromEnv();

struct ClientOptions {
  std::string socket_path = kDefaultSocketPath;
  // Intel's client waits 15 s for each read and write in release builds.
  std::chrono::milliseconds timeout{15000};
  uint32_t max_frame_size = kDefaultMaxFrameSize;
};

// Sends one request on a new connection and returns the parsed reply. Errors: kUnavailable
// when the socket cannot be connected; kIoError when the service
// closes the connection without a reply; kDeadlineExceeded on time-out; kCorruption when the
// reply does not parse.
Result<message::Response> Call(const ClientOptions& options, const message::Request& request);

}  // namespace confcom::aesm
