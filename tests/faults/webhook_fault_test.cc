// The attacks of issue 20 against the real sgx-webhook process over TLS (src/https's limits):
// a gzip bomb, a 100 MiB chunked body, 150 MiB of header lines, 40 concurrent 3 MiB bodies,
// 64 slow clients, 300 connections from one address. Each test starts a fresh webhook, prints
// "FAULT-FIGURES: ..." and asserts that its peak RSS (VmHWM) stays under 256 MiB (the manifest
// allows 384 Mi) and that it still answers a real AdmissionReview afterwards.
// CONFCOM_FAULT_WEBHOOK_BIN=<path> runs them against another build (e.g. main's, for the
// figures before the fix; its assertions then fail as the issue describes).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "faults/fault_util.h"
#include "https/test_certs.h"
#include "https/tls_client.h"
#include "testing/test_util.h"

namespace confcom::faults {
namespace {

using confcom::testing::Process;
using confcom::testing::RunCommand;
using confcom::testing::TempDir;
using confcom::testing::TlsClient;
using nlohmann::json;
using namespace std::chrono_literals;

// Under ASan (scripts/sanitizers.sh runs every test) the webhook's memory includes shadow
// memory and a quarantine of freed blocks (up to 256 MiB by default), so the bound is looser
// there; unfixed, the gzip bomb alone reached 704 MiB and more with ASan.
constexpr long kPeakRssBoundKib = kAsan ? 768 * 1024 : 256 * 1024;

// An AdmissionReview as the API server sends it, for a pod asking for EPC (the webhook
// patches it).
json Review() {
  json pod = json::parse(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"oe-helloworld","namespace":"default"},
    "spec":{"containers":[{"name":"app","image":"app:1",
      "resources":{"limits":{"sgx.intel.com/epc":"10Mi"},"requests":{"sgx.intel.com/epc":"10Mi"}}}],
      "restartPolicy":"Never","serviceAccountName":"default"}})");
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "2b3f8e6c-5c2e-4d0a-9a57-7d1c5e0f9b1a"},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"namespace", "default"},
            {"operation", "CREATE"},
            {"userInfo", {{"username", "system:serviceaccount:kube-system:job-controller"}}},
            {"object", pod},
            {"oldObject", nullptr},
            {"dryRun", false}}}};
}

std::string PostHead(const std::string& path, const std::string& extra) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: sgx-webhook.kube-system.svc:443\r\nContent-Type: application/json\r\n" +
         "Accept: application/json, */*\r\n" + extra;
}

