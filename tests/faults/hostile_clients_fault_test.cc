// Hostile clients against the real daemons (issue 11): memory amplification on the quote
// helper, one uid hoarding connections, idle connections to a metrics port, half-open
// connections and forged log lines against the PCCS endpoint. Every test prints
// "FAULT-FIGURES: ..." with what it measured and asserts a bound that the attack, unfixed,
// breaks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "aesm/client.h"
#include "common/metrics_server.h"
#include "faults/aesm_requests.h"
#include "faults/fault_util.h"
#include "integration/helper_process.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"
#include "pccs/pccs.h"
#include "sim/platform.h"

namespace confcom::faults {
namespace {

using aesm::message::Request;
using aesm::message::Response;
using confcom::testing::HelperProcess;
using confcom::testing::TempDir;
using namespace std::chrono_literals;

// Under ASan the helper's memory includes shadow memory and a quarantine of freed blocks
// (up to 256 MiB by default), so its RSS bounds are looser there; unfixed, the attack below
// asks for ~2 GB either way.
constexpr long kPeakRssBoundKib = kAsan ? 768 * 1024 : 96 * 1024;
constexpr long kRssGrowthBoundKib = kAsan ? 512 * 1024 : 64 * 1024;

bool Ready(HelperProcess& helper) {
  auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline) {
    if (!helper.process().running()) return false;
    if (testing::WaitForSocket(helper.socket(), 100ms)) return true;
  }
  return false;
}

class FileLimit {
 public:
  FileLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit raised = saved_;
    raised.rlim_cur = raised.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
    soft_ = raised.rlim_cur;
  }
  ~FileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  rlim_t soft() const { return soft_; }

 private:
  rlimit saved_{};
  rlim_t soft_ = 0;
};

bool SendAll(int fd, const std::string& data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == ssize_t(data.size());
}

// Waits until every fd is readable (a reply or EOF arrived); returns how many are.
size_t WaitReadable(const std::vector<int>& fds, std::chrono::milliseconds timeout) {
  std::vector<bool> done(fds.size(), false);
  size_t n = 0;
  auto deadline = Clock::now() + timeout;
  while (n < fds.size() && Clock::now() < deadline) {
    std::vector<pollfd> pfds;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!done[i]) {
        pfds.push_back({fds[i], POLLIN, 0});
        index.push_back(i);
      }
    }
    if (::poll(pfds.data(), pfds.size(), 50) <= 0) continue;
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents != 0) {
        done[index[k]] = true;
        ++n;
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// 1. Memory amplification: thousands of GetQuoteEx with the largest buf_size, replies unread.

TEST(FaultHostileClientsTest, AmplifyingClientsKeepTheHelperSmall) {
  FileLimit limit;
  constexpr int kConnections = 2000;
  if (limit.soft() < kConnections + 200)
    GTEST_SKIP() << "needs RLIMIT_NOFILE >= " << kConnections + 200;
  TempDir dir;
  // The share is lifted so that one uid can amplify on every connection: this measures the
  // memory bound itself, not the share.
  HelperProcess helper(dir, {"--max-connections-per-client", "100000", "--io-timeout-ms", "30000"});
  ASSERT_TRUE(Ready(helper)) << helper.Log();
  auto normal = QuoteRequest(helper.socket(), 8192);
  ASSERT_TRUE(normal.ok()) << normal.status().ToString();
  // Half name 1 MiB (the most the helper accepted before: it then built a 1 MiB reply each),
  // half the largest uint32.
  Request amplify = *normal;
  amplify.mutable_getquoteexreq()->set_buf_size(1u << 20);
  const std::string frame_1mib = aesm::EncodeFrame(amplify.SerializeAsString());
  amplify.mutable_getquoteexreq()->set_buf_size(0xffffffffu);
  const std::string frame_max = aesm::EncodeFrame(amplify.SerializeAsString());
  ASSERT_TRUE(Call(helper.socket(), *normal).ok());
  const pid_t pid = helper.process().pid();
  long rss_before = StatusKiB(pid, "VmRSS");

  std::vector<int> fds;
  auto t0 = Clock::now();
  for (int i = 0; i < kConnections; ++i) {
    int fd = testing::ConnectUnix(helper.socket());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
    ASSERT_TRUE(SendAll(fd, i % 2 == 0 ? frame_1mib : frame_max));
  }
  // While the attack is on, a normal client quotes.
  auto t_normal = Clock::now();
  auto r = Call(helper.socket(), *normal, 10s);
  double normal_ms = Ms(Clock::now() - t_normal);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->getquoteexres().errorcode(), 0u);
  size_t answered = WaitReadable(fds, 30s);
  double attack_ms = Ms(Clock::now() - t0);
  long hwm = StatusKiB(pid, "VmHWM"), rss = StatusKiB(pid, "VmRSS");
  // What an amplified reply weighs on the wire (1 MiB, then 4 GiB - 1 asked for).
  auto reply = aesm::ReadFrame(fds[0], 2 << 20, aesm::Clock::now() + 5s);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  Response res;
  ASSERT_TRUE(res.ParseFromString(*reply));
  EXPECT_EQ(res.getquoteexres().errorcode(), 0u);
  auto reply_max = aesm::ReadFrame(fds[1], 2 << 20, aesm::Clock::now() + 5s);
  ASSERT_TRUE(reply_max.ok()) << reply_max.status().ToString();
  ASSERT_TRUE(res.ParseFromString(*reply_max));
  EXPECT_EQ(res.getquoteexres().errorcode(), 0u) << "the largest buf_size still gets its quote";
  EXPECT_EQ(reply_max->size(), reply->size());
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(helper.process().running()) << helper.Log();

  std::cout << "FAULT-FIGURES: amplification: connections=" << kConnections
            << " buf_size=1048576|4294967295"
            << " answered=" << answered << " reply_bytes=" << reply->size()
            << " helper_rss_before_kib=" << rss_before << " helper_rss_after_kib=" << rss
            << " helper_peak_rss_kib=" << hwm << " attack_ms=" << attack_ms
            << " normal_client_quote_ms=" << normal_ms << std::endl;
  EXPECT_EQ(answered, size_t(kConnections));
  EXPECT_LT(reply->size(), 8192u) << "a reply is the quote, not the buffer the client named";
  // The manifests' limit is 256 MiB; unfixed, 2000 such clients ask for ~2 GB (1 MiB each).
  EXPECT_LT(hwm, kPeakRssBoundKib) << "peak RSS under the amplification attack";
  EXPECT_LT(hwm - rss_before, kRssGrowthBoundKib)
      << "growth of the helper's memory under the attack";
  EXPECT_LT(normal_ms, 2000.0);
  EXPECT_EQ(helper.Stop(), 0) << helper.Log();
}

