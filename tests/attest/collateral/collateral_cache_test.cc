#include "attest/collateral/collateral_cache.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "pccs/pccs.h"
#include "pki/x509.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "testing/test_util.h"

namespace confcom::attest {
namespace {

constexpr std::time_t kDay = 86400;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A sim platform's quotes, and quotes whose PCK certificate names another FMSPC (issued by the
// platform's own PCK CA, so they still chain to its root).
class SimQuotes {
 public:
  explicit SimQuotes(const std::string& state_dir)
      : backend_(quoting::SimBackend::Create(*sim::SimPlatform::LoadOrCreate(state_dir)).value()) {}
  const sim::SimPlatform& platform() const { return backend_->platform(); }

  Bytes Quote() {
    auto key = sgx::EcdsaP256AttKeyId();
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    body.mr_enclave.fill(0xe1);
    body.mr_signer.fill(0xe2);
    body.report_data.fill(0xdd);
    auto report = sgx::MakeSimReport(backend_->Init(key)->qe_target_info, body)->Encode();
    return std::move(backend_->Quote(report, key, nullptr)).value();
  }

  Bytes QuoteWithFmspc(const sgx::Array<6>& fmspc) {
    auto parsed = sgx::ParseQuoteV3(Quote());
    EXPECT_TRUE(parsed.ok());
    sgx::QuoteV3 q = parsed->quote;
    auto chain = pki::Certificate::ChainFromPem(AsChars(q.cert_data));
    EXPECT_TRUE(chain.ok());
    auto ext = (*chain)[0].SgxExt();
    EXPECT_TRUE(ext.ok());
    ext->fmspc = fmspc;
    pki::CertificateSpec spec;
    spec.common_name = "Intel SGX PCK Certificate";
    spec.not_before = std::time(nullptr) - kDay;
    spec.not_after = std::time(nullptr) + 365 * kDay;
    spec.extensions.push_back({pki::kSgxExtensionOid, *pki::EncodeSgxExtension(*ext)});
    auto leaf = pki::IssueCertificate(spec, *crypto::EcKey::Generate(), &platform().pck_ca(),
                                      platform().pck_ca_key());
    EXPECT_TRUE(leaf.ok()) << leaf.status().ToString();
    std::string pem = leaf->ToPem() + (*chain)[1].ToPem() + (*chain)[2].ToPem();
    q.cert_data.assign(pem.begin(), pem.end());
    return q.Encode();
  }

 private:
  std::unique_ptr<quoting::SimBackend> backend_;
};

// The simulated PCCS of a platform on a free port.
class Pccs {
 public:
  Pccs(const sim::SimPlatform& p, const sim::CollateralOptions& o = {}) {
    collateral = *sim::MakeSimCollateral(p, o);
    std::map<std::string, verify::PckCrlBundle> crls = {
        {pki::PckCaName(p.info().pck_ca),
         {collateral.pck_crl_der, collateral.pck_crl_issuer_chain_pem}}};
    server_ = std::make_unique<pccs::PccsServer>(collateral, p.info().fmspc, crls, true);
    EXPECT_TRUE(server_->Bind("127.0.0.1", 0).ok());
    url = "http://127.0.0.1:" + std::to_string(server_->port());
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Serve().ok()); });
  }
  ~Pccs() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    server_->Stop();
    thread_.join();
  }
  verify::Collateral collateral;
  std::string url;

 private:
  std::unique_ptr<pccs::PccsServer> server_;
  std::thread thread_;
};

