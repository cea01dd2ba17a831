// CollateralCache, sgx-attest's VerifierSource. Online, it fetches a platform's collateral from
// a PCCS (API v4) when a quote first needs it, keeps the verifier made from it per (FMSPC, PCK
// CA, TCB evaluation data number), LRU-bounded, and refreshes it before its nextUpdate on a
// background thread; concurrent requests for one platform share one fetch, and NotFound answers
// are remembered so that quotes with made-up platforms cannot make it hammer the PCCS. Offline,
// it serves collateral files read once at Create(). Behaviour and the reasons for each number:
// docs/attest-collateral.md.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "attest/collateral/verifier_source.h"

namespace confcom::attest {

// Bounds and times; docs/attest-collateral.md gives the reasons at length.
// Fetches at once, all platforms: a burst of new platforms moves, a small PCCS is not swamped.
inline constexpr size_t kMaxConcurrentFetches = 4;
// First fetches of keys not cached (new platforms, numbers, or ones asked again after a
// failure) per minute: a cluster needs a handful; a sweep of made-up keys is held to 1 a second.
inline constexpr size_t kMaxFetchesPerMinute = 60;
// A request waits this long for a fetch slot (the fetch's own read time-out), then Unavailable.
inline constexpr std::time_t kFetchSlotWaitSeconds = 30;
// A NotFound is answered from memory this long: a platform newly registered at the PCCS is
// served within a minute, a quote naming an unknown one costs one fetch a minute.
inline constexpr std::time_t kNotFoundTtlSeconds = 60;
// So is an unreachable PCCS: one connection attempt per platform per 10 s in an outage.
inline constexpr std::time_t kUnreachableTtlSeconds = 10;
inline constexpr size_t kMaxRememberedFailures = 1024;
// Refresh min(1 h, a tenth of the validity left) before nextUpdate: Intel's TCB Info lives 30
// days, so an hour early; a failed refresh is tried again after a minute.
inline constexpr std::time_t kMaxRefreshMarginSeconds = 3600;
inline constexpr std::time_t kRefreshRetrySeconds = 60;

struct CollateralCacheOptions {
  std::string pccs_url;             // online: fetch from this PCCS (ParsePccsUrl's forms)
  std::string collateral_dir;       // offline: files (exactly one of the two)
  std::string trust_root_pem_file;  // "": Intel's SGX Root CA; else a simulated platform's root
  size_t max_platforms = 64;        // cached (FMSPC, CA, TCB number) entries
  // Called from any thread, outside the cache's locks, with "hit" (served from memory),
  // "fetch" (a new entry fetched), "refresh" (an entry refreshed), "fetch_error" (a fetch or
  // refresh failed) or "evict" (the least recently used entry dropped for a new one); may be
  // empty.
  std::function<void(std::string_view event)> on_event;
};

// VerifierFor() and Ready() may run on any number of threads at once; RefreshDue() too.
class CollateralCache : public VerifierSource {
 public:
  // Reads the trust root and, offline, every platform's files (the top of collateral_dir, or
  // its subfolders named by FMSPC hex); online, starts the refresh thread. Errors:
  // InvalidArgument for options (not exactly one of pccs_url and collateral_dir, a URL
  // ParsePccsUrl refuses, max_platforms 0), a trust root file that is not a PEM certificate,
  // or collateral files that are missing, do not parse or are too many (over max_platforms);
  // ReadFile's errors for unreadable files.
  static Result<std::unique_ptr<CollateralCache>> Create(CollateralCacheOptions options);
  // The same with `clock` in place of time(nullptr) and no refresh thread: tests move time and
  // call RefreshDue() themselves.
  static Result<std::unique_ptr<CollateralCache>> CreateWithClockForTest(
      CollateralCacheOptions options, std::function<std::time_t()> clock);
  // Stops and joins the refresh thread (after a refresh in progress, bounded by its time-outs).
  ~CollateralCache() override;

  // VerifierSource's contract. Also InvalidArgument for a quote whose PCK certificate does not
  // chain to the trust root (nothing is fetched for it), and Unavailable when a cached entry is
  // past its nextUpdate and refreshing it has failed (the message names the PCCS and the error).
  Result<PlatformVerifier> VerifierFor(ByteSpan quote,
                                       std::optional<uint32_t> tcb_evaluation_data_number) override;
  // Ok: online (even with nothing cached yet) or offline (Create() loaded the files).
  Status Ready() const override;

  // Refreshes, one after another, the cached entries whose refresh time has come (a margin of
  // min(1 h, a tenth of the validity left) before their nextUpdate, or kRefreshRetrySeconds
  // after a failed attempt); returns how many it tried. Online only (offline: 0).
  size_t RefreshDue();

 private:
  struct Impl;
  explicit CollateralCache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace confcom::attest