// ---------------------------------------------------------------------------------------
// 2. One uid holds its whole share of idle connections; another uid still quotes at once, and
// the hoarder's own further requests are answered BUSY.

// In a child process running as `uid`: one quote; returns "errorCode ms" or an error text.
std::string QuoteAsUid(const std::string& socket, const Request& request, uid_t uid) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    std::string out;
    if (::setgid(uid) != 0 || ::setuid(uid) != 0) {
      out = "setuid failed";
    } else {
      auto t0 = Clock::now();
      auto r = Call(socket, request, 5s);
      double ms = Ms(Clock::now() - t0);
      out = r.ok() ? std::to_string(r->getquoteexres().errorcode()) + " " + std::to_string(ms)
                   : "error " + r.status().ToString();
    }
    [[maybe_unused]] ssize_t n = ::write(pipefd[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return out;
}

// Counts the fds that are readable (a reply or EOF arrived), polling until at least `want` are
// or the deadline passes.
size_t CountReadable(const std::vector<int>& fds, size_t want, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<pollfd> pfds;
    for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 0);
    size_t n = 0;
    for (const auto& p : pfds) n += p.revents != 0 ? 1 : 0;
    if (n >= want || Clock::now() >= deadline) return n;
    std::this_thread::sleep_for(20ms);
  }
}

// Calls until `accept` likes the answer or the deadline passes; returns the last answer.
Result<Response> CallUntil(const std::string& socket, const Request& request,
                           const std::function<bool(const Result<Response>&)>& accept,
                           std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto r = Call(socket, request, 5s);
    if (accept(r) || Clock::now() >= deadline) return r;
    std::this_thread::sleep_for(20ms);
  }
}

