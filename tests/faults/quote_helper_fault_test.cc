// Fault injection against the real sgx-quote-helper process over its real UNIX socket:
// SIGKILL under load, slow-loris clients, thousands of connections, and a state dir on a full
// or read-only file system at first start. Every test prints "FAULT-FIGURES: ..." lines.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "aesm/client.h"
#include "common/file_util.h"
#include "faults/aesm_requests.h"
#include "faults/fault_util.h"
#include "integration/helper_process.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"

namespace confcom::faults {
namespace {

using aesm::message::Request;
using aesm::message::Response;
using confcom::testing::HelperProcess;
using confcom::testing::TempDir;
using namespace std::chrono_literals;

// One quote the way DCAP asks for it; returns its attestation public key.
Result<Bytes> FetchAttestationKey(const std::string& socket) {
  CONFCOM_ASSIGN_OR_RETURN(Request q, QuoteRequest(socket));
  CONFCOM_ASSIGN_OR_RETURN(Response r, Call(socket, q));
  if (!r.has_getquoteexres() || r.getquoteexres().errorcode() != 0) {
    return Status::Internal("GetQuoteEx failed");
  }
  const std::string& quote = r.getquoteexres().quote();
  auto parsed = sgx::ParseQuoteV3(Bytes(quote.begin(), quote.end()));
  if (!parsed.ok()) return parsed.status();
  return Bytes(parsed->quote.attest_key.begin(), parsed->quote.attest_key.end());
}

Request KeyIdNumRequest() {
  Request r;
  r.mutable_getsupportedattkeyidnumreq();
  return r;
}

// Waits for the helper's socket, giving up at once if the helper exits.
bool Ready(HelperProcess& helper, std::chrono::milliseconds timeout = 15s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!helper.process().running()) return false;
    if (testing::WaitForSocket(helper.socket(), 100ms)) return true;
  }
  return false;
}

bool IsCleanFailure(Status::Code c) {
  return c == Status::Code::kUnavailable || c == Status::Code::kIoError ||
         c == Status::Code::kDeadlineExceeded;
}

// ---------------------------------------------------------------------------------------
// 1. SIGKILL while 32 clients are asking for quotes, then a restart on the same socket/state.

struct CallRecord {
  Clock::time_point start, end;
  Status::Code code;
};

