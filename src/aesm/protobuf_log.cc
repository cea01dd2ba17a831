#include "aesm/protobuf_log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "common/log_limiter.h"

namespace confcom::aesm {

namespace {

// Clients can make libprotobuf complain at will (a malformed request): rate-limit its lines.
LogLimiter g_protobuf_log;

void Handler(google::protobuf::LogLevel level, const char* filename, int line,
             const std::string& message) {
  uint64_t dropped = 0;
  if (level < google::protobuf::LOGLEVEL_FATAL && !g_protobuf_log.Allow(&dropped)) return;
  auto lvl = level == google::protobuf::LOGLEVEL_INFO      ? spdlog::level::debug
             : level == google::protobuf::LOGLEVEL_WARNING ? spdlog::level::warn
                                                           : spdlog::level::err;
  spdlog::log(lvl, "libprotobuf {}:{}: {}{}", filename != nullptr ? filename : "?", line, message,
              dropped > 0 ? " (" + std::to_string(dropped) + " similar line(s) suppressed)" : "");
}

}  // namespace

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&Handler); }

}  // namespace confcom::aesm
