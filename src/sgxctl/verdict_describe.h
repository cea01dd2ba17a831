// What `sgxctl verify` reports: the verdict as JSON (and text via RenderText), and whether a
// verified quote's TCB result is acceptable under the caller's policy. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "verify/verifier.h"

namespace confcom::sgxctl {

// Which non-OK TCB results the caller accepts. OK is always accepted; REVOKED and failures
// never are.
struct AcceptPolicy {
  bool configuration_needed = false;
  bool sw_hardening_needed = false;
  bool out_of_date = false;
};

// Empty if acceptable, else why not (naming the flag that would accept it).
std::string Unacceptable(const verify::Verdict& v, const AcceptPolicy& policy);

// {"verdict":…, "verified":…, "failed_check":…, "result":…, "tcb_status":…, …}, what
// `sgxctl verify -o json` prints; never fails.
nlohmann::ordered_json DescribeVerdict(const verify::Verdict& v, const AcceptPolicy& policy);

}  // namespace confcom::sgxctl
