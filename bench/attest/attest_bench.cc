// attest_bench: attestations/s and latency of the real sgx-attest over HTTPS keep-alive, beside
// the cost of one quote verification and one RS256 signature measured in the same run.
//
// Starts the sgx-attest built in the same tree with a throw-away serving certificate (openssl
// CLI), a signing key made in memory, and the simulated platform's collateral from files
// (`sgxctl collateral`, so the cache is warm from the first request), --handler-threads = the
// machine's cores. For --clients (default 1,16,128) concurrent clients, each on one TLS
// keep-alive connection (cpp-httplib, certificate verified), closed loop for --seconds
// (default 4): POST /attest/SgxEnclave with a simulated quote and Binary runtimeData:
// attestations/s, p50/p99/max, and the CPU the service used (from /proc/<pid>/stat).
// Then, single-threaded in this process: QuoteVerifier::Verify (collateral parsed once, as the
// service's cache holds it) and attest::SignToken on the claims of a real token.
// ratio = attestations/s / (cores × 1/(verify + sign)), with cores = the CPU the service
// actually used during the phase (service CPU seconds / wall seconds): its efficiency per core.
// Goals: ratio >= 0.7 and p99 < 20 ms at 16 clients. Exit status 0 either way (1 only if the
// bench could not run).
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "attest/token/signing.h"
#include "attest/token/request.h"
#include "crypto/crypto.h"
#include "quoting/sim_backend.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "sim/collateral_issuer.h"
#include "verify/verifier.h"

namespace {

using namespace confcom;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string bin = SGX_ATTEST_BIN;
  std::string sgxctl = SGXCTL_BIN;
  std::vector<int> clients = {1, 16, 128};
  double seconds = 4;
  int handler_threads = 0;  // 0: the machine's cores
};

struct Stats {
  double per_second = 0, p50_ms = 0, p99_ms = 0, max_ms = 0, service_cores = 0;
  size_t failures = 0, count = 0;
};