// Between the cache and a PCCS: counts requests by path, keeps their query strings, and can
// delay each answer (so that concurrent requests overlap).
class Proxy {
 public:
  Proxy(const std::string& upstream, std::chrono::milliseconds delay = {}) {
    server_.Get(".*", [this, upstream, delay](const httplib::Request& req, httplib::Response& res) {
      std::string query = httplib::detail::params_to_query_str(req.params);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++counts_[req.path];
        queries_.push_back(req.path + "?" + query);
      }
      std::this_thread::sleep_for(delay);
      httplib::Client client(upstream);
      auto r = client.Get(req.path + (query.empty() ? "" : "?" + query));
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      // httplib's client hands header values over percent-decoded: encode them again.
      for (const auto& [name, value] : r->headers) {
        if (name.ends_with("Issuer-Chain")) res.set_header(name, pccs::PercentEncode(value));
      }
      res.set_content(r->body, r->get_header_value("Content-Type"));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    url = "http://127.0.0.1:" + std::to_string(port_);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Proxy() {
    server_.stop();
    thread_.join();
  }
  int count(const std::string& path_suffix) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [path, c] : counts_) {
      if (path.ends_with(path_suffix)) n += c;
    }
    return n;
  }
  std::vector<std::string> queries() {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }
  std::string url;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, int> counts_;
  std::vector<std::string> queries_;
};

class Events {
 public:
  std::function<void(std::string_view)> Recorder() {
    return [this](std::string_view e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.emplace_back(e);
    };
  }
  int count(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu_);
    return int(std::count(events_.begin(), events_.end(), e));
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (const auto& e : events_) s += e + " ";
    return s;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

class CollateralCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    quotes_ = std::make_unique<SimQuotes>(dir_.File("s"));
    root_file_ = dir_.File("root_ca.pem");
    ASSERT_TRUE(WriteFileAtomic(root_file_, platform().root_ca().ToPem(), 0644).ok());
  }
  const sim::SimPlatform& platform() const { return quotes_->platform(); }

  CollateralCacheOptions Online(const std::string& url) {
    CollateralCacheOptions o;
    o.pccs_url = url;
    o.trust_root_pem_file = root_file_;
    o.on_event = events_.Recorder();
    return o;
  }
  CollateralCacheOptions Offline(const std::string& dir) {
    CollateralCacheOptions o;
    o.collateral_dir = dir;
    o.trust_root_pem_file = root_file_;
    o.on_event = events_.Recorder();
    return o;
  }
  std::unique_ptr<CollateralCache> Make(CollateralCacheOptions o) {
    auto c = CollateralCache::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  // A cache whose clock is clock_ and which refreshes only when told.
  std::unique_ptr<CollateralCache> MakeWithClock(CollateralCacheOptions o) {
    auto c =
        CollateralCache::CreateWithClockForTest(std::move(o), [this] { return clock_.load(); });
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<SimQuotes> quotes_;
  std::string root_file_;
  Events events_;
  std::atomic<std::time_t> clock_{std::time(nullptr)};
};

TEST_F(CollateralCacheTest, FirstRequestFetchesTheNextIsAHitAndTheVerifierVerifies) {
  Pccs pccs(platform());
  auto cache = Make(Online(pccs.url));
  ASSERT_NE(cache, nullptr);
  EXPECT_TRUE(cache->Ready().ok());
  Bytes quote = quotes_->Quote();

  auto first = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->cache_hit);
  EXPECT_TRUE(first->simulated_root);
  EXPECT_EQ(first->collateral->tcb_info_json, pccs.collateral.tcb_info_json);
  EXPECT_EQ(events_.all(), "fetch ");

  auto second = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->verifier, first->verifier);
  EXPECT_EQ(events_.all(), "fetch hit ");

  verify::Verdict v = second->verifier->Verify(quote);
  EXPECT_TRUE(v.verified) << v.message;
  EXPECT_EQ(v.result, verify::QvResult::kOk);
}

