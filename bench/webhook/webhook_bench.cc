// webhook_bench: reviews/s and latency of the real sgx-webhook over HTTPS keep-alive.
//
// Starts the sgx-webhook built in the same tree (--max-connections 256, as many per client) with a throw-away
// certificate (openssl CLI), then, with --clients (default 200) concurrent clients, each on one
// TLS keep-alive connection (cpp-httplib, server certificate verified):
//   1. baseline: GET /healthz round trips, closed loop (each client sends its next request as
//      soon as the last is answered), for --seconds: requests/s and p50/p99;
//   2. reviews, closed loop: POST /mutate-pods with the AKS quickstart pod (a 4-op patch back):
//      reviews/s, p50/p99, and the ratio to the baseline rate;
//   3. reviews, open loop at --rate reviews/s in all (each client paced at rate/clients, as an
//      API server's admission calls arrive): p50/p99/max. The p99 < 5 ms target applies here.
// In a closed loop with C clients latency is C / throughput by Little's law, so phase 2's
// latency measures the machine's saturation, not the webhook's service time.
// Exit status 0 either way (1 only if the bench could not run).
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string bin = WEBHOOK_BIN;
  int clients = 200;
  double seconds = 3;
  double rate = 1000;
};

struct Stats {
  double per_second = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  size_t failures = 0, count = 0;
};

std::string Review() {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"b1c2d3e4-0000-4000-8000-000000000001",)"
         R"("kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},)"
         R"("requestKind":{"group":"","version":"v1","kind":"Pod"},"requestResource":{"group":"","version":"v1","resource":"pods"},)"
         R"("name":"oe-helloworld","namespace":"default","operation":"CREATE","userInfo":{"username":"system:serviceaccount:kube-system:job-controller"},)"
         R"("object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"oe-helloworld","namespace":"default","labels":{"app":"oe-helloworld"}},)"
         R"("spec":{"containers":[{"name":"oe-helloworld","image":"mcr.microsoft.com/acc/samples/oe-helloworld:latest",)"
         R"("resources":{"limits":{"sgx.intel.com/epc":"10Mi"},"requests":{"sgx.intel.com/epc":"10Mi"}}}],)"
         R"("restartPolicy":"Never","serviceAccountName":"default","dnsPolicy":"ClusterFirst"}},)"
         R"("oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}})";
}

