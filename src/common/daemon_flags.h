// Command-line flags every confcom daemon has, defined once (CLI11, header-only).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace confcom {

// --log-format text|json and --log-level (see common/logging.h).
inline void AddLoggingFlags(CLI::App& app, std::string* format, std::string* level) {
  app.add_option("--log-format", *format, "Log format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", *level, "trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
}

// --metrics-address (see common/metrics_server.h).
inline void AddMetricsFlag(CLI::App& app, std::string* address) {
  app.add_option(
         "--metrics-address", *address,
         "HOST:PORT for Prometheus metrics at /metrics (port 0: any free port; 'off' to disable)")
      ->capture_default_str();
}

// Makes every option of `app` that takes a value refuse an empty one (CLI11 reads '' as 0
// for numbers, so `--threads ''` would silently mean 0). Call after adding the options.
inline void RequireNonEmptyValues(CLI::App& app) {
  CLI::Validator non_empty(
      [](std::string& value) {
        return value.empty() ? std::string("an empty value is not allowed") : std::string();
      },
      "", "NON-EMPTY");
  for (CLI::Option* opt : app.get_options()) {
    // transform() puts it before the option's other checks, so '' gets this message and
    // not, say, "Value  not in range".
    if (opt->get_type_size() > 0) opt->transform(non_empty);
  }
}

}  // namespace confcom