// Intel's root by default: a simulated quote does not chain to it, and nothing is fetched.
TEST_F(CollateralCacheTest, QuotesNotUnderTheTrustRootAreRefusedWithoutAFetch) {
  Pccs pccs(platform());
  CollateralCacheOptions o = Online(pccs.url);
  o.trust_root_pem_file.clear();
  auto cache = Make(o);
  ASSERT_NE(cache, nullptr);
  auto r = cache->VerifierFor(quotes_->Quote(), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(
      Contains(r.status().message(), "does not lead to the trusted root, Intel's SGX Root CA"))
      << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "SIMULATED")) << r.status().message();
  EXPECT_EQ(events_.all(), "");

  // Another simulated platform's quote under this one's root.
  SimQuotes other(dir_.File("other"));
  auto trusting = Make(Online(pccs.url));
  auto o2 = trusting->VerifierFor(other.Quote(), std::nullopt);
  ASSERT_FALSE(o2.ok());
  EXPECT_TRUE(Contains(o2.status().message(), "the root from " + root_file_))
      << o2.status().message();

  auto garbage = trusting->VerifierFor(AsBytes("not a quote"), std::nullopt);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(garbage.status().message(), "quote")) << garbage.status().message();
}

TEST_F(CollateralCacheTest, RefreshesAMarginBeforeNextUpdate) {
  Pccs pccs(platform());
  auto cache = MakeWithClock(Online(pccs.url));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto first = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::time_t next_update = first->verifier->tcb_info().next_update;  // 30 days on

  EXPECT_EQ(cache->RefreshDue(), 0u);
  clock_ = next_update - kMaxRefreshMarginSeconds - 10;  // not yet: 30 days' tenth is over 1 h
  EXPECT_EQ(cache->RefreshDue(), 0u);
  clock_ = next_update - kMaxRefreshMarginSeconds + 10;
  EXPECT_EQ(cache->RefreshDue(), 1u);
  EXPECT_EQ(events_.count("refresh"), 1) << events_.all();
  EXPECT_EQ(cache->RefreshDue(), 0u);  // the fresh entry's time is again an hour before

  auto after = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->cache_hit);
  EXPECT_NE(after->verifier, first->verifier);  // a new verifier from the new fetch
}

TEST_F(CollateralCacheTest, TheRefreshThreadRefreshesShortLivedCollateral) {
  // Collateral whose nextUpdate is 2 s away: the thread refreshes it then.
  sim::CollateralOptions o;
  o.now = std::time(nullptr) - 30 * kDay + 2;
  Pccs pccs(platform(), o);
  auto cache = Make(Online(pccs.url));
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->VerifierFor(quotes_->Quote(), std::nullopt).ok());
  for (int i = 0; i < 100 && events_.count("refresh") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(events_.count("refresh"), 1) << events_.all();
}

TEST_F(CollateralCacheTest, TheCachedEntryServesWhileTheRefreshFailsUntilNextUpdate) {
  auto pccs = std::make_unique<Pccs>(platform());
  const std::string url = pccs->url;
  auto cache = MakeWithClock(Online(url));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto first = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::time_t next_update = first->verifier->tcb_info().next_update;
  pccs.reset();  // the PCCS goes down

  clock_ = next_update - 60;
  EXPECT_EQ(cache->RefreshDue(), 1u);
  EXPECT_EQ(events_.count("fetch_error"), 1) << events_.all();
  auto served = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_TRUE(served->cache_hit);
  EXPECT_EQ(cache->RefreshDue(), 0u);  // retried kRefreshRetrySeconds later, not at once

  clock_ = next_update + 1;
  auto expired = cache->VerifierFor(quote, std::nullopt);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(Contains(expired.status().message(), "passed its nextUpdate"))
      << expired.status().message();
  EXPECT_TRUE(Contains(expired.status().message(), url)) << expired.status().message();
}

