// `sgxctl doctor`: what a node needs for quotes on SGX hardware, checked from where sgxctl
// runs (a node shell, or the helper's container): the SGX device nodes and whether this user
// may open them (and which group owns /dev/sgx_provision), the quote provider's QCNL config
// and whether its PCCS answers, the quote provider library, and the quote helper's socket.
// Each check gives one finding: OK, WARN or FAIL, with a fix for the last two. The checks read
// the file system and network only: safe from any thread. What each looks at: docs/hardware.md.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace confcom::sgxctl {

enum class Level { kOk, kWarn, kFail };
const char* LevelName(Level level);  // "OK", "WARN", "FAIL"

struct Finding {
  Level level = Level::kOk;
  std::string check;   // "device", "qcnl", "pccs", "quote-provider", "helper"
  std::string detail;  // what was seen
  std::string fix;     // empty for OK
};

// Who would open the devices: uid, gid and supplementary groups.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  static Identity OfThisProcess();  // effective ids
};

// Whether `who` may open a file of this owner, group and mode for reading and writing (root
// may always, as with CAP_DAC_OVERRIDE).
bool MayOpenReadWrite(const Identity& who, uid_t owner, gid_t group, mode_t mode);

struct DoctorOptions {
  std::string host_root;  // prefix of every path checked ("" = this root)
  std::string qcnl_path = "/etc/sgx_default_qcnl.conf";
  std::vector<std::string> library_dirs = {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                           "/lib/x86_64-linux-gnu", "/usr/local/lib"};
  std::optional<Identity> identity;  // default: this process
  int pccs_timeout_ms = 3000;
  bool check_pccs = true;
  // The helper probe (sgxctl's ping); Ok when the helper answers. Unset: not checked.
  std::function<Status()> ping_helper;
  std::string helper_socket;  // for the message
};

// Each check returns its findings; a problem is a finding, never an error.
// The enclave and provisioning devices: present, and openable read-write by the identity.
std::vector<Finding> CheckDevices(const DoctorOptions& options);
// The QCNL config and, when it parses and check_pccs is set, its PCCS (an HTTP(S) GET of
// <pccs_url>rootcacrl with a short timeout; TLS verified when use_secure_cert is true).
std::vector<Finding> CheckQcnl(const DoctorOptions& options);
// libdcap_quoteprov.so.1 and the QCNL wrapper in `library_dirs` (without it: Azure's client).
std::vector<Finding> CheckQuoteProvider(const DoctorOptions& options);
// `ping_helper`'s answer; no finding when it is unset.
std::vector<Finding> CheckHelper(const DoctorOptions& options);
// All of the above, in that order.
std::vector<Finding> RunDoctor(const DoctorOptions& options);

// One line per finding: "FAIL  device          /dev/sgx_provision: … -> fix: …".
std::string RenderFindings(const std::vector<Finding>& findings);
// Whether any finding is FAIL (WARN does not fail the doctor).
bool AnyFailed(const std::vector<Finding>& findings);

// The HTTP status of GET url, or kUnavailable with curl's reason (also for TLS failures).
Result<long> HttpGetStatus(const std::string& url, int timeout_ms, bool verify_tls);

}  // namespace confcom::sgxctl