std::string Post(const std::string& path, const std::string& body) {
  return PostHead(path, "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n") + body;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class FaultWebhook : public ::testing::Test {
 protected:
  void SetUp() override {
    https::WriteServingPair(dir_, "a");
    const char* other = std::getenv("CONFCOM_FAULT_WEBHOOK_BIN");
    std::string bin = other != nullptr && *other != '\0' ? other : WEBHOOK_BIN;
    proc_ = std::make_unique<Process>(
        std::vector<std::string>{bin, "--listen", "127.0.0.1:0", "--tls-cert-file",
                                 dir_.File("tls.crt"), "--tls-private-key-file",
                                 dir_.File("tls.key"), "--metrics-address", "127.0.0.1:0"},
        dir_.File("webhook.log"));
    std::regex serving("serving HTTPS on 127\\.0\\.0\\.1:([0-9]+)"),
        metrics("metrics on http://127\\.0\\.0\\.1:([0-9]+)");
    auto deadline = Clock::now() + 20s;
    std::smatch m;
    while (Clock::now() < deadline) {
      std::string log = proc_->Log();
      if (std::regex_search(log, m, serving)) {
        port_ = std::stoi(m[1]);
        if (std::regex_search(log, m, metrics)) metrics_port_ = std::stoi(m[1]);
        break;
      }
      ASSERT_TRUE(proc_->running()) << log;
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_NE(port_, 0) << proc_->Log();
    // Warm: one review, so the baseline includes what serving needs.
    ASSERT_EQ(GoodReview().first, 200);
    baseline_kib_ = StatusKiB(proc_->pid(), "VmHWM");
  }
  void TearDown() override {
    if (proc_ && proc_->running()) {
      proc_->Signal(SIGTERM);
      EXPECT_EQ(proc_->Wait(30s), 0) << proc_->Log().substr(0, 4000);
    }
  }

  // A real review to /mutate-pods on a new connection from `source`: {status, seconds}.
  std::pair<int, double> GoodReview(const std::string& source = "127.0.0.1") {
    auto start = Clock::now();
    auto c = TlsClient::Connect(port_, source, 5s);
    if (!c || !c->Send(Post("/mutate-pods", Review().dump())))
      return {0, Seconds(Clock::now() - start)};
    std::string response = c->ReadResponse(5s);
    int status = TlsClient::StatusOf(response);
    if (status == 200) {
      json r = json::parse(TlsClient::BodyOf(response), nullptr, false);
      if (r.is_discarded() || !r["response"].contains("patch")) status = -1;
    }
    return {status, Seconds(Clock::now() - start)};
  }
  int Get(const std::string& path, const std::string& source = "127.0.0.1") {
    auto c = TlsClient::Connect(port_, source, 5s);
    if (!c || !c->Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")) return 0;
    return TlsClient::StatusOf(c->ReadResponse(5s));
  }
  long PeakKiB() { return StatusKiB(proc_->pid(), "VmHWM"); }
  // After an attack: the webhook is alive, serves a review and is ready; its peak is bounded.
  void ExpectHealthyAndSmall(const std::string& attack) {
    ASSERT_TRUE(proc_->running()) << attack
                                  << ": the webhook died: " << proc_->Log().substr(0, 4000);
    auto [status, seconds] = GoodReview();
    EXPECT_EQ(status, 200) << attack;
    EXPECT_EQ(Get("/readyz"), 200) << attack;
    long peak = PeakKiB();
    std::cout << "FAULT-FIGURES: " << attack << ": peak_rss_mib=" << peak / 1024
              << " baseline_rss_mib=" << baseline_kib_ / 1024
              << " rss_after_mib=" << StatusKiB(proc_->pid(), "VmRSS") / 1024
              << " review_after_s=" << seconds << " review_after_status=" << status << std::endl;
    EXPECT_LT(peak, kPeakRssBoundKib) << attack;
  }
  std::string Metrics() {
    return RunCommand("curl -sS http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics")
        .output;
  }

  TempDir dir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0, metrics_port_ = 0;
  long baseline_kib_ = 0;
};

// A review followed by 200 MiB of spaces (valid JSON once decoded), gzip'ed to ~200 KB.
TEST_F(FaultWebhook, GzipBombIsRefusedUnread) {
  testing::WriteAll(dir_.File("review.json"), Review().dump());
  auto made = RunCommand("cd " + dir_.path() +
                         " && { cat review.json; head -c 209715200 /dev/zero | tr '\\0' ' '; } "
                         "| gzip -6 -c > bomb.gz && stat -c %s bomb.gz");
  ASSERT_EQ(made.status, 0) << made.output;
  std::string bomb = testing::ReadAll(dir_.File("bomb.gz"));
  auto start = Clock::now();
  auto c = TlsClient::Connect(port_);
  ASSERT_TRUE(c);
  c->Send(PostHead("/mutate-pods", "Content-Encoding: gzip\r\nContent-Length: " +
                                       std::to_string(bomb.size()) + "\r\n\r\n") +
          bomb);
  std::string response = c->ReadResponse(30s);
  int status = TlsClient::StatusOf(response);
  std::cout << "FAULT-FIGURES: gzip-bomb: body_bytes=" << bomb.size()
            << " decoded_bytes=209715200+review status=" << status
            << " answer_s=" << Seconds(Clock::now() - start) << std::endl;
  EXPECT_EQ(status, 415) << response;
  ExpectHealthyAndSmall("gzip-bomb");
  EXPECT_NE(Metrics().find("confcom_sgx_webhook_refused_total{reason=\"content_encoding\"} 1"),
            std::string::npos);
}

TEST_F(FaultWebhook, ChunkedBodyOf100MiBIsCutAtTheLimit) {
  auto start = Clock::now();
  auto c = TlsClient::Connect(port_);
  ASSERT_TRUE(c);
  ASSERT_TRUE(
      c->Send(PostHead("/mutate-pods", "Transfer-Encoding: chunked\r\n\r\n") + "1\r\n[\r\n"));
  const std::string chunk = "10000\r\n" + std::string(65536, ' ') + "\r\n";
  size_t sent = c->SendUntilAnswered(size_t(100) << 20, [&](size_t) { return chunk; });
  std::string response = c->ReadResponse(30s);
  int status = TlsClient::StatusOf(response);
  std::cout << "FAULT-FIGURES: chunked-100MiB: sent_mib=" << sent / double(1 << 20)
            << " status=" << status << " answer_s=" << Seconds(Clock::now() - start) << std::endl;
  EXPECT_EQ(status, 413) << response;
  EXPECT_LT(sent, size_t(32) << 20);  // the limit (3 MiB), socket buffers and the 1 MiB drain
  ExpectHealthyAndSmall("chunked-100MiB");
}

TEST_F(FaultWebhook, HeaderLinesOf150MiBOnHealthzGet431) {
  auto start = Clock::now();
  auto c = TlsClient::Connect(port_);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  size_t line = 0;
  const std::string pad(8000, 'a');
  size_t sent = c->SendUntilAnswered(size_t(150) << 20, [&](size_t) {
    return "X-Pad-" + std::to_string(line++) + ": " + pad + "\r\n";
  });
  std::string response = c->ReadResponse(30s);
  int status = TlsClient::StatusOf(response);
  std::cout << "FAULT-FIGURES: header-lines-150MiB: sent_mib=" << sent / double(1 << 20)
            << " status=" << status << " answer_s=" << Seconds(Clock::now() - start) << std::endl;
  EXPECT_EQ(status, 431) << response;
  EXPECT_LT(sent, size_t(32) << 20);
  ExpectHealthyAndSmall("header-lines-150MiB");
}

// 3 MiB reviews padded with empty arrays (the JSON that grows most when parsed, ~20x),
// 40 at once on 40 connections.
TEST_F(FaultWebhook, FortyConcurrentBodiesAtTheLimitStayBounded) {
  json review = Review();
  std::string body = review.dump();
  body.pop_back();  // the closing brace
  body += ",\"padding\":[";
  const size_t target = (size_t(3) << 20) - 16;
  while (body.size() + 4 < target) body += "[],";
  body += "[]]}";
  ASSERT_LE(body.size(), size_t(3) << 20);
  const std::string request = Post("/mutate-pods", body);
  constexpr int kClients = 40;
  std::vector<int> statuses(kClients, 0);
  std::vector<double> seconds(kClients, 0);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto t0 = Clock::now();
      auto c = TlsClient::Connect(port_, "", 30s);
      if (c && c->Send(request, 30s)) statuses[i] = TlsClient::StatusOf(c->ReadResponse(60s));
      seconds[i] = Seconds(Clock::now() - t0);
    });
  }
  // A good review meanwhile, from another address (another pod, the API server).
  std::this_thread::sleep_for(500ms);
  auto [good_status, good_s] = GoodReview("127.0.0.2");
  for (auto& t : threads) t.join();
  double total = Seconds(Clock::now() - start);
  int ok = int(std::count(statuses.begin(), statuses.end(), 200));
  std::cout << "FAULT-FIGURES: 40x3MiB: answered_200=" << ok << "/" << kClients
            << " total_s=" << total << " p50_s=" << Percentile(seconds, 50)
            << " max_s=" << Max(seconds) << " good_review_during_s=" << good_s
            << " good_status=" << good_status << std::endl;
  EXPECT_EQ(good_status, 200);
  EXPECT_LT(good_s, 2.0);
  // Each is answered: a review (200) or, past its deadline, closed; never a crash.
  for (int s : statuses) EXPECT_TRUE(s == 200 || s == 0 || s == 503) << s;
  ExpectHealthyAndSmall("40x3MiB");
}

