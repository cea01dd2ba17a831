// Process-wide logging set-up (spdlog) shared by the daemons and the CLI.
//
// Text: "2026-11-22T17:20:58.123Z info  message". JSON: one object per line,
// {"ts":"…","level":"info","logger":"…","request_id":N,"msg":"…"} with the message properly
// escaped, for log collectors (request_id only while a request is handled). Logs go to stderr
// (the container runtime collects them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom {

// `text` with what could forge or garble a log line escaped: control characters, DEL and bytes
// >= 0x80 become \xNN, and a backslash becomes \\. For client-chosen strings (paths, names).
std::string EscapeForLog(std::string_view text);

// format: "text" or "json"; level: trace, debug, info, warn, error, critical, off.
Status SetupLogging(std::string_view format, std::string_view level, std::string_view name);

// Tags the log lines this thread writes while it lives with a request id: JSON logs get a
// "request_id" field, text logs a "[req N] " prefix. Nests; 0 means none.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(uint64_t id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  uint64_t previous_;
};

}  // namespace confcom
