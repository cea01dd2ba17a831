#include "https/server_flags.h"

#include <chrono>

namespace confcom::https {

void AddServerLimitFlags(CLI::App& app, ServerLimitFlags* f,
                         const std::string& handler_threads_help) {
  // 64 KiB is above any ordinary body; 64 MiB bounds what one request may make us buffer.
  app.add_option("--max-body-bytes", f->max_body_bytes, "Largest request body; larger ones get 413")
      ->check(CLI::Range(size_t(64 * 1024), size_t(64) << 20))
      ->capture_default_str();
  app.add_option("--max-connections", f->max_connections,
                 "Connections open at once; more are closed at accept")
      ->check(CLI::Range(size_t(1), size_t(65536)))
      ->capture_default_str();
  app.add_option("--max-connections-per-client", f->max_connections_per_client,
                 "Connections open at once from one client address; more are closed at accept")
      ->check(CLI::Range(size_t(1), size_t(65536)))
      ->capture_default_str();
  app.add_option("--handler-threads", f->handler_threads,
                 handler_threads_help + " (TLS, parsing and probes run on one more)")
      ->check(CLI::Range(size_t(1), size_t(64)))
      ->capture_default_str();
  app.add_option("--request-timeout-seconds,--read-timeout-seconds", f->request_timeout_seconds,
                 "Deadline for a whole request (TLS handshake, header, body) from accept or "
                 "from its first byte; then the connection is closed")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  app.add_option("--write-timeout-seconds", f->write_timeout_seconds,
                 "Per-write timeout on a connection")
      ->check(CLI::Range(1, 300))
      ->capture_default_str();
  app.add_option("--keep-alive-timeout-seconds", f->keep_alive_timeout_seconds,
                 "How long an idle keep-alive connection is kept")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
}

void ApplyServerLimitFlags(const ServerLimitFlags& f, ServerOptions* options) {
  options->max_body_bytes = f.max_body_bytes;
  options->max_connections = f.max_connections;
  options->max_connections_per_client = f.max_connections_per_client;
  options->handler_threads = f.handler_threads;
  options->request_timeout = std::chrono::seconds(f.request_timeout_seconds);
  options->write_timeout = std::chrono::seconds(f.write_timeout_seconds);
  options->keep_alive_timeout = std::chrono::seconds(f.keep_alive_timeout_seconds);
}

}  // namespace confcom::https
