// The serving layer's limits as command-line flags, shared by sgx-webhook and sgx-attest so
// both daemons name, range-check and explain them the same way (--max-body-bytes,
// --max-connections, --max-connections-per-client, --handler-threads, --request-timeout-seconds
// (alias --read-timeout-seconds), --write-timeout-seconds, --keep-alive-timeout-seconds).
// Thread safety: plain data and functions without shared state.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

#include "https/server.h"

namespace confcom::https {

// The flags' values; the defaults are ServerOptions' (a daemon may change them before
// AddServerLimitFlags, e.g. a smaller body limit).
struct ServerLimitFlags {
  size_t max_body_bytes = ServerOptions{}.max_body_bytes;
  size_t max_connections = ServerOptions{}.max_connections;
  size_t max_connections_per_client = ServerOptions{}.max_connections_per_client;
  size_t handler_threads = ServerOptions{}.handler_threads;
  int request_timeout_seconds = static_cast<int>(ServerOptions{}.request_timeout.count());
  int write_timeout_seconds = static_cast<int>(ServerOptions{}.write_timeout.count());
  int keep_alive_timeout_seconds = static_cast<int>(ServerOptions{}.keep_alive_timeout.count());
};

// Adds the flags to `app`, bound to `flags` (their current values are the defaults --help
// shows), with CLI11's range checks. `handler_threads_help` says what the handler threads
// run, e.g. "Threads running review handlers". Never fails.
void AddServerLimitFlags(CLI::App& app, ServerLimitFlags* flags,
                         const std::string& handler_threads_help);

// Copies the flags into `options`; pure.
void ApplyServerLimitFlags(const ServerLimitFlags& flags, ServerOptions* options);

}  // namespace confcom::https