TEST(FaultHostileClientsTest, ASecondUidQuotesWhileOneUidHoldsItsShare) {
  constexpr int kShare = 32, kRefusalSlots = 8;
  // Just above what the hoarder may hold, and the hoarder tries for more than that: without
  // per-uid sharing it would take every connection and lock the second uid out.
  constexpr int kMaxConnections = kShare + kRefusalSlots + 2;
  constexpr int kHoarderAttempts = kMaxConnections + 4;
  TempDir dir;
  // The refusal slots' deadline is long so that none frees while the checks below run, however
  // slow the machine; one loop accepts in connection order (share first, then refusal slots).
  // Keyed by uid even when the tests run in a pod (both uids would be that pod's otherwise).
  HelperProcess helper(
      dir, {"--max-connections-per-client", std::to_string(kShare), "--max-connections",
            std::to_string(kMaxConnections), "--io-timeout-ms", "20000", "--refusal-timeout-ms",
            "10000", "--threads", "1", "--client-identity", "uid"});
  ASSERT_TRUE(Ready(helper)) << helper.Log();
  ::chmod(dir.path().c_str(), 0755);  // the other uid must reach the socket
  auto request = QuoteRequest(helper.socket(), 8192);
  ASSERT_TRUE(request.ok());

  // The hoarder: as many idle connections as it can get. It keeps its share and every refusal
  // slot; the rest are closed at once.
  std::vector<int> attempts;
  for (int i = 0; i < kHoarderAttempts; ++i) {
    int fd = testing::ConnectUnix(helper.socket());
    ASSERT_GE(fd, 0);
    attempts.push_back(fd);
  }
  const size_t beyond = kHoarderAttempts - (kShare + kRefusalSlots);
  EXPECT_EQ(CountReadable(attempts, beyond, 10s), beyond)
      << "connections beyond share and refusal slots\n"
      << helper.Log();
  std::vector<int> idle;
  for (int fd : attempts) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      ::close(fd);
    } else {
      idle.push_back(fd);
    }
  }
  ASSERT_FALSE(idle.empty());
  // One more of its connections is closed at once, unanswered.
  auto t0 = Clock::now();
  auto over = Call(helper.socket(), *request, 5s);
  double over_ms = Ms(Clock::now() - t0);
  EXPECT_FALSE(over.ok()) << "a connection beyond share and refusal slots is closed";
  EXPECT_LT(over_ms, 1000.0);

  // Another uid quotes.
  std::string other = "skipped (not root)";
  double other_ms = -1;
  if (::geteuid() == 0) {
    other = QuoteAsUid(helper.socket(), *request, 65534);
    std::istringstream in(other);
    std::string code;
    in >> code >> other_ms;
    EXPECT_EQ(code, "0") << "the other uid's quote: " << other << "\n" << helper.Log();
    EXPECT_GE(other_ms, 0.0);
    EXPECT_LT(other_ms, 1000.0) << "how long the other client waited";
  }

  // Free one refusal slot (the last connection accepted): the hoarder's next request is
  // answered BUSY, in its own field, once the helper has seen the slot closed.
  ::close(idle.back());
  idle.pop_back();
  auto busy = CallUntil(
      helper.socket(), *request, [](const Result<Response>& r) { return r.ok(); }, 10s);
  ASSERT_TRUE(busy.ok()) << busy.status().ToString();
  ASSERT_TRUE(busy->has_getquoteexres());
  EXPECT_EQ(busy->getquoteexres().errorcode(), uint32_t(aesm::AesmError::kBusy));

  // Once the hoarder lets go, it has its share again.
  for (int fd : idle) ::close(fd);
  auto after = CallUntil(
      helper.socket(), *request,
      [](const Result<Response>& r) { return r.ok() && r->getquoteexres().errorcode() == 0; }, 10s);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->getquoteexres().errorcode(), 0u);

  std::string log = helper.Log();
  const std::string peer =
      "pid " + std::to_string(::getpid()) + " uid " + std::to_string(::getuid());
  EXPECT_NE(log.find(peer), std::string::npos) << "the refusal names the peer\n" << log;
  std::cout << "FAULT-FIGURES: fair-share: share=" << kShare << " refusal_slots=" << kRefusalSlots
            << " max_connections=" << kMaxConnections << " hoarder_attempts=" << kHoarderAttempts
            << " hoarder_idle=" << kShare + kRefusalSlots << " over_share_closed_in_ms=" << over_ms
            << " other_uid_quote=\"" << other << "\" other_uid_waited_ms=" << other_ms
            << " hoarder_next_request=BUSY(" << busy->getquoteexres().errorcode() << ")"
            << std::endl;
  EXPECT_EQ(helper.Stop(), 0) << helper.Log();
}

