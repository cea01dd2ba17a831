// /etc/sgx_default_qcnl.conf, the configuration of Intel's quote provider library (its QCNL
// part): JSON since DCAP 1.13 (// comments allowed, keys case-sensitive). Read by
// `sgxctl doctor`; the keys are described in docs/hardware.md. Pure: safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace confcom::sgxctl {

struct QcnlConfig {
  std::string pccs_url;            // required: where PCK certificates come from
  std::string collateral_service;  // verification collateral; empty: pccs_url
  bool use_secure_cert = true;     // verify the PCCS's TLS certificate
  std::string local_pck_url;       // tried first for PCK certificates (Azure's THIM)
  std::optional<int> retry_times;
  std::optional<int> retry_delay;
  std::optional<double> pck_cache_expire_hours;
  std::optional<double> verify_collateral_cache_expire_hours;
  std::vector<std::string> unknown_keys;  // likely typos (the library ignores them)
};

// Parses the file's text. kInvalidArgument names the problem: not JSON (with the parser's
// position), the pre-1.13 KEY=VALUE format, a key of the wrong type, or no usable pccs_url.
Result<QcnlConfig> ParseQcnlConfig(std::string_view text);

}  // namespace confcom::sgxctl