TEST(FaultQuoteHelperTest, SigkillUnderLoadFailsCleanlyAndRestartKeepsTheKey) {
  TempDir dir;
  constexpr int kClients = 32;
  constexpr auto kClientTimeout = 3000ms;
  auto helper = std::make_unique<HelperProcess>(dir, std::vector<std::string>{});
  ASSERT_TRUE(Ready(*helper)) << helper->Log();
  auto key_before = FetchAttestationKey(helper->socket());
  ASSERT_TRUE(key_before.ok()) << key_before.status().ToString() << helper->Log();
  auto request = QuoteRequest(helper->socket());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const std::string socket = helper->socket();

  std::atomic<bool> stop{false};
  std::atomic<int> successes{0};
  std::vector<std::vector<CallRecord>> records(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      while (!stop) {
        CallRecord rec;
        rec.start = Clock::now();
        auto r = Call(socket, *request, kClientTimeout);
        rec.end = Clock::now();
        rec.code = r.ok() ? Status::Code::kOk : r.status().code();
        if (r.ok() && (!r->has_getquoteexres() || r->getquoteexres().errorcode() != 0)) {
          rec.code = Status::Code::kInternal;  // answered, but not with a quote
        }
        if (rec.code == Status::Code::kOk) ++successes;
        records[i].push_back(rec);
        if (!r.ok()) std::this_thread::sleep_for(5ms);  // a retrying client, not a busy loop
      }
    });
  }
  // Load first: at least 100 quotes (or 3 s), so requests are in flight at the kill.
  auto load_deadline = Clock::now() + 3s;
  while (successes < 100 && Clock::now() < load_deadline) std::this_thread::sleep_for(10ms);
  int before_kill_ok = successes.load();
  auto t_kill = Clock::now();
  helper->process().Signal(SIGKILL);
  ASSERT_EQ(helper->process().Wait(5s), 128 + SIGKILL);
  auto t_dead = Clock::now();
  std::this_thread::sleep_for(1000ms);  // clients keep asking a dead service
  stop = true;
  auto join_start = Clock::now();
  for (auto& t : clients) t.join();
  double join_ms = Ms(Clock::now() - join_start);

  int in_flight = 0, in_flight_ok = 0, in_flight_failed = 0, after = 0, after_failed = 0;
  int unclean = 0, over_deadline = 0;
  double max_error_ms = 0, max_after_ms = 0, max_in_flight_ms = 0;
  std::map<std::string, int> codes;
  for (const auto& per_client : records) {
    for (const CallRecord& r : per_client) {
      double took = Ms(r.end - r.start);
      if (took > Ms(kClientTimeout) + 1000) ++over_deadline;
      if (r.end < t_kill) continue;  // finished before the kill: not our business here
      bool started_after = r.start >= t_dead;
      if (r.code != Status::Code::kOk) {
        codes[CodeName(r.code)]++;
        max_error_ms = std::max(max_error_ms, took);
        if (!IsCleanFailure(r.code)) ++unclean;
      }
      if (started_after) {
        ++after;
        if (r.code != Status::Code::kOk) ++after_failed;
        max_after_ms = std::max(max_after_ms, took);
      } else {
        ++in_flight;
        (r.code == Status::Code::kOk ? in_flight_ok : in_flight_failed)++;
        max_in_flight_ms = std::max(max_in_flight_ms, took);
      }
    }
  }
  std::ostringstream code_list;
  for (const auto& [name, n] : codes) code_list << name << "=" << n << " ";
  std::cout << "FAULT-FIGURES: sigkill: clients=" << kClients
            << " quotes_before_kill>=" << before_kill_ok << " in_flight_at_kill=" << in_flight
            << " (answered " << in_flight_ok << ", failed cleanly " << in_flight_failed
            << ") requests_after_death=" << after << " failed=" << after_failed
            << " codes: " << code_list.str() << "max_time_to_error_ms=" << max_error_ms
            << " max_in_flight_ms=" << max_in_flight_ms << " max_after_death_ms=" << max_after_ms
            << " client_join_ms=" << join_ms << std::endl;
  EXPECT_GT(before_kill_ok, 0);
  EXPECT_GT(after, 0);
  EXPECT_EQ(after_failed, after) << "a request to a dead service cannot succeed";
  EXPECT_EQ(unclean, 0) << "errors must be Unavailable, IoError or DeadlineExceeded";
  EXPECT_EQ(over_deadline, 0) << "no request may outlive its client deadline";
  EXPECT_LT(join_ms, Ms(kClientTimeout) + 1000);

  // Restart on the same socket (left behind by SIGKILL) and state dir.
  ASSERT_TRUE(PathExists(socket)) << "SIGKILL leaves the socket file behind";
  auto t_restart = Clock::now();
  helper = std::make_unique<HelperProcess>(dir, std::vector<std::string>{});
  ASSERT_TRUE(Ready(*helper)) << helper->Log();
  double restart_ms = Ms(Clock::now() - t_restart);
  auto key_after = FetchAttestationKey(helper->socket());
  ASSERT_TRUE(key_after.ok()) << key_after.status().ToString() << helper->Log();
  EXPECT_EQ(*key_before, *key_after) << "the restarted helper must load, not re-create, its keys";
  EXPECT_NE(helper->Log().find("simulated platform loaded"), std::string::npos) << helper->Log();
  int ok_after_restart = 0;
  for (int i = 0; i < 20; ++i) ok_after_restart += Call(socket, *request).ok() ? 1 : 0;
  EXPECT_EQ(ok_after_restart, 20);
  std::cout << "FAULT-FIGURES: sigkill-restart: ready_after_ms=" << restart_ms
            << " same_attestation_key=" << (*key_before == *key_after ? "yes" : "NO")
            << " quotes_after_restart=" << ok_after_restart << "/20" << std::endl;
  EXPECT_EQ(helper->Stop(), 0) << helper->Log();
}