// Flags whose budget a few uids sending only request headers could fill are refused at start.
TEST(FaultHostileClientsTest, ABudgetThatConnectionsCouldFillIsRefusedAtStart) {
  TempDir dir;
  HelperProcess helper(dir, {"--max-frame-size", "16384", "--max-buffered-mib", "32"});
  EXPECT_EQ(helper.process().Wait(10s), 2) << helper.Log();
  EXPECT_NE(helper.Log().find("--max-buffered-mib"), std::string::npos) << helper.Log();
  EXPECT_FALSE(testing::WaitForSocket(helper.socket(), 100ms)) << "nothing served";
}

// ---------------------------------------------------------------------------------------
// 3. Idle connections to a metrics port (the code both daemons use).

int ConnectTcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// GET `path` over a new connection; returns the HTTP status line ("" on time-out or error).
std::string HttpGet(int port, const std::string& path, std::chrono::milliseconds timeout) {
  int fd = ConnectTcp(port);
  if (fd < 0) return "";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  SendAll(fd, req);
  std::string out;
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out.substr(0, out.find("\r\n"));
}

TEST(FaultHostileClientsTest, MetricsAnswerWhileIdleConnectionsAreHeld) {
  auto server = MetricsServer::Start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  std::vector<double> few_ms, many_ms;
  // Fewer idle connections than workers: no scrape waits.
  std::vector<int> idle;
  for (int i = 0; i < kMetricsThreads / 2; ++i) {
    int fd = ConnectTcp(port);
    ASSERT_GE(fd, 0) << "idle connection " << i;
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    EXPECT_EQ(HttpGet(port, "/metrics", 5s), "HTTP/1.1 200 OK");
    few_ms.push_back(Ms(Clock::now() - t0));
  }
  // More idle connections than workers (but fewer than two rounds of them): a scrape waits
  // about one read timeout, until the server closes the first round.
  for (int i = 0; i < kMetricsThreads; ++i) {
    int fd = ConnectTcp(port);
    ASSERT_GE(fd, 0) << "idle connection " << kMetricsThreads / 2 + i;
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  auto t0 = Clock::now();
  EXPECT_EQ(HttpGet(port, "/metrics", 10s), "HTTP/1.1 200 OK");
  many_ms.push_back(Ms(Clock::now() - t0));
  // And the server closed the idle ones by itself.
  size_t closed = 0;
  for (int fd : idle) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3 * kMetricsReadTimeoutMs) > 0) ++closed;
    ::close(fd);
  }
  std::cout << "FAULT-FIGURES: metrics-idle: workers=" << kMetricsThreads
            << " read_timeout_ms=" << kMetricsReadTimeoutMs << " idle=" << kMetricsThreads / 2
            << " scrape_max_ms=" << Max(few_ms) << " idle=" << kMetricsThreads / 2 + kMetricsThreads
            << " scrape_ms=" << many_ms[0] << " idle_closed_by_server=" << closed << "/"
            << idle.size() << std::endl;
  EXPECT_LT(Max(few_ms), 500.0);
  EXPECT_LT(many_ms[0], kMetricsReadTimeoutMs + 1500.0);
  EXPECT_EQ(closed, idle.size());
}

TEST(FaultHostileClientsTest, MetricsAddressWithoutPortIsAClearError) {
  for (std::string bad :
       {"127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:99999", "::1:9464", "127.0.0.1:x"}) {
    auto s = MetricsServer::StartFromFlag(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("HOST:PORT"), std::string::npos) << s.status().message();
  }
}

// ---------------------------------------------------------------------------------------
// 4. `sgxctl pccs`: latency alone and with half-open connections; forged log lines.

// The port `sgxctl pccs --listen 127.0.0.1:0` bound, from its "PCCS API v4 on
// http://127.0.0.1:PORT/..." line (binding port 0 itself leaves no window for another test to
// take the port); -1 if it does not say within 15 s.
int PccsPort(testing::Process& pccs) {
  const std::string prefix = "PCCS API v4 on http://127.0.0.1:";
  auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline) {
    std::string log = pccs.Log();
    auto pos = log.find(prefix);
    if (pos != std::string::npos) {
      auto end = log.find('/', pos + prefix.size());
      if (end != std::string::npos)
        return std::stoi(log.substr(pos + prefix.size(), end - pos - prefix.size()));
    }
    if (!pccs.running()) return -1;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

// Times `n` requests on one keep-alive connection (what a PCCS client does); ms each.
std::vector<double> KeepAliveLatencies(int port, int n) {
  std::vector<double> out;
  int fd = ConnectTcp(port);
  if (fd < 0) return out;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "GET /sgx/certification/v4/qe/identity HTTP/1.1\r\nHost: x\r\n\r\n";
  char buf[65536];
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    if (!SendAll(fd, req)) break;
    std::string got;
    size_t want = std::string::npos;
    while (want == std::string::npos || got.size() < want) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) break;
      ssize_t k = ::recv(fd, buf, sizeof buf, 0);
      if (k <= 0) break;
      got.append(buf, size_t(k));
      auto end = got.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        // (Not std::regex: GCC 12 under ASan warns inside it, and CI builds with -Werror.)
        std::string head = got.substr(0, end);
        for (char& ch : head) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (auto at = head.find("content-length:"); at != std::string::npos) {
          want = end + 4 + std::stoul(head.substr(at + 15));  // stoul skips the spaces
        }
      }
    }
    if (want == std::string::npos || got.size() < want) break;
    out.push_back(Ms(Clock::now() - t0));
  }
  ::close(fd);
  return out;
}

