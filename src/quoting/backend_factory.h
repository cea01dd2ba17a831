// The table of quoting backends the helper can run (--backend), and their construction.
//
// Each entry has a name, a one-line description for --help and a factory. "auto" picks DCAP
// when the node has SGX quoting and refuses to start otherwise: nothing is ever simulated
// unless asked for by name ("sim", which logs a loud banner). A new backend is one more row.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "quoting/backend.h"

namespace confcom::quoting {

struct BackendConfig {
  std::string state_dir;  // sim: the platform's keys and certificates
  // sim: which PCK CA issues a new platform's PCK certificates ("platform" or "processor");
  // empty: the existing platform's kind, Platform for a new one.
  std::string sim_pck_ca;
  std::string dcap_library;  // dcap: path of libsgx_dcap_ql.so.1 (empty: search)
  std::string host_root = "/";
  size_t max_waiting_quotes = 64;  // dcap: requests allowed to wait for the library
};

struct BackendChoice {
  const char* name;
  const char* description;
  Result<std::unique_ptr<QuotingBackend>> (*make)(const BackendConfig& config);
};

// Every backend, "auto" first. A static table: safe from any thread.
const std::vector<BackendChoice>& BackendChoices();
// The names of BackendChoices(), in order.
std::vector<std::string> BackendNames();
// "--backend NAME: description" lines for --help.
std::string DescribeBackendChoices();
// Builds the backend called `name`. Errors: InvalidArgument for an unknown name; NotFound or
// PermissionDenied naming what the node lacks for DCAP (device, provisioning access, quote
// provider, library); the chosen backend's own Create() errors.
Result<std::unique_ptr<QuotingBackend>> MakeBackend(std::string_view name,
                                                    const BackendConfig& config);

}  // namespace confcom::quoting