// 1b. A frozen helper (SIGSTOP): the kernel still queues connections, nobody answers. Every
// client gets DeadlineExceeded at its deadline, never later; after SIGCONT it serves again.
TEST(FaultQuoteHelperTest, FrozenHelperGivesDeadlineExceededOnTimeThenRecovers) {
  TempDir dir;
  HelperProcess helper(dir);
  ASSERT_TRUE(Ready(helper)) << helper.Log();
  auto request = QuoteRequest(helper.socket());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  constexpr int kClients = 16;
  constexpr auto kTimeout = 1000ms;
  ASSERT_TRUE(helper.process().Freeze()) << "the helper did not stop";
  std::vector<double> took(kClients);
  std::vector<Status::Code> codes(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto t0 = Clock::now();
      auto r = Call(helper.socket(), *request, kTimeout);
      took[i] = Ms(Clock::now() - t0);
      codes[i] = r.ok() ? Status::Code::kOk : r.status().code();
    });
  }
  for (auto& t : clients) t.join();
  helper.process().Signal(SIGCONT);
  int deadline_exceeded = 0;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(codes[i], Status::Code::kDeadlineExceeded) << "client " << i;
    deadline_exceeded += codes[i] == Status::Code::kDeadlineExceeded ? 1 : 0;
    EXPECT_GE(took[i], Ms(kTimeout) - 50) << "client " << i;
    EXPECT_LE(took[i], Ms(kTimeout) + 500) << "client " << i;
  }
  // The helper then finds the abandoned connections, answers or drops them, and serves.
  auto t0 = Clock::now();
  auto r = Call(helper.socket(), *request, 5000ms);
  double resume_ms = Ms(Clock::now() - t0);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(helper.process().running());
  std::cout << "FAULT-FIGURES: frozen-helper: clients=" << kClients
            << " client_timeout_ms=" << kTimeout.count()
            << " deadline_exceeded=" << deadline_exceeded
            << " time_to_error_min_ms=" << Percentile(took, 0) << " max_ms=" << Max(took)
            << " first_quote_after_SIGCONT_ms=" << resume_ms << std::endl;
  EXPECT_EQ(helper.Stop(), 0) << helper.Log();
}

// ---------------------------------------------------------------------------------------
// 2. Slow-loris: 50 silent connections and 50 half-frames, kept up for the whole run.

