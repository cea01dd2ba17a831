// What every confcom binary does the same way on its command line (CLI11, header-only):
// `--version` prints "<component> <version>", and the exit codes are 0 success, 1 failure,
// 2 usage (CLI11's own parse-error codes, 100-127, all become 2).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace confcom {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// "<component> <CONFCOM_VERSION>".
inline std::string VersionLine(const std::string& component) {
  return component + " " + CONFCOM_VERSION;
}

// Adds --version, printing VersionLine(component).
inline void AddVersionFlag(CLI::App& app, const std::string& component) {
  app.set_version_flag("--version", VersionLine(component));
}

// Parses argv. Returns -1 when the program should go on and run; otherwise the exit code,
// after CLI11 printed what it prints: 0 for --help and --version, 2 for any usage error.
inline int ParseCommandLine(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return -1;
}

}  // namespace confcom