TEST_F(CollateralCacheTest, NoPccsAndNothingCachedIsUnavailableAndRemembered) {
  const std::string url = "http://127.0.0.1:1";
  auto cache = MakeWithClock(Online(url));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto r = cache->VerifierFor(quote, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(Contains(r.status().message(), url)) << r.status().message();
  EXPECT_EQ(events_.all(), "fetch_error ");

  auto again = cache->VerifierFor(quote, std::nullopt);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(Contains(again.status().message(), "remembered")) << again.status().message();
  EXPECT_EQ(events_.all(), "fetch_error ");  // not asked again
  clock_ += kUnreachableTtlSeconds;
  EXPECT_FALSE(cache->VerifierFor(quote, std::nullopt).ok());
  EXPECT_EQ(events_.all(), "fetch_error fetch_error ");
}

TEST_F(CollateralCacheTest, AnUnknownFmspcIsNotFoundAndNotAskedForAgainForAWhile) {
  Pccs pccs(platform());
  Proxy proxy(pccs.url);
  auto cache = MakeWithClock(Online(proxy.url));
  ASSERT_NE(cache, nullptr);
  const sgx::Array<6> made_up = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
  Bytes quote = quotes_->QuoteWithFmspc(made_up);

  auto r = cache->VerifierFor(quote, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(r.status().message(), "no collateral for FMSPC 00906ed50000"))
      << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "HTTP 404")) << r.status().message();
  EXPECT_EQ(proxy.count("/tcb"), 1);

  for (int i = 0; i < 5; ++i) {
    auto again = cache->VerifierFor(quote, std::nullopt);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), Status::Code::kNotFound);
  }
  EXPECT_EQ(proxy.count("/tcb"), 1);
  clock_ += kNotFoundTtlSeconds - 1;
  EXPECT_FALSE(cache->VerifierFor(quote, std::nullopt).ok());
  EXPECT_EQ(proxy.count("/tcb"), 1);
  clock_ += 1;
  EXPECT_FALSE(cache->VerifierFor(quote, std::nullopt).ok());
  EXPECT_EQ(proxy.count("/tcb"), 2);

  // The real platform is unaffected.
  EXPECT_TRUE(cache->VerifierFor(quotes_->Quote(), std::nullopt).ok());
}

TEST_F(CollateralCacheTest, ASweepOfPlatformsMeetsTheFetchBudget) {
  Pccs pccs(platform());
  Proxy proxy(pccs.url);
  auto cache = MakeWithClock(Online(proxy.url));
  ASSERT_NE(cache, nullptr);
  for (size_t i = 0; i < kMaxFetchesPerMinute; ++i) {
    auto r = cache->VerifierFor(quotes_->QuoteWithFmspc({0, 0, 0, 0, uint8_t(i >> 8), uint8_t(i)}),
                                std::nullopt);
    ASSERT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
  }
  EXPECT_EQ(proxy.count("/tcb"), int(kMaxFetchesPerMinute));
  Bytes quote = quotes_->Quote();
  auto over = cache->VerifierFor(quote, std::nullopt);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(Contains(over.status().message(), "60 fetches")) << over.status().message();
  EXPECT_EQ(proxy.count("/tcb"), int(kMaxFetchesPerMinute));
  clock_ += 60;
  EXPECT_TRUE(cache->VerifierFor(quote, std::nullopt).ok());
}

TEST_F(CollateralCacheTest, ConcurrentRequestsForOnePlatformShareOneFetch) {
  Pccs pccs(platform());
  Proxy proxy(pccs.url, std::chrono::milliseconds(100));
  auto cache = Make(Online(proxy.url));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto r = cache->VerifierFor(quote, std::nullopt);
      if (r.ok() && r->verifier->Verify(quote).verified) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(events_.count("fetch"), 1) << events_.all();
  EXPECT_EQ(proxy.count("/tcb"), 1);
  EXPECT_EQ(proxy.count("/qe/identity"), 1);
}