TEST(FaultQuoteHelperTest, SlowLorisDoesNotSlowAGoodClient) {
  TempDir dir;
  HelperProcess helper(dir, {"--io-timeout-ms", "500"});
  ASSERT_TRUE(Ready(helper)) << helper.Log();
  auto request = QuoteRequest(helper.socket());
  ASSERT_TRUE(request.ok()) << request.status().ToString();

  constexpr int kSilent = 50, kHalf = 50;
  // A frame that announces 100 bytes; "half" sends the header and 50 of them.
  std::string half_frame(4 + 50, 'x');
  StoreLe32(reinterpret_cast<uint8_t*>(half_frame.data()), 100);
  struct Loris {
    int fd = -1;
    bool half = false;
    Clock::time_point opened;
  };
  auto open_loris = [&](bool half) {
    Loris l;
    l.half = half;
    l.fd = testing::ConnectUnix(helper.socket());
    l.opened = Clock::now();
    if (l.fd >= 0 && half) {
      EXPECT_EQ(::send(l.fd, half_frame.data(), half_frame.size(), MSG_NOSIGNAL),
                ssize_t(half_frame.size()));
    }
    return l;
  };
  std::vector<Loris> lorises;
  for (int i = 0; i < kSilent + kHalf; ++i) lorises.push_back(open_loris(i >= kSilent));
  for (const auto& l : lorises) ASSERT_GE(l.fd, 0);

  std::atomic<bool> stop{false};
  std::vector<double> lifetimes;  // ms from connect to the server's close
  int closed_by_eof = 0, closed_by_error = 0, reopen_failures = 0;
  std::thread loris_thread([&] {
    while (!stop) {
      std::vector<pollfd> pfds;
      for (const auto& l : lorises) pfds.push_back({l.fd, POLLIN, 0});
      if (::poll(pfds.data(), pfds.size(), 20) <= 0) continue;
      for (size_t i = 0; i < pfds.size(); ++i) {
        if (pfds[i].revents == 0) continue;
        char c;
        ssize_t n = ::recv(lorises[i].fd, &c, 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        (n == 0 ? closed_by_eof : closed_by_error)++;
        lifetimes.push_back(Ms(Clock::now() - lorises[i].opened));
        ::close(lorises[i].fd);
        lorises[i] = open_loris(lorises[i].half);  // keep the pressure up
        if (lorises[i].fd < 0) ++reopen_failures;
      }
    }
  });

  std::vector<double> latencies;
  int good_ok = 0, good_failed = 0;
  auto run_until = Clock::now() + 2500ms;  // five I/O deadlines
  while (Clock::now() < run_until) {
    auto t0 = Clock::now();
    auto r = Call(helper.socket(), *request);
    latencies.push_back(Ms(Clock::now() - t0));
    if (r.ok() && r->has_getquoteexres() && r->getquoteexres().errorcode() == 0) ++good_ok;
    else ++good_failed;
    std::this_thread::sleep_for(5ms);
  }
  stop = true;
  loris_thread.join();
  for (const auto& l : lorises) ::close(l.fd);

  double p50 = Percentile(latencies, 50), p99 = Percentile(latencies, 99);
  std::cout << "FAULT-FIGURES: slow-loris: io_timeout_ms=500 bad_connections_kept_open="
            << kSilent + kHalf << " good_requests=" << latencies.size() << " ok=" << good_ok
            << " failed=" << good_failed << " good_p50_ms=" << p50 << " good_p99_ms=" << p99
            << " good_max_ms=" << Max(latencies) << " bad_closed_by_server=" << lifetimes.size()
            << " (eof " << closed_by_eof << ", error " << closed_by_error
            << ") bad_lifetime_min_ms=" << (lifetimes.empty() ? 0 : Percentile(lifetimes, 0))
            << " p50_ms=" << Percentile(lifetimes, 50) << " max_ms=" << Max(lifetimes) << std::endl;
  EXPECT_EQ(good_failed, 0) << helper.Log();
  EXPECT_GT(good_ok, 20);
  EXPECT_LT(p99, 200.0) << "the good client's p99 latency";
  // Each round of 100 bad connections is closed at the deadline: at least 4 rounds in 2.5 s.
  EXPECT_GE(lifetimes.size(), size_t(3 * (kSilent + kHalf)));
  EXPECT_EQ(closed_by_error, 0) << "the server closes an idle connection cleanly (recv 0)";
  EXPECT_EQ(reopen_failures, 0);
  EXPECT_GE(Percentile(lifetimes, 0), 450.0) << "closed before the I/O deadline";
  EXPECT_LE(Max(lifetimes), 1500.0) << "closed long after the I/O deadline";
  EXPECT_TRUE(helper.process().running());
  EXPECT_NE(helper.Log().find("I/O deadline"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// 3. 2,000 simultaneous connections, with --max-connections 1000 and with the default 4096.

class FileLimit {
 public:
  FileLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit raised = saved_;
    raised.rlim_cur = raised.rlim_max;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
    soft_ = raised.rlim_cur;
  }
  ~FileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }
  rlim_t soft() const { return soft_; }

 private:
  rlimit saved_{};
  rlim_t soft_ = 0;
  bool ok_ = false;
};

struct FloodResult {
  int held = 0, refused = 0, served = 0;
  double refused_all_closed_ms = 0, open_ms = 0, serve_ms = 0;
  int helper_fd_baseline = 0, helper_fd_peak = 0, helper_fd_after = 0;
  int test_fd_baseline = 0, test_fd_after = 0;
};

FloodResult Flood(HelperProcess& helper, int connections, int expect_refused) {
  FloodResult res;
  res.test_fd_baseline = testing::OpenFdCount();
  EXPECT_TRUE(Call(helper.socket(), KeyIdNumRequest()).ok());  // warm up
  std::this_thread::sleep_for(100ms);
  res.helper_fd_baseline = FdCountOf(helper.process().pid());

  auto t0 = Clock::now();
  std::vector<int> fds;
  for (int i = 0; i < connections; ++i) {
    int fd = testing::ConnectUnix(helper.socket());
    EXPECT_GE(fd, 0) << "connection " << i;
    if (fd < 0) break;
    fds.push_back(fd);
  }
  auto t_opened = Clock::now();
  res.open_ms = Ms(t_opened - t0);

  // Connections over the limit are closed by the server: EOF on our side.
  std::vector<bool> closed(fds.size(), false);
  auto poll_closed = [&](std::chrono::milliseconds window) {
    auto end = Clock::now() + window;
    while (Clock::now() < end) {
      std::vector<pollfd> pfds;
      std::vector<size_t> index;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!closed[i]) {
          pfds.push_back({fds[i], POLLIN, 0});
          index.push_back(i);
        }
      }
      if (::poll(pfds.data(), pfds.size(), 50) <= 0) continue;
      for (size_t k = 0; k < pfds.size(); ++k) {
        if (pfds[k].revents == 0) continue;
        char c;
        ssize_t n = ::recv(pfds[k].fd, &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
          closed[index[k]] = true;
          ++res.refused;
          if (res.refused == expect_refused)
            res.refused_all_closed_ms = Ms(Clock::now() - t_opened);
        }
      }
      if (expect_refused > 0 && res.refused == expect_refused) break;
    }
  };
  poll_closed(expect_refused > 0 ? 5000ms : 1000ms);
  poll_closed(300ms);  // and then nothing more is closed
  res.held = int(fds.size()) - res.refused;
  res.helper_fd_peak = FdCountOf(helper.process().pid());

  // Every held connection is still served when it finally sends its request.
  auto ts = Clock::now();
  Request req = KeyIdNumRequest();
  std::string payload;
  req.SerializeToString(&payload);
  std::string frame = aesm::EncodeFrame(payload);
  for (size_t i = 0; i < fds.size(); ++i) {
    if (closed[i]) continue;
    EXPECT_EQ(::send(fds[i], frame.data(), frame.size(), MSG_NOSIGNAL), ssize_t(frame.size()));
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (closed[i]) continue;
    auto reply = aesm::ReadFrame(fds[i], 1 << 16, Clock::now() + 10s);
    Response r;
    if (reply.ok() && r.ParseFromString(*reply) && r.has_getsupportedattkeyidnumres() &&
        r.getsupportedattkeyidnumres().errorcode() == 0) {
      ++res.served;
    }
  }
  res.serve_ms = Ms(Clock::now() - ts);
  for (int fd : fds) ::close(fd);

  // The helper releases every descriptor: back to the baseline (give it up to 5 s).
  auto deadline = Clock::now() + 5s;
  do {
    res.helper_fd_after = FdCountOf(helper.process().pid());
    if (res.helper_fd_after <= res.helper_fd_baseline + 2) break;
    std::this_thread::sleep_for(50ms);
  } while (Clock::now() < deadline);
  res.test_fd_after = testing::OpenFdCount();
  return res;
}