// The service's user + system CPU seconds so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// One phase: `clients` threads, each with its own keep-alive connection, closed loop.
Stats Run(const Args& a, int clients, int port, const std::string& ca, const std::string& body,
          pid_t pid) {
  std::vector<std::vector<double>> lat(clients);
  std::atomic<size_t> failures{0};
  std::atomic<int> connected{0};
  std::atomic<int64_t> start_ns{0};
  std::vector<std::thread> threads;
  double cpu0 = 0;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      httplib::SSLClient cli("localhost", port);
      cli.set_ca_cert_path(ca.c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(30, 0);
      cli.Get("/healthz");  // connect + handshake outside the measurement
      if (++connected == clients) {
        cpu0 = CpuSeconds(pid);
        start_ns = (Clock::now() + std::chrono::milliseconds(20)).time_since_epoch().count();
      }
      while (start_ns.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto start = Clock::time_point(Clock::duration(start_ns.load()));
      const auto end = start + std::chrono::microseconds(int64_t(a.seconds * 1e6));
      std::this_thread::sleep_until(start);
      for (;;) {
        auto t0 = Clock::now();
        if (t0 >= end) break;
        httplib::Result r =
            cli.Post("/attest/SgxEnclave?api-version=2022-08-01", body, "application/json");
        auto t1 = Clock::now();
        if (!r || r->status != 200) {
          failures++;
        } else {
          lat[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double cpu1 = CpuSeconds(pid);
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Stats s;
  s.count = all.size();
  s.failures = failures;
  // The phase ends when the last client's last request returns (at most one request past end).
  s.service_cores = (cpu1 - cpu0) / a.seconds;
  if (all.empty()) return s;
  s.per_second = all.size() / a.seconds;
  s.p50_ms = all[all.size() / 2];
  s.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  s.max_ms = all.back();
  return s;
}

// Seconds per call of `work` on this thread, over about `seconds`.
template <typename Work>
double SecondsPerCall(double seconds, Work work) {
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t n = 0;
  while (Clock::now() < end) {
    if (!work()) std::abort();
    ++n;
  }
  return std::chrono::duration<double>(Clock::now() - t0).count() / double(n);
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atoi(item.c_str()));
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--clients") a.clients = ParseList(argv[i + 1]);
    else if (k == "--seconds") a.seconds = std::atof(argv[i + 1]);
    else if (k == "--handler-threads") a.handler_threads = std::atoi(argv[i + 1]);
    else if (k == "--attest") a.bin = argv[i + 1];
    else if (k == "--sgxctl") a.sgxctl = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: attest_bench [--clients 1,16,128] [--seconds S] [--handler-threads N] "
                   "[--attest PATH] [--sgxctl PATH]\n");
      return 2;
    }
  }
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  if (a.handler_threads <= 0) a.handler_threads = cores;
  char tmpl[] = "/tmp/attest-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  std::string gen =
      "cd " + dir +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout tls.key -out tls.crt "
      "2>/dev/null";
  if (std::system(gen.c_str()) != 0) {
    std::fprintf(stderr, "attest_bench: openssl could not make a certificate\n");
    return 1;
  }
  // The simulated platform: quotes made here, its collateral written by sgxctl for the service.
  auto platform = sim::SimPlatform::LoadOrCreate(dir + "/state");
  if (!platform.ok()) return std::fprintf(stderr, "%s\n", platform.status().ToString().c_str()), 1;
  auto backend = std::move(quoting::SimBackend::Create(std::move(platform).value())).value();
  std::string coll =
      a.sgxctl + " collateral --state-dir " + dir + "/state -o " + dir + "/collateral >/dev/null";
  if (std::system(coll.c_str()) != 0) {
    std::fprintf(stderr, "attest_bench: sgxctl collateral failed\n");
    return 1;
  }
  const std::string rd_text = "bench public key 0123456789abcdef";
  Bytes runtime_data(AsBytes(rd_text).begin(), AsBytes(rd_text).end());
  auto key_id = sgx::EcdsaP256AttKeyId();
  sgx::ReportBody rb;
  rb.cpu_svn = sgx::kSimCpuSvnDefault;
  rb.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  rb.mr_enclave.fill(0xa1);
  rb.mr_signer.fill(0xa2);
  auto digest = crypto::Sha256(runtime_data);
  std::copy(digest.begin(), digest.end(), rb.report_data.begin());
  auto report = sgx::MakeSimReport(backend->Init(key_id)->qe_target_info, rb)->Encode();
  Bytes quote = std::move(backend->Quote(report, key_id, nullptr)).value();
  const std::string body =
      nlohmann::json{{"quote", attest::Base64UrlEncode(quote)},
                     {"runtimeData",
                      {{"data", attest::Base64UrlEncode(runtime_data)}, {"dataType", "Binary"}}}}
          .dump();

  const std::string log = dir + "/attest.log";
  const std::string threads = std::to_string(a.handler_threads);
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(log.c_str(), "w", stderr)) _exit(126);
    execl(a.bin.c_str(), a.bin.c_str(), "--listen", "127.0.0.1:0", "--tls-cert-file",
          (dir + "/tls.crt").c_str(), "--tls-private-key-file", (dir + "/tls.key").c_str(),
          "--issuer", "https://sgx-attest.bench.test", "--collateral-dir",
          (dir + "/collateral").c_str(), "--trust-root", (dir + "/state/root_ca.pem").c_str(),
          "--metrics-address", "off", "--max-connections", "512",
          // Every client is 127.0.0.1: the per-address cap (64) must not apply.
          "--max-connections-per-client", "512", "--handler-threads", threads.c_str(),
          "--log-level", "info", static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 2000 && port == 0; ++i) {
    std::string text = ReadFile(log);
    size_t at = text.find("serving HTTPS on 127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 27);
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto stop = [&] {
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
  };
  if (port == 0) {
    std::fprintf(stderr, "attest_bench: sgx-attest did not start (see %s)\n", log.c_str());
    kill(pid, SIGKILL);
    return 1;
  }
  const std::string ca = dir + "/tls.crt";

  // One attestation to warm up and to check that it works; its claims are the signing input.
  httplib::SSLClient probe("localhost", port);
  probe.set_ca_cert_path(ca.c_str());
  probe.enable_server_certificate_verification(true);
  auto first = probe.Post("/attest/SgxEnclave?api-version=2022-08-01", body, "application/json");
  auto certs = probe.Get("/certs");
  if (!first || first->status != 200 || !certs || certs->status != 200) {
    std::fprintf(stderr, "attest_bench: the first attestation failed: %s\n%s\n",
                 first ? first->body.c_str() : "no answer", ReadFile(log).c_str());
    stop();
    return 1;
  }
  auto token = nlohmann::json::parse(first->body, nullptr, false).value("token", "");
  auto claims = attest::VerifyToken(token, certs->body, std::time(nullptr));
  if (!claims.ok()) {
    std::fprintf(stderr, "attest_bench: token does not verify: %s\n",
                 claims.status().ToString().c_str());
    stop();
    return 1;
  }

  std::printf(
      "sgx-attest over HTTPS keep-alive: POST /attest/SgxEnclave, simulated quote (%zu bytes), "
      "collateral warm (files), %d handler thread(s), %u CPU(s), %.1f s per phase\n",
      quote.size(), a.handler_threads, unsigned(cores), a.seconds);
  std::vector<std::pair<int, Stats>> runs;
  for (int c : a.clients) {
    Stats s = Run(a, c, port, ca, body, pid);
    runs.emplace_back(c, s);
    std::printf(
        "%4d client(s) %8.0f attestations/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   "
        "service CPU %.2f core(s)   (%zu ok, %zu failed)\n",
        c, s.per_second, s.p50_ms, s.p99_ms, s.max_ms, s.service_cores, s.count, s.failures);
  }
  stop();

  // The same work single-threaded in this process: verification with the collateral parsed
  // once (as the service's cache keeps it) and one RS256 signature over the token's claims.
  auto collateral = sim::MakeSimCollateral(backend->platform());
  auto verifier =
      std::move(verify::QuoteVerifier::Create(*collateral, backend->platform().root_ca())).value();
  double verify_s = SecondsPerCall(1.5, [&] { return verifier->Verify(quote).verified; });
  auto signing_key = attest::SigningKey::Generate("https://sgx-attest.bench.test",
                                                  std::time(nullptr), std::time(nullptr) + 3600);
  if (!signing_key.ok()) return 1;
  double sign_s = SecondsPerCall(1.5, [&] {
    return attest::SignToken(*signing_key, "https://sgx-attest.bench.test", *claims).ok();
  });
  const double per_core = 1.0 / (verify_s + sign_s);
  std::printf("one QuoteVerifier::Verify %.1f us, one SignToken (RS256) %.1f us: %.0f/s per core\n",
              verify_s * 1e6, sign_s * 1e6, per_core);
  for (auto& [c, s] : runs) {
    double used = std::max(s.service_cores, 1e-9);
    std::printf(
        "%4d client(s) ratio %.2f   (%.0f/s ÷ (%.2f core(s) × %.0f/s); on all %d cores: %.2f)\n", c,
        s.per_second / (used * per_core), s.per_second, used, per_core, cores,
        s.per_second / (cores * per_core));
  }
  for (auto& [c, s] : runs) {
    if (c != 16) continue;
    double ratio = s.per_second / (std::max(s.service_cores, 1e-9) * per_core);
    std::printf("goal ratio >= 0.70 at 16 clients: %.2f %s\n", ratio,
                ratio >= 0.7 && s.failures == 0 ? "PASS" : "FAIL");
    std::printf("goal p99 < 20 ms at 16 clients: %.2f ms %s\n", s.p99_ms,
                s.p99_ms < 20.0 && s.failures == 0 ? "PASS" : "FAIL");
  }
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
