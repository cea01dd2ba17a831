// sgx-quote-helper's command line: the flags as parsed (HelperFlags), their CLI11 definitions
// (the --help text), and their conversion to the daemon's configuration, checked once.
#pragma once

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "aesm/client.h"
#include "common/status.h"
#include "helper/quote_helper_daemon.h"

namespace confcom::helper {

// The largest request Intel's client sends is a GetQuoteEx with qe_report_info (~1.7 KiB) or
// a SelectAttKeyID list of its maximum of 10 key ids (~2.6 KiB): 8 KiB bounds every real
// request, and 4096 connections of 8 KiB plus a 64 KiB reply per loop fit the 64 MiB budget
// (CheckMemoryBudget; up to 256 threads).
inline constexpr uint32_t kMaxRequestFrameSize = 8 * 1024;

// The program's description, first in --help.
extern const char* const kHelperDescription;

// Every flag, with its default.
struct HelperFlags {
  std::string socket = aesm::kDefaultSocketPath;
  std::string socket_mode = "0666";
  std::string backend = "auto";
  std::string dcap_library;
  std::string host_root = "/";
  size_t max_waiting_quotes = 64;
  std::string state_dir = "/var/lib/sgx-quote-helper";
  std::string admin_socket;  // empty: <state_dir>/admin.sock; "off": none
  std::string sim_pck_ca;    // empty: the existing platform's, Platform for a new one
  std::string log_format = "text";
  std::string log_level = "info";
  int threads = 0;
  int io_timeout_ms = 10000;
  size_t max_connections = 4096;
  size_t max_connections_per_client = 256;
  int refusal_timeout_ms = 1000;
  size_t max_buffered_mib = 64;
  uint32_t max_frame_size = kMaxRequestFrameSize;
  std::string metrics_address = "127.0.0.1:9464";
  bool no_takeover = false;
  std::string after_handover = "exit";
  std::string ready_file;
  int handover_timeout_ms = 60000;
  std::string client_identity = "pod";
  std::string proc_root = "/proc";
};

// Adds every flag to `app` (the logging and metrics flags among them, in --help order); parsed
// values land in `*flags`, which must outlive `app`. CLI11 checks each value's range or choice.
void AddHelperFlags(CLI::App& app, HelperFlags* flags);

// The octal --socket-mode, e.g. "0666". InvalidArgument (naming the flag) unless it is an
// octal number up to 0777 that gives the owner read and write.
Result<mode_t> ParseSocketMode(const std::string& text);

// The admin socket's server: one loop and a few connections, enough for a pod's three probes
// and an operator's sgxctl at once (tenants cannot reach it: its folder is the helper's only).
FrameServerOptions AdminServerOptions(const FrameServerOptions& main);

// The daemon's configuration. InvalidArgument, naming the flag, when --socket-mode, --socket,
// --admin-socket or the memory budget (--max-buffered-mib against connections, frame size and
// threads) is wrong. --metrics-address is not checked here (the metrics server's job).
Result<QuoteHelperConfig> ToQuoteHelperConfig(const HelperFlags& flags);

}  // namespace confcom::helper