void PrintFlood(const std::string& label, int connections, const FloodResult& r) {
  std::cout << "FAULT-FIGURES: " << label << ": connections=" << connections << " held=" << r.held
            << " refused(closed by server)=" << r.refused
            << " refused_all_closed_within_ms=" << r.refused_all_closed_ms
            << " open_all_ms=" << r.open_ms << " held_then_served=" << r.served
            << " serve_all_ms=" << r.serve_ms
            << " helper_fd baseline/peak/after=" << r.helper_fd_baseline << "/" << r.helper_fd_peak
            << "/" << r.helper_fd_after << " test_fd baseline/after=" << r.test_fd_baseline << "/"
            << r.test_fd_after << std::endl;
}

TEST(FaultQuoteHelperTest, TwoThousandConnectionsAreHeldOrRefusedWithoutLeaks) {
  FileLimit limit;
  if (!limit.ok() || limit.soft() < 4200) {
    GTEST_SKIP() << "needs RLIMIT_NOFILE >= 4200 (hard limit is " << limit.soft() << ")";
  }
  constexpr int kConnections = 2000;
  TempDir dir;
  {
    // One uid opens them all: lift the per-client share to test the global limit alone.
    HelperProcess helper(dir, {"--max-connections", "1000", "--io-timeout-ms", "30000",
                               "--max-connections-per-client", "100000"});
    ASSERT_TRUE(Ready(helper)) << helper.Log();
    FloodResult r = Flood(helper, kConnections, kConnections - 1000);
    PrintFlood("2000-connections max=1000", kConnections, r);
    EXPECT_EQ(r.held, 1000);
    EXPECT_EQ(r.refused, 1000);
    EXPECT_LT(r.refused_all_closed_ms, 2000.0) << "refused connections are closed at once";
    EXPECT_EQ(r.served, r.held);
    EXPECT_GE(r.helper_fd_peak, r.helper_fd_baseline + 1000);
    EXPECT_LE(r.helper_fd_peak, r.helper_fd_baseline + 1000 + 8);
    EXPECT_LE(r.helper_fd_after, r.helper_fd_baseline + 2) << "descriptor leak in the helper";
    EXPECT_EQ(r.test_fd_after, r.test_fd_baseline);
    EXPECT_TRUE(helper.process().running());
    EXPECT_TRUE(FetchAttestationKey(helper.socket()).ok());
    EXPECT_EQ(helper.Stop(), 0) << helper.Log();
  }
  {
    HelperProcess helper(
        dir, {"--io-timeout-ms", "30000", "--max-connections-per-client", "100000"});  // 4096
    ASSERT_TRUE(Ready(helper)) << helper.Log();
    FloodResult r = Flood(helper, kConnections, 0);
    PrintFlood("2000-connections max=4096(default)", kConnections, r);
    EXPECT_EQ(r.held, kConnections);
    EXPECT_EQ(r.refused, 0);
    EXPECT_EQ(r.served, kConnections);
    EXPECT_GE(r.helper_fd_peak, r.helper_fd_baseline + kConnections);
    EXPECT_LE(r.helper_fd_after, r.helper_fd_baseline + 2) << "descriptor leak in the helper";
    EXPECT_EQ(r.test_fd_after, r.test_fd_baseline);
    EXPECT_TRUE(helper.process().running());
    EXPECT_TRUE(FetchAttestationKey(helper.socket()).ok());
    EXPECT_EQ(helper.Stop(), 0) << helper.Log();
  }
}

