// Quote verification throughput: full DCAP verifications per second with the collateral
// parsed once (QuoteVerifier caches it and the PCK chain), on one thread and on all cores,
// next to OpenSSL's ECDSA P-256 verify rate measured in the same run. A verification needs at
// least two ECDSA verifies (quote, QE report), so the ceiling per core is verify_rate / 2;
// target: >= 0.4 x that.
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "crypto/crypto.h"
#include "quoting/sim_backend.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "verify/verifier.h"

namespace {

using namespace confcom;
using Clock = std::chrono::steady_clock;

// Runs `work` on `threads` threads for `seconds`; returns operations per second.
template <typename Work>
double Rate(int threads, double seconds, Work work) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!work()) std::abort();
        ++n;
      }
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return double(total) / std::chrono::duration<double>(Clock::now() - t0).count();
}

const char* Mark(bool ok) { return ok ? "OK" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  char tmpl[] = "/tmp/confcom-verify-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto platform = sim::SimPlatform::LoadOrCreate(dir + "/state");
  if (!platform.ok()) return std::fprintf(stderr, "%s\n", platform.status().ToString().c_str()), 1;
  auto backend = std::move(quoting::SimBackend::Create(std::move(platform).value())).value();
  auto key = sgx::EcdsaP256AttKeyId();
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  auto report = sgx::MakeSimReport(backend->Init(key)->qe_target_info, body)->Encode();
  Bytes quote = std::move(backend->Quote(report, key, nullptr)).value();
  auto collateral = sim::MakeSimCollateral(backend->platform());
  auto verifier =
      std::move(verify::QuoteVerifier::Create(*collateral, backend->platform().root_ca())).value();
  if (verifier->Verify(quote).result != verify::QvResult::kOk) {
    std::fprintf(stderr, "verify_bench: the benchmark quote does not verify\n");
    return 1;
  }

  // OpenSSL's own ECDSA P-256 verify, on a SHA-256 digest, with a prepared context per thread.
  auto ec = *crypto::EcKey::Generate();
  auto msg = AsBytes("benchmark message for ECDSA verification");
  auto digest = crypto::Sha256(msg);
  auto raw = *ec.Sign(msg);
  auto der = *crypto::RawSignatureToDer(raw);
  auto openssl_verify = [&] {
    thread_local EVP_PKEY_CTX* ctx = [&] {
      EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_pkey(nullptr, ec.evp(), nullptr);
      EVP_PKEY_verify_init(c);
      return c;
    }();
    return EVP_PKEY_verify(ctx, der.data(), der.size(), digest.data(), digest.size()) == 1;
  };
  auto full_verify = [&] { return verifier->Verify(quote).verified; };

  double ossl_1 = Rate(1, seconds, openssl_verify);
  double ossl_n = Rate(cores, seconds, openssl_verify);
  double ver_1 = Rate(1, seconds, full_verify);
  double ver_n = Rate(cores, seconds, full_verify);
  double ceiling_1 = ossl_1 / 2, ceiling_n = ossl_n / 2;
  std::printf(
      "verify_bench: %d core(s), %.1f s per figure, quote %zu bytes, collateral parsed once\n",
      cores, seconds, quote.size());
  std::printf("openssl ECDSA P-256 verify: 1 thread %.0f/s (%.1f us); %d threads %.0f/s\n", ossl_1,
              1e6 / ossl_1, cores, ossl_n);
  std::printf("full quote verification:    1 thread %.0f/s (%.1f us/quote); %d threads %.0f/s\n",
              ver_1, 1e6 / ver_1, cores, ver_n);
  std::printf(
      "ratio vs ceiling (verify_rate/2): 1 thread %.2f, %d threads %.2f (target >= 0.40) %s\n",
      ver_1 / ceiling_1, cores, ver_n / ceiling_n,
      Mark(ver_1 / ceiling_1 >= 0.4 && ver_n / ceiling_n >= 0.4));
  std::printf(
      "for scale (published): pure-JS dcap-qvl ~8-11 ms/quote, Rust dcap-qvl ~0.9 ms/quote\n");
  std::string rm = "rm -rf " + dir;
  return std::system(rm.c_str()) == 0 ? 0 : 1;
}