// Entries are (FMSPC, CA, TCB evaluation data number): one platform asked for the PCCS's
// default and for number 1 takes two.
TEST_F(CollateralCacheTest, EvictsTheLeastRecentlyUsedAtMaxPlatforms) {
  Pccs pccs(platform());
  CollateralCacheOptions o = Online(pccs.url);
  o.max_platforms = 2;
  auto cache = Make(o);
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  ASSERT_TRUE(cache->VerifierFor(quote, std::nullopt).ok());
  ASSERT_TRUE(cache->VerifierFor(quote, 1).ok());
  ASSERT_TRUE(cache->VerifierFor(quote, std::nullopt).ok());
  EXPECT_EQ(events_.all(), "fetch fetch hit ");

  o.max_platforms = 1;
  Events events;
  o.on_event = events.Recorder();
  auto small = Make(o);
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(small->VerifierFor(quote, std::nullopt).ok());
  ASSERT_TRUE(small->VerifierFor(quote, 1).ok());
  ASSERT_TRUE(small->VerifierFor(quote, 1).ok());
  ASSERT_TRUE(small->VerifierFor(quote, std::nullopt).ok());
  EXPECT_EQ(events.all(), "fetch evict fetch hit evict fetch ");
}

TEST_F(CollateralCacheTest, TheTcbEvaluationDataNumberReachesThePccs) {
  Pccs pccs(platform());
  Proxy proxy(pccs.url);
  auto cache = Make(Online(proxy.url));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto one = cache->VerifierFor(quote, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->verifier->tcb_info().tcb_evaluation_data_number, 1);
  std::string queries;
  for (const auto& q : proxy.queries()) queries += q + "\n";
  EXPECT_TRUE(Contains(
      queries, "/tcb?fmspc=" + ToHex(platform().info().fmspc) + "&tcbEvaluationDataNumber=1\n"))
      << queries;
  EXPECT_TRUE(Contains(queries, "/qe/identity?tcbEvaluationDataNumber=1\n")) << queries;

  auto two = cache->VerifierFor(quote, 2);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(two.status().message(), "tcbEvaluationDataNumber 2"))
      << two.status().message();
  EXPECT_TRUE(Contains(two.status().message(), "HTTP 404")) << two.status().message();
  EXPECT_TRUE(Contains(two.status().message(), "this PCCS has number 1")) << two.status().message();

  auto plain = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(Contains(proxy.queries().back(), "tcbEvaluationDataNumber"));
}

TEST_F(CollateralCacheTest, OfflineFromTheTopOfTheDirectory) {
  const std::string dir = dir_.File("col");
  ASSERT_TRUE(verify::WriteCollateralDir(*sim::MakeSimCollateral(platform()),
                                         platform().root_ca().ToPem(), dir)
                  .ok());
  auto cache = Make(Offline(dir));
  ASSERT_NE(cache, nullptr);
  EXPECT_TRUE(cache->Ready().ok());
  Bytes quote = quotes_->Quote();
  auto r = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->simulated_root);
  EXPECT_TRUE(r->verifier->Verify(quote).verified);
  EXPECT_TRUE(cache->VerifierFor(quote, 1).ok());
  EXPECT_EQ(cache->RefreshDue(), 0u);

  auto other = cache->VerifierFor(quotes_->QuoteWithFmspc({1, 2, 3, 4, 5, 6}), std::nullopt);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(other.status().message(), "FMSPC 010203040506")) << other.status().message();
  EXPECT_TRUE(Contains(other.status().message(), dir)) << other.status().message();

  auto number = cache->VerifierFor(quote, 3);
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(Contains(number.status().message(), "has tcbEvaluationDataNumber 1, not 3"))
      << number.status().message();
}