// ---------------------------------------------------------------------------------------
// 4. First start with the state dir on a full or read-only file system (a tmpfs in a private
// mount namespace, so nothing is mounted for anyone else).

struct StateDir {
  std::vector<std::string> files;  // names in the state dir
  std::map<std::string, std::string> contents;
};
struct StateDirRun {
  int status = -1;
  std::string log;
  StateDir after_failure;   // the state dir right after the failed start
  StateDir after_recovery;  // with `recover`: after the second start
};

StateDir ReadStateDir(const std::string& path) {
  StateDir d;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    std::string name = e.path().filename().string();
    d.files.push_back(name);
    d.contents[name] = testing::ReadAll(e.path().string());
  }
  std::sort(d.files.begin(), d.files.end());
  return d;
}

// Runs the helper with --state-dir <tmpfs>/state; `mount_opts` for the tmpfs, `prepare`
// shell commands run before the helper (e.g. remount read-only). The tmpfs content is copied
// out (cp -a) once the helper has exited, for inspection: the mount lives only in the
// private mount namespace. With `recover`, the tmpfs is then grown to 1 MiB and the helper
// started again on the same state dir: it must serve (checked with `sgxctl ping`) and exit 0
// on SIGTERM.
StateDirRun RunOnTmpfs(const TempDir& dir, const std::string& mount_opts,
                       const std::string& prepare, bool recover = false) {
  std::string mnt = dir.File("mnt"), out = dir.File("out"), out2 = dir.File("out2");
  std::filesystem::create_directories(mnt);
  std::filesystem::create_directories(out);
  std::filesystem::create_directories(out2);
  std::string script = "mount -t tmpfs -o " + mount_opts + " tmpfs '" + mnt + "' || exit 90\n" +
                       prepare + "\n'" + CONFCOM_HELPER_BIN + "' --backend sim --socket '" +
                       dir.File("run/aesm.socket") + "' --state-dir '" + mnt +
                       "/state' --metrics-address off --log-level debug\n"
                       "rc=$?\n"
                       "cp -a '" +
                       mnt + "/.' '" + out + "/' || exit 92\n";
  if (recover) {
    const std::string s2 = dir.File("run/aesm2.socket");
    script += "mount -o remount,size=1m '" + mnt + "' || exit 93\n'" + CONFCOM_HELPER_BIN +
              "' --backend sim --socket '" + s2 + "' --state-dir '" + mnt +
              "/state' --metrics-address off &\n"
              "pid=$!; i=0\n"
              "while [ $i -lt 100 ]; do\n"
              "  if '" CONFCOM_SGXCTL_BIN "' ping --socket '" +
              s2 +
              "' >/dev/null 2>&1; then\n"
              "    echo RECOVERED-SERVING; break; fi\n"
              "  sleep 0.1; i=$((i+1))\n"
              "done\n"
              "kill -TERM $pid; wait $pid; echo RECOVER-EXIT=$?\n"
              "cp -a '" +
              mnt + "/.' '" + out2 + "/' || exit 92\n";
  }
  script += "exit $rc\n";
  testing::Process p({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script}, dir.File("run.log"));
  StateDirRun r;
  r.status = p.Wait(30s);
  r.log = p.Log();
  r.after_failure = ReadStateDir(out + "/state");
  r.after_recovery = ReadStateDir(out2 + "/state");
  return r;
}

