#include "attest/collateral/collateral_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <semaphore>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/file_util.h"
#include "common/log_limiter.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "pccs/pccs.h"
#include "pki/crl.h"
#include "sgx/quote_v3.h"
#include "sim/platform.h"
#include "verify/quote_platform.h"

namespace confcom::attest {

namespace {

using Clock = std::function<std::time_t()>;

// Each chain is checked against the trust root once, then remembered by its exact bytes: two
// ECDSA verifications (~0.1 ms) per quote would be a tenth of an attestation. Cleared when full,
// as the verifier's own chain cache.
constexpr size_t kMaxRememberedChains = 1024;

// Fetch failures are logged at most a few per second: quotes choose the platforms fetched.
LogLimiter g_fetch_error_log(5);

// What a PCCS indexes collateral by, for one quote.
struct Key {
  sgx::Array<6> fmspc{};
  pki::PckCa ca = pki::PckCa::kPlatform;
  std::optional<uint32_t> number;

  std::string Id() const {
    return ToHex(fmspc) + "/" + pki::PckCaName(ca) + "/" +
           (number ? std::to_string(*number) : std::string("-"));
  }
  std::string Describe() const {
    return "FMSPC " + ToHex(fmspc) + " (PCK CA " + pki::PckCaName(ca) + ", " +
           (number ? "tcbEvaluationDataNumber " + std::to_string(*number)
                   : std::string("the PCCS's default tcbEvaluationDataNumber")) +
           ")";
  }
};

struct Platform {
  sgx::Array<6> fmspc{};
  pki::PckCa ca = pki::PckCa::kPlatform;
};

// A verifier ready to serve, and when its collateral stops being valid.
struct Built {
  PlatformVerifier pv;
  std::time_t next_update = 0;
  long number = 0;  // the TCB Info's tcbEvaluationDataNumber
};

// The earliest nextUpdate of TCB Info, QE Identity and both CRLs (a CRL without one counts as
// never expiring, as the verifier treats it).
std::time_t EarliestNextUpdate(const verify::QuoteVerifier& v, const verify::Collateral& c) {
  std::time_t t = std::min(v.tcb_info().next_update, v.qe_identity().next_update);
  for (const Bytes* der : {&c.pck_crl_der, &c.root_ca_crl_der}) {
    auto crl = pki::Crl::FromDer(*der);
    if (crl.ok() && crl->NextUpdate() != 0) t = std::min(t, crl->NextUpdate());
  }
  return t;
}

Result<Built> Build(verify::Collateral collateral, const pki::Certificate& root,
                    bool simulated_root) {
  auto shared = std::make_shared<const verify::Collateral>(std::move(collateral));
  CONFCOM_ASSIGN_OR_RETURN(auto verifier, verify::QuoteVerifier::Create(*shared, root));
  Built b;
  b.next_update = EarliestNextUpdate(*verifier, *shared);
  b.number = verifier->tcb_info().tcb_evaluation_data_number;
  b.pv.verifier = std::move(verifier);
  b.pv.collateral = std::move(shared);
  b.pv.simulated_root = simulated_root;
  return b;
}

// When to refresh collateral valid until `next_update`, fetched at `now`: a margin of
// min(1 h, a tenth of the validity left) before it; a bundle already past it (a PCCS serving
// stale collateral) is asked again after kRefreshRetrySeconds, not in a loop.
std::time_t RefreshTime(std::time_t next_update, std::time_t now) {
  if (next_update <= now) return now + kRefreshRetrySeconds;
  std::time_t margin = std::min(kMaxRefreshMarginSeconds, (next_update - now) / 10);
  return next_update - margin;
}

bool IsFmspcName(const std::string& name) {
  return name.size() == 12 && name.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct CollateralCache::Impl {
  CollateralCacheOptions options;
  Clock now;
  pki::Certificate root;
  bool simulated_root = false;
  std::string root_description;

  // Chains already checked against the root, by their PEM bytes.
  std::mutex chains_mu;
  std::unordered_map<std::string, Platform> chains;

  // Offline: immutable after Create() but for the warned flags.
  struct OfflinePlatform {
    Built built;
    std::string dir;
    std::atomic<bool> expiry_logged{false};
  };
  std::map<std::string, std::unique_ptr<OfflinePlatform>> offline;  // by lower-case FMSPC hex

  // Online.
  struct Entry {
    Key key;
    Built built;
    std::time_t refresh_at = 0;
    Status refresh_error;  // the last refresh's failure; Ok after a success
    std::list<std::string>::iterator lru;
  };
  struct Remembered {
    Status status;
    std::time_t until = 0;
  };
  struct Flight {
    bool done = false;
    Result<PlatformVerifier> result = Status::Internal("fetch in progress");
  };
  std::mutex mu;
  std::condition_variable flight_done;
  std::condition_variable wake_refresher;
  std::unordered_map<std::string, Entry> entries;
  std::list<std::string> lru;  // most recently used first
  std::unordered_map<std::string, Remembered> failures;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  std::counting_semaphore<kMaxConcurrentFetches> fetch_slots{kMaxConcurrentFetches};
  std::time_t budget_window_start = 0;  // kMaxFetchesPerMinute
  size_t budget_used = 0;
  bool stopping = false;
  std::thread refresher;

  bool online() const { return !options.pccs_url.empty(); }

  void Emit(const std::vector<const char*>& events) const {
    if (!options.on_event) return;
    for (const char* e : events) options.on_event(e);
  }

  // Checks the options and reads the trust root.
  static Result<std::unique_ptr<Impl>> Make(CollateralCacheOptions options,
                                            std::function<std::time_t()> clock);
  Result<Platform> Identify(ByteSpan quote);
  Result<PlatformVerifier> Offline(const Platform& p, std::optional<uint32_t> number);
  Result<PlatformVerifier> Online(const Key& key);
  Result<Built> Fetch(const Key& key);
  void Install(const Key& key, Built built, std::vector<const char*>* events);
  Status LoadOffline();
  void RefreshLoop();
  size_t RefreshDue();
};

Result<Platform> CollateralCache::Impl::Identify(ByteSpan quote) {
  auto parsed = sgx::ParseQuoteV3(quote);
  if (!parsed.ok()) return parsed.status().WithContext("quote");
  std::string chain_pem(AsChars(parsed->quote.cert_data));
  {
    std::lock_guard<std::mutex> lock(chains_mu);
    auto it = chains.find(chain_pem);
    if (it != chains.end()) return it->second;
  }
  CONFCOM_ASSIGN_OR_RETURN(verify::QuotePlatform qp, verify::ReadQuotePlatform(quote));
  // Only a platform under the trust root gets collateral fetched: a made-up FMSPC needs a PCK
  // certificate that the root's CA signed, so hostile quotes cannot name new platforms at will.
  if (!qp.pck_ca_certificate.IsSignedBy(root) ||
      !qp.pck_certificate.IsSignedBy(qp.pck_ca_certificate)) {
    std::string hint;
    if (!simulated_root && sim::CarriesSimMarker(qp.pck_ca_certificate)) {
      hint = "; it comes from a SIMULATED platform, which only that platform's own root covers";
    }
    return Status::InvalidArgument(
        "quote: the PCK certificate chain (" + qp.pck_ca_certificate.Subject() +
        ") does not lead to the trusted root, " + root_description + hint);
  }
  Platform p{qp.fmspc, qp.ca};
  std::lock_guard<std::mutex> lock(chains_mu);
  if (chains.size() >= kMaxRememberedChains) chains.clear();
  chains.emplace(std::move(chain_pem), p);
  return p;
}

Result<PlatformVerifier> CollateralCache::Impl::Offline(const Platform& p,
                                                        std::optional<uint32_t> number) {
  const std::string fmspc = ToHex(p.fmspc);
  auto it = offline.find(fmspc);
  if (it == offline.end()) {
    std::string have;
    for (const auto& [name, _] : offline) have += (have.empty() ? "" : ", ") + name;
    return Status::NotFound("no collateral for FMSPC " + fmspc + " in " + options.collateral_dir +
                            " (it has FMSPC " + have + ")");
  }
  OfflinePlatform& op = *it->second;
  if (number && long(*number) != op.built.number) {
    return Status::NotFound("the collateral for FMSPC " + fmspc + " in " + op.dir +
                            " has tcbEvaluationDataNumber " + std::to_string(op.built.number) +
                            ", not " + std::to_string(*number));
  }
  if (now() >= op.built.next_update && !op.expiry_logged.exchange(true)) {
    spdlog::warn(
        "offline collateral in {} (FMSPC {}) passed its nextUpdate {}: quotes of this platform "
        "fail the validity check until the files are replaced and sgx-attest restarted",
        EscapeForLog(op.dir), fmspc, FormatRfc3339(op.built.next_update));
  }
  PlatformVerifier pv = op.built.pv;
  pv.cache_hit = true;
  Emit({"hit"});
  return pv;
}

Result<Built> CollateralCache::Impl::Fetch(const Key& key) {
  if (!fetch_slots.try_acquire_for(std::chrono::seconds(kFetchSlotWaitSeconds))) {
    return Status::Unavailable("cannot fetch collateral for " + key.Describe() + ": all " +
                               std::to_string(kMaxConcurrentFetches) + " fetches from PCCS " +
                               options.pccs_url + " are still running after " +
                               std::to_string(kFetchSlotWaitSeconds) + " s");
  }
  auto fetched = pccs::FetchCollateral(options.pccs_url, key.fmspc, key.ca, key.number);
  fetch_slots.release();
  if (!fetched.ok()) {
    const Status& s = fetched.status();
    if (s.code() == Status::Code::kNotFound) {
      return Status::NotFound("no collateral for " + key.Describe() + " at PCCS " +
                              options.pccs_url + ": " + s.message());
    }
    return Status::Unavailable("cannot fetch collateral for " + key.Describe() + " from PCCS " +
                               options.pccs_url + ": " + s.message());
  }
  auto built = Build(std::move(fetched).value(), root, simulated_root);
  if (!built.ok()) {
    return Status::Unavailable("PCCS " + options.pccs_url + " served collateral for " +
                               key.Describe() +
                               " that cannot be used: " + built.status().message());
  }
  // A PCCS that ignores tcbEvaluationDataNumber answers with its default: that is not the
  // baseline asked for, and caching it under the number would apply the wrong one.
  if (key.number) {
    long tcb = built->pv.verifier->tcb_info().tcb_evaluation_data_number;
    long qe = built->pv.verifier->qe_identity().tcb_evaluation_data_number;
    if (tcb != long(*key.number) || qe != long(*key.number)) {
      return Status::NotFound("PCCS " + options.pccs_url + " answered the request for " +
                              key.Describe() + " with TCB Info number " + std::to_string(tcb) +
                              " and QE Identity number " + std::to_string(qe) +
                              ": it does not serve that tcbEvaluationDataNumber");
    }
  }
  return built;
}

void CollateralCache::Impl::Install(const Key& key, Built built, std::vector<const char*>* events) {
  const std::string id = key.Id();
  if (auto it = entries.find(id); it != entries.end()) {
    lru.erase(it->second.lru);
    entries.erase(it);
  }
  while (!entries.empty() && entries.size() >= options.max_platforms) {
    entries.erase(lru.back());
    lru.pop_back();
    events->push_back("evict");
  }
  lru.push_front(id);
  Entry& e = entries[id];
  e.key = key;
  e.refresh_at = RefreshTime(built.next_update, now());
  e.built = std::move(built);
  e.lru = lru.begin();
  wake_refresher.notify_all();
}

Result<PlatformVerifier> CollateralCache::Impl::Online(const Key& key) {
  const std::string id = key.Id();
  std::unique_lock<std::mutex> lock(mu);
  const std::time_t t = now();
  if (auto it = entries.find(id); it != entries.end()) {
    Entry& e = it->second;
    if (t >= e.built.next_update && !e.refresh_error.ok()) {
      return Status::Unavailable("the collateral for " + key.Describe() +
                                 " passed its nextUpdate " + FormatRfc3339(e.built.next_update) +
                                 " and refreshing it fails: " + e.refresh_error.message());
    }
    lru.splice(lru.begin(), lru, e.lru);
    PlatformVerifier pv = e.built.pv;
    pv.cache_hit = true;
    lock.unlock();
    Emit({"hit"});
    return pv;
  }
  if (auto it = failures.find(id); it != failures.end()) {
    if (t < it->second.until) {
      const Status& s = it->second.status;
      return Status(s.code(), s.message() + " (answer remembered; asked again after " +
                                  FormatRfc3339(it->second.until) + ")");
    }
    failures.erase(it);
  }
  if (auto it = flights.find(id); it != flights.end()) {
    std::shared_ptr<Flight> flight = it->second;
    flight_done.wait(lock, [&] { return flight->done; });
    return flight->result;
  }
  // The budget of first fetches: a sweep over platforms or numbers meets it, cached and
  // remembered keys and refreshes do not.
  if (t - budget_window_start >= 60) {
    budget_window_start = t;
    budget_used = 0;
  }
  if (budget_used >= kMaxFetchesPerMinute) {
    return Status::Unavailable("cannot fetch collateral for " + key.Describe() + " from PCCS " +
                               options.pccs_url + ": " + std::to_string(kMaxFetchesPerMinute) +
                               " fetches of platforms not cached already in this minute");
  }
  ++budget_used;
  auto flight = std::make_shared<Flight>();
  flights.emplace(id, flight);
  lock.unlock();

  Result<Built> built = Fetch(key);
  std::vector<const char*> events;
  lock.lock();
  if (built.ok()) {
    flight->result = built->pv;
    Install(key, std::move(built).value(), &events);
    events.push_back("fetch");
  } else {
    flight->result = built.status();
    const Status& s = built.status();
    std::time_t ttl =
        s.code() == Status::Code::kNotFound ? kNotFoundTtlSeconds : kUnreachableTtlSeconds;
    if (failures.size() >= kMaxRememberedFailures) {
      for (auto f = failures.begin(); f != failures.end();) {
        f = f->second.until <= t ? failures.erase(f) : std::next(f);
      }
      if (failures.size() >= kMaxRememberedFailures) failures.clear();
    }
    failures[id] = Remembered{s, now() + ttl};
    events.push_back("fetch_error");
  }
  flight->done = true;
  flights.erase(id);
  flight_done.notify_all();
  Result<PlatformVerifier> result = flight->result;
  lock.unlock();
  if (!result.ok()) {
    uint64_t dropped = 0;
    if (g_fetch_error_log.Allow(&dropped)) {
      spdlog::warn("collateral: {}{}", EscapeForLog(result.status().message()),
                   dropped > 0 ? " (" + std::to_string(dropped) + " more suppressed)" : "");
    }
  }
  Emit(events);
  return result;
}

size_t CollateralCache::Impl::RefreshDue() {
  if (!online()) return 0;
  std::vector<Key> due;
  {
    std::lock_guard<std::mutex> lock(mu);
    const std::time_t t = now();
    for (const auto& [id, e] : entries) {
      if (e.refresh_at <= t) due.push_back(e.key);
    }
  }
  for (const Key& key : due) {
    Result<Built> built = Fetch(key);
    std::vector<const char*> events;
    std::unique_lock<std::mutex> lock(mu);
    auto it = entries.find(key.Id());
    if (it == entries.end()) continue;  // evicted meanwhile
    Entry& e = it->second;
    const std::time_t t = now();
    if (built.ok()) {
      e.built = std::move(built).value();
      e.refresh_at = std::max(RefreshTime(e.built.next_update, t), t + 1);
      e.refresh_error = Status::Ok();
      events.push_back("refresh");
    } else {
      e.refresh_error = built.status();
      e.refresh_at = t + kRefreshRetrySeconds;
      events.push_back("fetch_error");
      const std::string until = t < e.built.next_update
                                    ? "the cached collateral serves until its nextUpdate " +
                                          FormatRfc3339(e.built.next_update)
                                    : "quotes of this platform get Unavailable until it succeeds";
      lock.unlock();
      spdlog::warn("collateral: refresh failed, {}: {}", until,
                   EscapeForLog(built.status().message()));
    }
    if (lock.owns_lock()) lock.unlock();
    Emit(events);
  }
  return due.size();
}

void CollateralCache::Impl::RefreshLoop() {
  while (true) {
    RefreshDue();
    std::unique_lock<std::mutex> lock(mu);
    if (stopping) return;
    // Wake at the earliest refresh time, and at least hourly in case the clock jumped.
    std::time_t wait = kMaxRefreshMarginSeconds;
    const std::time_t t = now();
    for (const auto& [id, e] : entries) wait = std::min(wait, e.refresh_at - t);
    wake_refresher.wait_for(lock, std::chrono::seconds(std::max<std::time_t>(wait, 1)));
    if (stopping) return;
  }
}

Status CollateralCache::Impl::LoadOffline() {
  namespace fs = std::filesystem;
  const std::string& dir = options.collateral_dir;
  std::vector<std::pair<std::string, std::string>> platforms;  // {folder, FMSPC it is named by}
  std::error_code ec;
  if (fs::exists(dir + "/" + verify::kTcbInfoFile, ec)) {
    platforms.emplace_back(dir, "");
  } else {
    if (!fs::is_directory(dir, ec)) {
      return Status::InvalidArgument("collateral directory " + dir + " is not a directory");
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.starts_with(".") || !entry.is_directory(ec)) continue;  // ConfigMap's ..data
      if (!IsFmspcName(name)) {
        spdlog::warn("collateral: ignoring {}/{}: not named by an FMSPC (12 hex digits)",
                     EscapeForLog(dir), EscapeForLog(name));
        continue;
      }
      platforms.emplace_back(dir + "/" + name, Lower(name));
    }
    if (ec) return Status::FromErrno("collateral directory " + dir, ec.value());
    std::sort(platforms.begin(), platforms.end());
  }
  if (platforms.empty()) {
    return Status::InvalidArgument(
        "collateral directory " + dir + " holds no collateral: neither " + verify::kTcbInfoFile +
        " (one platform) nor subfolders named by lower-case FMSPC hex (several), each as "
        "`sgxctl collateral -o DIR` writes it");
  }
  if (platforms.size() > options.max_platforms) {
    return Status::InvalidArgument(
        "collateral directory " + dir + " holds " + std::to_string(platforms.size()) +
        " platforms, over max_platforms (" + std::to_string(options.max_platforms) + ")");
  }
  const std::time_t t = now();
  for (const auto& [folder, named] : platforms) {
    CONFCOM_ASSIGN_OR_RETURN(verify::Collateral c, verify::LoadCollateralDir(folder));
    auto built = Build(std::move(c), root, simulated_root);
    if (!built.ok()) return built.status().WithContext("collateral in " + folder);
    const std::string fmspc = ToHex(built->pv.verifier->tcb_info().fmspc);
    if (!named.empty() && named != fmspc) {
      return Status::InvalidArgument("collateral in " + folder + " is TCB Info for FMSPC " + fmspc +
                                     ", not the FMSPC the folder is named by");
    }
    if (offline.count(fmspc) != 0) {
      return Status::InvalidArgument("collateral directory " + dir + " holds FMSPC " + fmspc +
                                     " twice");
    }
    if (built->next_update <= t) {
      spdlog::warn(
          "offline collateral in {} (FMSPC {}) passed its nextUpdate {}: quotes of this "
          "platform fail the validity check until the files are replaced",
          EscapeForLog(folder), fmspc, FormatRfc3339(built->next_update));
    }
    spdlog::info(
        "collateral: offline, FMSPC {} from {} (tcbEvaluationDataNumber {}, valid until {})", fmspc,
        EscapeForLog(folder), built->number, FormatRfc3339(built->next_update));
    auto op = std::make_unique<OfflinePlatform>();
    op->built = std::move(built).value();
    op->expiry_logged = op->built.next_update <= t;  // just said
    op->dir = folder;
    offline.emplace(fmspc, std::move(op));
  }
  return Status::Ok();
}

Result<std::unique_ptr<CollateralCache::Impl>> CollateralCache::Impl::Make(
    CollateralCacheOptions options, std::function<std::time_t()> clock) {
  if (options.pccs_url.empty() == options.collateral_dir.empty()) {
    return Status::InvalidArgument(
        "collateral: give exactly one of a PCCS URL (online) and a collateral directory "
        "(offline)");
  }
  if (options.max_platforms == 0) {
    return Status::InvalidArgument("collateral: max_platforms must be at least 1");
  }
  if (!options.pccs_url.empty()) {
    CONFCOM_RETURN_IF_ERROR(pccs::ParsePccsUrl(options.pccs_url).status());
  }
  auto impl = std::make_unique<CollateralCache::Impl>();
  if (options.trust_root_pem_file.empty()) {
    impl->root = verify::IntelSgxRootCa();
    impl->root_description = "Intel's SGX Root CA";
  } else {
    const std::string& file = options.trust_root_pem_file;
    CONFCOM_ASSIGN_OR_RETURN(std::string pem, ReadFile(file, 64 << 10));
    auto cert = pki::Certificate::FromPem(pem);
    if (!cert.ok()) {
      return Status::InvalidArgument("trust root " + file + ": " + cert.status().message());
    }
    impl->root = *cert;
    if (cert->ToDer() == verify::IntelSgxRootCa().ToDer()) {
      impl->root_description = "Intel's SGX Root CA (from " + file + ")";
    } else {
      // A simulated platform's root has Intel's subject: say which file, and whether it is
      // marked as simulated, so that the log tells the two apart.
      impl->simulated_root = true;
      impl->root_description = "the root from " + file;
      spdlog::warn(
          "collateral: trusting {} ({}, {}) in place of Intel's SGX Root CA: every token will say "
          "so",
          EscapeForLog(file), EscapeForLog(cert->Subject()),
          sim::CarriesSimMarker(*cert) ? "a confcom simulated platform's root"
                                       : "not marked as simulated");
    }
  }
  impl->options = std::move(options);
  impl->now = std::move(clock);
  return impl;
}

Result<std::unique_ptr<CollateralCache>> CollateralCache::Create(CollateralCacheOptions options) {
  CONFCOM_ASSIGN_OR_RETURN(auto impl,
                           Impl::Make(std::move(options), [] { return std::time(nullptr); }));
  Impl& i = *impl;
  if (!i.online()) CONFCOM_RETURN_IF_ERROR(i.LoadOffline());
  std::unique_ptr<CollateralCache> cache(new CollateralCache(std::move(impl)));
  if (i.online()) {
    spdlog::info(
        "collateral: fetched from PCCS {} when a platform first needs it, refreshed before its "
        "nextUpdate; at most {} platforms cached",
        EscapeForLog(i.options.pccs_url), i.options.max_platforms);
    i.refresher = std::thread([&i] { i.RefreshLoop(); });
  }
  return cache;
}

Result<std::unique_ptr<CollateralCache>> CollateralCache::CreateWithClockForTest(
    CollateralCacheOptions options, std::function<std::time_t()> clock) {
  CONFCOM_ASSIGN_OR_RETURN(auto impl, Impl::Make(std::move(options), std::move(clock)));
  if (!impl->online()) CONFCOM_RETURN_IF_ERROR(impl->LoadOffline());
  return std::unique_ptr<CollateralCache>(new CollateralCache(std::move(impl)));
}

CollateralCache::CollateralCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CollateralCache::~CollateralCache() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake_refresher.notify_all();
  if (impl_->refresher.joinable()) impl_->refresher.join();
}

Result<PlatformVerifier> CollateralCache::VerifierFor(
    ByteSpan quote, std::optional<uint32_t> tcb_evaluation_data_number) {
  CONFCOM_ASSIGN_OR_RETURN(Platform p, impl_->Identify(quote));
  if (!impl_->online()) return impl_->Offline(p, tcb_evaluation_data_number);
  return impl_->Online(Key{p.fmspc, p.ca, tcb_evaluation_data_number});
}

Status CollateralCache::Ready() const { return Status::Ok(); }

size_t CollateralCache::RefreshDue() { return impl_->RefreshDue(); }

}  // namespace confcom::attest
