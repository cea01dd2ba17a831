// Process-wide logging set-up (spdlog) shared by the daemons and the CLI.
//
// Text: "2026-11-22T17:20:58.123Z info  message". JSON: one object per line,
// {"ts":"…","level":"info","logger":"…","msg":"…"} with the message properly escaped, for log
// collectors. Logs go to stderr (the container runtime collects them).
#pragma once

#include <string_view>

#include "common/status.h"

namespace confcom {

// format: "text" or "json"; level: trace, debug, info, warn, error, critical, off.
Status SetupLogging(std::string_view format, std::string_view level, std::string_view name);

}  // namespace confcom