// The state dir invariants after a failed first start: no temporary files, every file whole,
// and platform.json only together with every other file.
void CheckNoHalfWrittenState(const StateDir& r) {
  static const std::vector<std::string> kAll = {
      "attestation.key", "pck.key",     "pck_platform_ca.key", "pck_processor_ca.key",
      "platform.json",   "root_ca.key", "tcb_signing.key",     "root_ca.pem"};
  for (const auto& name : r.files) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << "left-over temporary file " << name;
    // Empty by design: only flock'ed (state.lock: sim/platform.h; the sockets' locks, kept in
    // the state dir since apps mount the socket's folder: helper/listen_socket.h).
    if (name.ends_with(".lock")) continue;
    const std::string& c = r.contents.at(name);
    EXPECT_FALSE(c.empty()) << name << " is empty";
    if (name.ends_with(".pem") || name.ends_with(".key")) {
      EXPECT_NE(c.find("-----END"), std::string::npos) << name << " is cut short";
      EXPECT_TRUE(c.ends_with("-----\n")) << name << " is cut short";
    }
  }
  bool has_platform = std::find(r.files.begin(), r.files.end(), "platform.json") != r.files.end();
  if (has_platform) {
    for (const auto& name : kAll) {
      EXPECT_NE(std::find(r.files.begin(), r.files.end(), name), r.files.end())
          << "platform.json written without " << name;
    }
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s.empty() ? "(none)" : s;
}

