// Dialling a UNIX socket of the device plugin API as kubelet does, from either side: a plugin
// dials kubelet.sock to register, kubelet (or its emulator, or a probe) dials a plugin's socket.
//
// One channel per call, to `unix:<absolute path>`, with the authority "localhost" (kubelet's;
// gRPC would otherwise send the path), kubelet's receive limit by default (4,194,304 bytes, so
// a larger ListAndWatch message fails here as it does there), and a subchannel of its own: gRPC
// shares subchannels between channels to one address, and one that failed against a previous
// kubelet.sock carries that failure's reconnect backoff (1 s by default) into the next dial.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace confcom::kube {

// The largest message kubelet's gRPC client accepts (gRPC's default, which kubelet keeps).
inline constexpr int kKubeletMaxReceiveBytes = 4 * 1024 * 1024;

// Returns a channel to the socket at `path` (a relative path is taken from the working
// directory). Never fails: the channel connects on its first call, where a missing socket or
// a peer that does not answer shows as UNAVAILABLE. Thread-safe, like the channel it returns.
std::shared_ptr<grpc::Channel> DialUnixSocket(const std::string& path,
                                              int max_receive_bytes = kKubeletMaxReceiveBytes);

}  // namespace confcom::kube