TEST(FaultHostileClientsTest, PccsStaysFastWithHalfOpenConnectionsAndEscapesPaths) {
  TempDir dir;
  ASSERT_TRUE(sim::SimPlatform::LoadOrCreate(dir.File("state")).ok());
  testing::Process pccs(
      {CONFCOM_SGXCTL_BIN, "pccs", "--state-dir", dir.File("state"), "--listen", "127.0.0.1:0"},
      dir.File("pccs.log"));
  const int port = PccsPort(pccs);
  ASSERT_GT(port, 0) << pccs.Log();
  ASSERT_EQ(HttpGet(port, "/sgx/certification/v4/qe/identity", 5s), "HTTP/1.1 200 OK")
      << pccs.Log();

  // 10 connections of 10 requests each (the server closes a keep-alive connection after 16).
  std::vector<double> alone;
  for (int c = 0; c < 10; ++c) {
    auto some = KeepAliveLatencies(port, 10);
    ASSERT_EQ(some.size(), 10u) << pccs.Log();
    alone.insert(alone.end(), some.begin(), some.end());
  }

  // Half-open: connected, a request line begun, never finished.
  auto half_open = [&](int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
      int fd = ConnectTcp(port);
      if (fd >= 0) SendAll(fd, "GET /sgx/certification/v4/tcb?fmspc=");
      fds.push_back(fd);
    }
    std::this_thread::sleep_for(100ms);
    return fds;
  };
  auto eight = half_open(8);
  std::vector<double> with_eight;
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    EXPECT_EQ(HttpGet(port, "/sgx/certification/v4/qe/identity", 20s), "HTTP/1.1 200 OK");
    with_eight.push_back(Ms(Clock::now() - t0));
  }
  auto more = half_open(40);  // more than the server's workers
  auto t0 = Clock::now();
  EXPECT_EQ(HttpGet(port, "/sgx/certification/v4/qe/identity", 20s), "HTTP/1.1 200 OK");
  double with_48_ms = Ms(Clock::now() - t0);
  for (int fd : eight) ::close(fd);
  for (int fd : more) ::close(fd);

  // A path with an encoded newline must not forge a log line.
  HttpGet(port, "/sgx/certification/v4/x%0a2026-01-01T00:00:00.000Z%20info%20FORGED", 5s);
  std::this_thread::sleep_for(200ms);
  pccs.Signal(SIGTERM);
  EXPECT_EQ(pccs.Wait(10s), 0) << pccs.Log();
  std::string log = pccs.Log();
  bool forged = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("2026-01-01T00:00:00.000Z info FORGED", 0) == 0) forged = true;
  }
  std::cout << "FAULT-FIGURES: pccs: keep_alive_p50_ms=" << Percentile(alone, 50)
            << " p99_ms=" << Percentile(alone, 99)
            << " half_open=8 new_connection_max_ms=" << Max(with_eight)
            << " half_open=48 new_connection_ms=" << with_48_ms
            << " forged_log_line=" << (forged ? "YES" : "no") << std::endl;
  // Unfixed: ~40 ms per request (Nagle + delayed ACK), 14.5 s behind 8 half-open connections.
  EXPECT_LT(Percentile(alone, 50), 10.0);
  EXPECT_LT(Max(with_eight), 1000.0);
  EXPECT_LT(with_48_ms, 1000.0 * double(pccs::kReadTimeoutSeconds) + 2000.0);
  EXPECT_FALSE(forged) << log;
  EXPECT_NE(log.find("\\x0a2026-01-01"), std::string::npos) << log;
}

}  // namespace
}  // namespace confcom::faults