// 64 clients (another address: another pod) sending a request a byte every 2 s, for 14 s;
// meanwhile a good review and /readyz every 250 ms.
TEST_F(FaultWebhook, SixtyFourSlowClientsDelayNoGoodReview) {
  constexpr int kSlow = 64;
  std::vector<std::unique_ptr<TlsClient>> slow;
  for (int i = 0; i < kSlow; ++i) {
    auto c = TlsClient::Connect(port_, "127.0.0.2", 5s);
    ASSERT_TRUE(c) << i;
    slow.push_back(std::move(c));
  }
  const std::string request = Post("/mutate-pods", Review().dump());
  std::atomic<bool> done{false};
  std::atomic<int> closed_by_server{0}, bytes_sent{0};
  std::thread trickler([&] {
    std::vector<size_t> at(kSlow, 0);
    std::vector<bool> open(kSlow, true);
    while (!done) {
      for (int i = 0; i < kSlow; ++i) {
        if (!open[i]) continue;
        if (!slow[i]->Send(std::string(1, request[at[i] % request.size()]), 1s)) {
          open[i] = false;
          ++closed_by_server;
          continue;
        }
        ++at[i];
        ++bytes_sent;
      }
      for (int k = 0; k < 20 && !done; ++k) std::this_thread::sleep_for(100ms);
    }
  });
  std::vector<double> latencies;
  int good_ok = 0, ready_ok = 0, rounds = 0;
  auto end = Clock::now() + 14s;
  while (Clock::now() < end) {
    auto [status, s] = GoodReview();
    latencies.push_back(s);
    good_ok += status == 200;
    ready_ok += Get("/readyz") == 200;
    ++rounds;
    std::this_thread::sleep_for(250ms);
  }
  done = true;
  trickler.join();
  std::cout << "FAULT-FIGURES: 64-slow-clients: rounds=" << rounds << " good_200=" << good_ok
            << " readyz_200=" << ready_ok << " review_p50_s=" << Percentile(latencies, 50)
            << " review_max_s=" << Max(latencies) << " slow_closed_by_server=" << closed_by_server
            << " slow_bytes_sent=" << bytes_sent << std::endl;
  EXPECT_EQ(good_ok, rounds);
  EXPECT_EQ(ready_ok, rounds);
  EXPECT_LT(Max(latencies), 2.0);
  ExpectHealthyAndSmall("64-slow-clients");
}

// 300 connections from one address (one pod): 64 are kept, the rest closed at accept; other
// addresses are served.
TEST_F(FaultWebhook, ThreeHundredConnectionsFromOneAddressLeaveRoomForOthers) {
  std::vector<std::unique_ptr<TlsClient>> held;
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    auto c = TlsClient::Connect(port_, "127.0.0.3", 2s);
    if (c) {
      held.push_back(std::move(c));
    } else {
      ++refused;
    }
  }
  auto [status, s] = GoodReview("127.0.0.1");
  std::cout << "FAULT-FIGURES: 300-connections-one-address: held=" << held.size()
            << " refused_at_accept=" << refused << " good_review_s=" << s
            << " good_status=" << status << std::endl;
  EXPECT_EQ(held.size(), 64u);
  EXPECT_EQ(status, 200);
  EXPECT_LT(s, 2.0);
  ExpectHealthyAndSmall("300-connections-one-address");
}

}  // namespace
}  // namespace confcom::faults