// One phase: `clients` threads, each with its own keep-alive connection. interval == 0: closed
// loop; otherwise each client sends one request per interval (open loop, latency measured
// from the scheduled send time, so queueing shows).
Stats Run(const Args& a, int port, const std::string& ca, bool review,
          std::chrono::microseconds interval) {
  std::vector<std::vector<double>> lat(a.clients);
  std::atomic<size_t> failures{0};
  std::vector<std::thread> threads;
  const std::string body = Review();
  // The clock starts once every client has connected (TLS handshake outside the measurement).
  std::atomic<int> connected{0};
  std::atomic<int64_t> start_ns{0};
  auto start_time = [&] { return Clock::time_point(Clock::duration(start_ns.load())); };
  for (int i = 0; i < a.clients; ++i) {
    threads.emplace_back([&, i] {
      httplib::SSLClient cli("localhost", port);
      cli.set_ca_cert_path(ca.c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // as Go clients (the API server) do: no Nagle/delayed-ACK stalls
      cli.set_read_timeout(10, 0);
      cli.Get("/healthz");  // connect + handshake outside the measurement
      if (++connected == a.clients) {
        start_ns = (Clock::now() + std::chrono::milliseconds(20)).time_since_epoch().count();
      }
      while (start_ns.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const auto start = start_time();
      const auto end = start + std::chrono::microseconds(int64_t(a.seconds * 1e6));
      while (Clock::now() < start) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      // Spread the open-loop clients evenly over one interval.
      auto next =
          start + (interval.count() ? interval * i / a.clients : std::chrono::microseconds(0));
      for (;;) {
        if (interval.count()) {
          std::this_thread::sleep_until(next);
        }
        auto t0 = interval.count() ? next : Clock::now();
        if (t0 >= end) break;
        httplib::Result r =
            review ? cli.Post("/mutate-pods", body, "application/json") : cli.Get("/healthz");
        auto t1 = Clock::now();
        if (!r || r->status != 200) {
          failures++;
        } else {
          lat[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        if (interval.count()) next += interval;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Stats s;
  s.count = all.size();
  s.failures = failures;
  if (all.empty()) return s;
  s.per_second = all.size() / a.seconds;
  s.p50_ms = all[all.size() / 2];
  s.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  s.max_ms = all.back();
  return s;
}

void Print(const char* what, const Stats& s) {
  std::printf(
      "%-44s %9.0f /s   p50 %7.3f ms   p99 %7.3f ms   max %7.2f ms   (%zu ok, %zu failed)\n", what,
      s.per_second, s.p50_ms, s.p99_ms, s.max_ms, s.count, s.failures);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--clients") a.clients = std::atoi(argv[i + 1]);
    else if (k == "--seconds") a.seconds = std::atof(argv[i + 1]);
    else if (k == "--rate") a.rate = std::atof(argv[i + 1]);
    else if (k == "--webhook") a.bin = argv[i + 1];
    else {
      std::fprintf(
          stderr, "usage: webhook_bench [--clients N] [--seconds S] [--rate R] [--webhook PATH]\n");
      return 2;
    }
  }
  char tmpl[] = "/tmp/webhook-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  std::string gen =
      "cd " + dir +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout tls.key -out tls.crt 2>/dev/null";
  if (std::system(gen.c_str()) != 0) {
    std::fprintf(stderr, "webhook_bench: openssl could not make a certificate\n");
    return 1;
  }
  std::string log = dir + "/webhook.log";
  pid_t pid = fork();
  if (pid == 0) {
    freopen(log.c_str(), "w", stderr);
    execl(a.bin.c_str(), a.bin.c_str(), "--listen", "127.0.0.1:0", "--tls-cert-file",
          (dir + "/tls.crt").c_str(), "--tls-private-key-file", (dir + "/tls.key").c_str(),
          "--metrics-address", "off", "--max-connections", "256",
          // Every client is 127.0.0.1: the per-address cap (64) must not apply.
          "--max-connections-per-client", "256", "--log-level", "info",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // The port from the start-up line (reviews log at debug only, so info stays quiet under load).
  int port = 0;
  for (int i = 0; i < 2000 && port == 0; ++i) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    size_t at = text.find("serving HTTPS on 127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 27);
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (port == 0) {
    std::fprintf(stderr, "webhook_bench: sgx-webhook did not start (see %s)\n", log.c_str());
    kill(pid, SIGKILL);
    return 1;
  }
  std::string ca = dir + "/tls.crt";
  std::printf(
      "sgx-webhook over HTTPS keep-alive, %d concurrent clients, %.1f s per phase, %u CPU(s)\n",
      a.clients, a.seconds, std::thread::hardware_concurrency());
  Stats base = Run(a, port, ca, false, std::chrono::microseconds(0));
  Print("baseline GET /healthz (closed loop)", base);
  Stats closed = Run(a, port, ca, true, std::chrono::microseconds(0));
  Print("POST /mutate-pods (closed loop)", closed);
  if (base.per_second > 0) {
    std::printf("%-44s %9.2f  (review rate / healthz rate: the cost of the admission logic)\n",
                "ratio", closed.per_second / base.per_second);
  }
  auto interval = std::chrono::microseconds(int64_t(a.clients * 1e6 / a.rate));
  Stats open = Run(a, port, ca, true, interval);
  char label[96];
  std::snprintf(label, sizeof(label), "POST /mutate-pods (open loop, %.0f/s in all)", a.rate);
  Print(label, open);
  std::printf("target: p99 < 5 ms at %d clients (open loop): %s\n", a.clients,
              open.p99_ms < 5.0 && open.failures == 0 ? "OK" : "MISSED");
  kill(pid, SIGTERM);
  int st = 0;
  waitpid(pid, &st, 0);
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