TEST(FaultQuoteHelperTest, StateDirOnFullOrReadOnlyFileSystemFailsCleanly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a tmpfs in a private mount namespace";
  auto probe = testing::RunCommand("unshare -m sh -c 'mount -t tmpfs -o size=16k tmpfs /mnt'");
  if (probe.status != 0)
    GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace: " << probe.output;

  struct Case {
    std::string name, mount_opts, expect_error;
  };
  const std::vector<Case> cases = {
      {"disk-full-16k", "size=16k", "No space left on device"},
      {"disk-full-40k", "size=40k", "No space left on device"},
      // Room for every file but the last, platform.json; then the disk is grown and the
      // helper started again on what was left.
      {"disk-full-52k-then-recover", "size=52k", "No space left on device"},
      {"read-only", "size=1m", "Read-only file system"},
      {"read-only-existing-dir", "size=1m", "Read-only file system"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    std::string mnt = dir.File("mnt");
    std::string prepare;
    if (c.name == "read-only") prepare = "mount -o remount,ro '" + mnt + "' || exit 91";
    if (c.name == "read-only-existing-dir") {
      prepare = "mkdir -m 0700 '" + mnt + "/state' && mount -o remount,ro '" + mnt + "' || exit 91";
    }
    const bool recover = c.name.ends_with("recover");
    StateDirRun r = RunOnTmpfs(dir, c.mount_opts, prepare, recover);
    ASSERT_NE(r.status, 90) << r.log;
    ASSERT_NE(r.status, 91) << r.log;
    ASSERT_NE(r.status, 92) << r.log;
    EXPECT_EQ(r.status, 1) << "exit 1: cannot start (state)\n" << r.log;
    EXPECT_NE(r.log.find(c.expect_error), std::string::npos) << r.log;
    EXPECT_NE(r.log.find(mnt + "/state"), std::string::npos) << "names the state dir\n" << r.log;
    // (The log of the first attempt ends with its error; a recovery run's log follows.)
    EXPECT_EQ(r.log.substr(0, r.log.find("cannot start")).find("serving on"), std::string::npos)
        << r.log;
    EXPECT_FALSE(PathExists(dir.File("run/aesm.socket"))) << "no socket for a helper that failed";
    std::string recovered;
    if (recover) {
      // The first attempt wrote everything but platform.json; the second completes the state.
      EXPECT_NE(r.log.find("platform.json.tmp"), std::string::npos) << r.log;
      EXPECT_NE(r.log.find("RECOVERED-SERVING"), std::string::npos) << r.log;
      EXPECT_NE(r.log.find("RECOVER-EXIT=0"), std::string::npos) << r.log;
      EXPECT_EQ(r.after_failure.files.size(), 14u)
          << Join(r.after_failure.files);  // with state.lock
      const auto& f = r.after_recovery.files;
      EXPECT_NE(std::find(f.begin(), f.end(), "platform.json"), f.end()) << Join(f);
      EXPECT_EQ(f.size(), 19u) << Join(f);  // and the locks of the socket and the admin socket
      CheckNoHalfWrittenState(r.after_recovery);
      recovered = r.log.find("RECOVERED-SERVING") != std::string::npos
                      ? " recovered_after_regrow=yes"
                      : " recovered_after_regrow=NO";
    }
    CheckNoHalfWrittenState(r.after_failure);
    std::string error_line;
    for (std::istringstream in(r.log); std::getline(in, error_line);) {
      if (error_line.find("cannot start") != std::string::npos) break;
    }
    std::cout << "FAULT-FIGURES: state-dir " << c.name << ": exit=" << r.status
              << " files_left=" << r.after_failure.files.size() << " ["
              << Join(r.after_failure.files) << "] error=\""
              << error_line.substr(error_line.find("cannot start") == std::string::npos
                                       ? 0
                                       : error_line.find("cannot start"))
              << "\"" << recovered << std::endl;
  }
}

}  // namespace
}  // namespace confcom::faults
