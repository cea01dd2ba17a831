// libprotobuf writes its own diagnostics ("[libprotobuf ERROR ...]", e.g. for a message that
// misses required fields) straight to stderr, which breaks --log-format json. RouteProtobufLogs
// sends them through our logger instead (spdlog's default logger at the matching level).
#pragma once

namespace confcom::aesm {

// Installs the handler for the whole process; call once the logger is set up.
void RouteProtobufLogs();

}  // namespace confcom::aesm