TEST_F(CollateralCacheTest, OfflineFromSubfoldersNamedByFmspc) {
  const std::string dir = dir_.File("col");
  const std::string fmspc = ToHex(platform().info().fmspc);
  auto collateral = *sim::MakeSimCollateral(platform());
  ASSERT_TRUE(verify::WriteCollateralDir(collateral, "", dir + "/" + fmspc).ok());
  ASSERT_TRUE(MakeDirs(dir + "/..data", 0755).ok());  // as a ConfigMap volume has
  auto cache = Make(Offline(dir));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto r = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->verifier->Verify(quote).verified);
  auto other = cache->VerifierFor(quotes_->QuoteWithFmspc({1, 2, 3, 4, 5, 6}), std::nullopt);
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(Contains(other.status().message(), "it has FMSPC " + fmspc))
      << other.status().message();

  // A folder whose name is not the FMSPC of its TCB Info.
  ASSERT_TRUE(verify::WriteCollateralDir(collateral, "", dir + "/00906ed50000").ok());
  auto wrong = CollateralCache::Create(Offline(dir));
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(Contains(wrong.status().message(), "not the FMSPC the folder is named by"))
      << wrong.status().message();
}

TEST_F(CollateralCacheTest, OfflineCollateralPastNextUpdateFailsTheValidityCheck) {
  const std::string dir = dir_.File("col");
  sim::CollateralOptions o;
  o.now = std::time(nullptr) - 60 * kDay;
  ASSERT_TRUE(verify::WriteCollateralDir(*sim::MakeSimCollateral(platform(), o), "", dir).ok());
  auto cache = Make(Offline(dir));
  ASSERT_NE(cache, nullptr);
  Bytes quote = quotes_->Quote();
  auto r = cache->VerifierFor(quote, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  verify::Verdict v = r->verifier->Verify(quote);
  EXPECT_FALSE(v.verified);
  EXPECT_EQ(v.failed, verify::Check::kValidity) << v.message;
}

TEST_F(CollateralCacheTest, RefusesUnusableOptions) {
  auto code_and_message = [](CollateralCacheOptions o, const std::string& part) {
    auto c = CollateralCache::Create(std::move(o));
    EXPECT_FALSE(c.ok());
    if (c.ok()) return;
    EXPECT_TRUE(Contains(c.status().message(), part)) << c.status().message();
  };
  CollateralCacheOptions both = Online("http://127.0.0.1:1");
  both.collateral_dir = dir_.path();
  code_and_message(both, "exactly one");
  code_and_message(CollateralCacheOptions{}, "exactly one");
  code_and_message(Online("http://pccs/sgx/certification/v3"), "API v3");
  CollateralCacheOptions zero = Online("http://127.0.0.1:1");
  zero.max_platforms = 0;
  code_and_message(zero, "max_platforms");
  CollateralCacheOptions bad_root = Online("http://127.0.0.1:1");
  ASSERT_TRUE(WriteFileAtomic(dir_.File("junk.pem"), "junk", 0644).ok());
  bad_root.trust_root_pem_file = dir_.File("junk.pem");
  code_and_message(bad_root, "trust root");
  ASSERT_TRUE(MakeDirs(dir_.File("empty"), 0755).ok());
  code_and_message(Offline(dir_.File("empty")), "holds no collateral");
  code_and_message(Offline(dir_.File("missing")), "not a directory");
}

// Intel's own root given as the file is not a simulated root.
TEST_F(CollateralCacheTest, IntelsRootFromAFileIsNotSimulated) {
  const std::string dir = dir_.File("col");
  ASSERT_TRUE(verify::WriteCollateralDir(*sim::MakeSimCollateral(platform()), "", dir).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.File("intel.pem"), verify::IntelSgxRootCa().ToPem(), 0644).ok());
  CollateralCacheOptions o = Offline(dir);
  o.trust_root_pem_file = dir_.File("intel.pem");
  auto cache = Make(o);
  ASSERT_NE(cache, nullptr);
  auto r = cache->VerifierFor(quotes_->Quote(), std::nullopt);
  ASSERT_FALSE(r.ok());  // a simulated quote is not under Intel's root
  EXPECT_TRUE(Contains(r.status().message(), "Intel's SGX Root CA (from")) << r.status().message();
}

}  // namespace
}  // namespace confcom::attest
