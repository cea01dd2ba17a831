#include "helper/frame_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "aesm/framing.h"
#include "common/bytes.h"
#include "helper/listen_socket.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

using Clock = std::chrono::steady_clock;

// Reads until EOF or the deadline; returns what arrived.
std::string ReadToEof(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    timeval tv{0, 50000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return out;
    if (n > 0) out.append(buf, size_t(n));
  }
  return out + "<timeout>";
}

class FrameServerTest : public ::testing::Test {
 protected:
  void Start(FrameServerOptions options = {}) {
    path_ = dir_.File("s.sock");
    auto s = ListenSocket::Open(path_, 0666, 128);
    ASSERT_TRUE(s.ok());
    socket_.emplace(std::move(s).value());
    server_ = std::make_unique<FrameServer>(
        socket_->fd(), options,
        [this](std::string_view req, const RequestContext& ctx) -> std::optional<std::string> {
          last_pid_ = ctx.peer.pid;
          last_uid_ = ctx.peer.uid;
          {
            std::lock_guard<std::mutex> lock(mu_);
            last_client_ = ctx.peer.client.ToString();
          }
          ++handled_;
          if (req == "close") return std::nullopt;
          if (req == "throw") throw std::runtime_error("boom");
          if (req == "throw-int") throw 42;
          if (ctx.refusal != Refusal::kNone)
            return std::string(RefusalName(ctx.refusal)) + ":" + std::string(req);
          return "echo:" + std::string(req);
        });
    thread_ = std::thread([this] { ASSERT_TRUE(server_->Run().ok()); });
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      thread_.join();
    }
  }

  std::string Roundtrip(const std::string& payload) {
    int fd = testing::ConnectUnix(path_);
    EXPECT_GE(fd, 0);
    EXPECT_TRUE(aesm::WriteFrame(fd, payload, Clock::now() + std::chrono::seconds(5)).ok());
    auto reply = aesm::ReadFrame(fd, 1 << 20, Clock::now() + std::chrono::seconds(5));
    ::close(fd);
    return reply.ok() ? *reply : "<" + reply.status().ToString() + ">";
  }

  testing::TempDir dir_;
  std::string path_;
  std::optional<ListenSocket> socket_;
  std::unique_ptr<FrameServer> server_;
  std::thread thread_;
  std::atomic<int> handled_{0};
  std::atomic<int64_t> last_pid_{-2}, last_uid_{-2};
  std::mutex mu_;
  std::string last_client_;  // the key of the last request's client (guarded by mu_)
  std::string LastClient() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_client_;
  }
};

TEST_F(FrameServerTest, AnswersAndClosesAfterOneRequest) {
  Start();
  int fd = testing::ConnectUnix(path_);
  ASSERT_TRUE(aesm::WriteFrame(fd, "hello", Clock::now() + std::chrono::seconds(5)).ok());
  std::string all = ReadToEof(fd, std::chrono::seconds(5));
  ::close(fd);
  EXPECT_EQ(all, aesm::EncodeFrame("echo:hello")) << "one reply, then EOF";
}

TEST_F(FrameServerTest, HandlerCanCloseWithoutReply) {
  Start();
  int fd = testing::ConnectUnix(path_);
  ASSERT_TRUE(aesm::WriteFrame(fd, "close", Clock::now() + std::chrono::seconds(5)).ok());
  EXPECT_EQ(ReadToEof(fd, std::chrono::seconds(5)), "");
  ::close(fd);
  EXPECT_EQ(server_->stats().closed_unanswered.load(), 1u);
}

TEST_F(FrameServerTest, OversizeAndZeroFramesAreRejectedOthersServed) {
  FrameServerOptions o;
  o.max_frame_size = 1024;
  Start(o);
  int big = testing::ConnectUnix(path_);
  uint8_t header[4];
  StoreLe32(header, 1 << 30);
  ASSERT_EQ(::send(big, header, 4, 0), 4);
  EXPECT_EQ(ReadToEof(big, std::chrono::seconds(5)), "");
  ::close(big);
  int zero = testing::ConnectUnix(path_);
  StoreLe32(header, 0);
  ASSERT_EQ(::send(zero, header, 4, 0), 4);
  EXPECT_EQ(ReadToEof(zero, std::chrono::seconds(5)), "");
  ::close(zero);
  EXPECT_EQ(Roundtrip("ok"), "echo:ok");
  EXPECT_EQ(server_->stats().bad_frames.load(), 2u);
}

TEST_F(FrameServerTest, SilentAndHalfFrameClientsTimeOutWithoutBlockingOthers) {
  FrameServerOptions o;
  o.threads = 1;  // one loop: a blocking design would stall here
  o.io_timeout = std::chrono::milliseconds(300);
  Start(o);
  int silent = testing::ConnectUnix(path_);
  int half = testing::ConnectUnix(path_);
  std::string frame = aesm::EncodeFrame("0123456789");
  ASSERT_EQ(::send(half, frame.data(), 7, 0), 7);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(Roundtrip("x" + std::to_string(i)), "echo:x" + std::to_string(i));
  EXPECT_EQ(ReadToEof(silent, std::chrono::seconds(5)), "");
  EXPECT_EQ(ReadToEof(half, std::chrono::seconds(5)), "");
  ::close(silent);
  ::close(half);
  EXPECT_GE(server_->stats().timed_out.load(), 2u);
}

TEST_F(FrameServerTest, ConnectionsBeyondTheLimitAreClosed) {
  FrameServerOptions o;
  o.max_connections = 4;
  o.threads = 1;
  Start(o);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(testing::ConnectUnix(path_));
  // Give the loop time to accept the four.
  for (int i = 0; i < 100 && server_->stats().accepted.load() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int extra = testing::ConnectUnix(path_);
  EXPECT_EQ(ReadToEof(extra, std::chrono::seconds(5)), "");
  ::close(extra);
  EXPECT_GE(server_->stats().refused.load(), 1u);
  for (int fd : held) ::close(fd);
  for (int i = 0; i < 100 && server_->stats().open.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Roundtrip("after"), "echo:after");
}

TEST_F(FrameServerTest, ManyConcurrentClients) {
  Start();
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string p = std::to_string(t) + "/" + std::to_string(i);
        if (Roundtrip(p) == "echo:" + p) ++good;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(good.load(), 800);
  // The server counts a connection closed just after the client saw EOF.
  for (int i = 0; i < 100 && server_->stats().open.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().open.load(), 0);
}

TEST_F(FrameServerTest, ShutdownFinishesARequestInFlight) {
  FrameServerOptions o;
  o.drain_timeout = std::chrono::seconds(5);
  Start(o);
  int idle = testing::ConnectUnix(path_);
  int busy = testing::ConnectUnix(path_);
  std::string frame = aesm::EncodeFrame("late");
  ASSERT_EQ(::send(busy, frame.data(), 5, 0), 5);  // a request half sent
  for (int i = 0; i < 100 && server_->stats().accepted.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_->Shutdown();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::send(busy, frame.data() + 5, frame.size() - 5, 0), ssize_t(frame.size() - 5));
  EXPECT_EQ(ReadToEof(busy, std::chrono::seconds(5)), aesm::EncodeFrame("echo:late"));
  EXPECT_EQ(ReadToEof(idle, std::chrono::seconds(5)), "") << "idle connections are closed";
  ::close(idle);
  ::close(busy);
  thread_.join();
  server_.reset();
}

// A successor took the socket's path: connections still queued in the listen backlog (never
// accepted) and accepted ones that have not written yet are served, not reset or closed.
TEST(FrameServerHandOverTest, ServesTheBacklogAndConnectionsThatHaveNotWrittenYet) {
  testing::TempDir dir;
  std::string path = dir.File("s.sock");
  auto socket = ListenSocket::Open(path, 0666, 128);
  ASSERT_TRUE(socket.ok());
  FrameServerOptions o;
  o.threads = 2;
  FrameServer server(socket->fd(), o,
                     [](std::string_view req, const RequestContext&) -> std::optional<std::string> {
                       return "echo:" + std::string(req);
                     });
  // Queued before any loop runs: only the backlog holds them.
  std::vector<int> queued;
  for (int i = 0; i < 5; ++i) {
    int fd = testing::ConnectUnix(path);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(
        aesm::WriteFrame(fd, "q" + std::to_string(i), Clock::now() + std::chrono::seconds(5)).ok());
    queued.push_back(fd);
  }
  int silent = testing::ConnectUnix(path);  // writes only after the hand-over started
  ASSERT_GE(silent, 0);
  server.HandOver();
  std::thread run([&] { EXPECT_TRUE(server.Run().ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(aesm::WriteFrame(silent, "late", Clock::now() + std::chrono::seconds(5)).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ReadToEof(queued[size_t(i)], std::chrono::seconds(5)),
              aesm::EncodeFrame("echo:q" + std::to_string(i)));
    ::close(queued[size_t(i)]);
  }
  EXPECT_EQ(ReadToEof(silent, std::chrono::seconds(5)), aesm::EncodeFrame("echo:late"));
  ::close(silent);
  run.join();  // returns once the grace has passed and nothing is left
  EXPECT_EQ(server.stats().answered.load(), 6u);
}

TEST_F(FrameServerTest, HandlerSeesThePeersCredentials) {
  Start();
  EXPECT_EQ(Roundtrip("who"), "echo:who");
  EXPECT_EQ(last_pid_.load(), int64_t(::getpid()));
  EXPECT_EQ(last_uid_.load(), int64_t(::getuid()));
}

// The share follows the pod in <proc_root>/<pid>/cgroup, read for every connection: this
// process's file is rewritten between connections to play two pods of one uid.
TEST_F(FrameServerTest, TheShareFollowsThePodReadForEachConnection) {
  const std::string proc = dir_.File("proc");
  const std::string cgroup = proc + "/" + std::to_string(::getpid()) + "/cgroup";
  std::filesystem::create_directories(proc + "/" + std::to_string(::getpid()));
  auto become = [&](const std::string& pod) {
    testing::WriteAll(cgroup, "0::/kubepods.slice/kubepods-pod" + pod + ".slice/cri-x.scope\n");
  };
  FrameServerOptions o;
  o.threads = 1;
  o.max_connections_per_client = 1;
  o.refusal_slots_per_client = 0;
  o.proc_root = proc;
  Start(o);
  become("aaaaaaaa_0000_4000_8000_00000000000a");
  EXPECT_EQ(Roundtrip("a"), "echo:a");
  EXPECT_EQ(LastClient(), "pod aaaaaaaa-0000-4000-8000-00000000000a");
  // Pod a holds its one connection: its next is closed, pod b's is served.
  int held = testing::ConnectUnix(path_);
  for (int i = 0; i < 200 && server_->stats().open.load() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int refused = testing::ConnectUnix(path_);
  EXPECT_EQ(ReadToEof(refused, std::chrono::seconds(5)), "");
  ::close(refused);
  become("bbbbbbbb_0000_4000_8000_00000000000b");
  EXPECT_EQ(Roundtrip("b"), "echo:b");
  EXPECT_EQ(LastClient(), "pod bbbbbbbb-0000-4000-8000-00000000000b");
  // Outside any pod: the uid.
  testing::WriteAll(cgroup, "0::/user.slice/user-0.slice/session-1.scope\n");
  EXPECT_EQ(Roundtrip("host"), "echo:host");
  EXPECT_EQ(LastClient(), "uid " + std::to_string(::getuid()));
  ::close(held);
  const auto& by = server_->stats().identified_by;
  EXPECT_EQ(by[size_t(IdentifiedBy::kPod)].load(), 4u);  // a, held, refused, b
  EXPECT_EQ(by[size_t(IdentifiedBy::kUidNotInPod)].load(), 1u);
  EXPECT_EQ(server_->stats().over_share.load(), 1u);
}

TEST_F(FrameServerTest, ByUidEveryConnectionOfTheProcessSharesOneAllowance) {
  FrameServerOptions o;
  o.client_identity = ClientIdentity::kUid;
  o.proc_root = dir_.File("no-such-proc");  // never read
  Start(o);
  EXPECT_EQ(Roundtrip("u"), "echo:u");
  EXPECT_EQ(LastClient(), "uid " + std::to_string(::getuid()));
  EXPECT_EQ(server_->stats().identified_by[size_t(IdentifiedBy::kUidFlag)].load(), 1u);
}

// Waits until the server has accepted `n` connections in all.
void WaitAccepted(const FrameServer& s, uint64_t n) {
  for (int i = 0; i < 200 && s.stats().accepted.load() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST_F(FrameServerTest, AClientOverItsShareIsRefusedThenClosedOthersKeepTheirShare) {
  FrameServerOptions o;
  o.threads = 1;
  o.max_connections_per_client = 2;
  o.refusal_slots_per_client = 1;
  o.io_timeout = std::chrono::seconds(10);
  // Long enough that the idle refusal slot below cannot expire while the fourth connection is
  // checked, even on a loaded machine; still far from the 10 s I/O deadline.
  o.refusal_timeout = std::chrono::seconds(2);
  Start(o);
  int a = testing::ConnectUnix(path_), b = testing::ConnectUnix(path_);
  WaitAccepted(*server_, 2);
  // The third connection of this uid gets a refusal slot: its request is answered "refused".
  EXPECT_EQ(Roundtrip("third"), "over_share:third");
  // While a refusal slot is taken by an idle connection, a fourth is closed at once.
  int idle_refused = testing::ConnectUnix(path_);
  WaitAccepted(*server_, 4);
  auto t0 = Clock::now();
  int fourth = testing::ConnectUnix(path_);
  EXPECT_EQ(ReadToEof(fourth, std::chrono::seconds(5)), "");
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(250))
      << "closed at once, not at a deadline";
  ::close(fourth);
  // The idle connection in the refusal slot has the short deadline, not the 10 s one.
  t0 = Clock::now();
  EXPECT_EQ(ReadToEof(idle_refused, std::chrono::seconds(9)), "");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(6));
  ::close(idle_refused);
  EXPECT_GE(server_->stats().over_share.load(), 3u);
  ::close(a);
  ::close(b);
  for (int i = 0; i < 100 && server_->stats().open.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Roundtrip("share back"), "echo:share back");
}

TEST_F(FrameServerTest, MemoryBudgetRefusesOrClosesAndIsGivenBack) {
  FrameServerOptions o;
  o.threads = 1;
  o.max_frame_size = 1024;
  o.max_reply_size = 1024;
  o.max_buffered_bytes = 1500;
  Start(o);
  // A announces 1000 bytes and sends none: they are charged at once.
  int a = testing::ConnectUnix(path_);
  uint8_t header[4];
  StoreLe32(header, 1000);
  ASSERT_EQ(::send(a, header, 4, 0), 4);
  for (int i = 0; i < 200 && server_->stats().buffered_bytes.load() < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().buffered_bytes.load(), 1000);
  // A small request fits, but its reply room (1024 + 4) does not: answered as overloaded.
  EXPECT_EQ(Roundtrip("hi"), "overloaded:hi");
  // A request announcing 600 bytes does not fit at all: closed unread.
  int c = testing::ConnectUnix(path_);
  StoreLe32(header, 600);
  ASSERT_EQ(::send(c, header, 4, 0), 4);
  EXPECT_EQ(ReadToEof(c, std::chrono::seconds(5)), "");
  ::close(c);
  EXPECT_EQ(server_->stats().over_budget.load(), 2u);
  EXPECT_LE(server_->stats().buffered_bytes_peak.load(), 1500 + 64);
  ::close(a);
  for (int i = 0; i < 200 && server_->stats().buffered_bytes.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().buffered_bytes.load(), 0) << "every charge is given back";
  EXPECT_EQ(Roundtrip("again"), "echo:again");
}

TEST_F(FrameServerTest, AThrowingHandlerClosesItsConnectionOthersAreServed) {
  FrameServerOptions o;
  o.threads = 1;
  Start(o);
  for (const char* bad : {"throw", "throw-int"}) {
    int fd = testing::ConnectUnix(path_);
    ASSERT_TRUE(aesm::WriteFrame(fd, bad, Clock::now() + std::chrono::seconds(5)).ok());
    EXPECT_EQ(ReadToEof(fd, std::chrono::seconds(5)), "") << bad << ": closed without a reply";
    ::close(fd);
  }
  EXPECT_EQ(Roundtrip("still here"), "echo:still here");
  EXPECT_EQ(server_->stats().handler_failed.load(), 2u);
  for (int i = 0; i < 200 && server_->stats().buffered_bytes.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stats().buffered_bytes.load(), 0)
      << "the failed requests' bytes are given back";
}

TEST_F(FrameServerTest, ConnectionsClosedAtTheEndOfTheDrainGiveBackTheirBytes) {
  FrameServerOptions o;
  o.threads = 1;
  o.drain_timeout = std::chrono::milliseconds(200);
  Start(o);
  int half = testing::ConnectUnix(path_);
  std::string frame = aesm::EncodeFrame("never finished");
  ASSERT_EQ(::send(half, frame.data(), 6, 0), 6);  // header and two bytes: charged, in flight
  for (int i = 0; i < 200 && server_->stats().buffered_bytes.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(server_->stats().buffered_bytes.load(), 0);
  server_->Shutdown();
  thread_.join();
  EXPECT_EQ(ReadToEof(half, std::chrono::seconds(5)), "");
  ::close(half);
  EXPECT_EQ(server_->stats().open.load(), 0);
  EXPECT_EQ(server_->stats().buffered_bytes.load(), 0)
      << "closed after the drain period, charge given back";
  server_.reset();
}

TEST(FrameServerBudgetTest, TheBudgetMustHoldEveryConnectionsRequestAndEveryLoopsReply) {
  FrameServerOptions o;
  o.threads = 256;  // the most --threads allows
  EXPECT_TRUE(CheckMemoryBudget(o).ok())
      << "the defaults are consistent: " << CheckMemoryBudget(o).message();
  o.max_connections = 4096;
  o.max_frame_size = 16 * 1024;
  o.max_buffered_bytes = 32u << 20;
  Status st = CheckMemoryBudget(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--max-buffered-mib"), std::string::npos) << st.message();
  o.threads = 1;
  o.max_connections = 10;
  o.max_frame_size = 1000;
  o.max_reply_size = 1000;
  o.max_buffered_bytes = 10 * 1004 + 1004;
  EXPECT_TRUE(CheckMemoryBudget(o).ok());
  --o.max_buffered_bytes;
  EXPECT_FALSE(CheckMemoryBudget(o).ok());
}

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// Sanitizer runtimes need descriptors of their own (UBSan's vptr check probes memory through a
// pipe), so a process with a full descriptor table fails under them for reasons of theirs.
// CI's sanitizer builds are address,undefined or thread.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Out of descriptors with no reserve one to shed connections with: the server must not spin
// on its level-triggered listener, and must serve again once descriptors are free.
TEST(FrameServerFdTest, OutOfDescriptorsWithoutAReserveItBacksOffAndRecovers) {
  if (kSanitized) GTEST_SKIP() << "a full descriptor table breaks the sanitizer runtime itself";
  testing::TempDir dir;
  const std::string path = dir.File("s.sock");
  auto listener = ListenSocket::Open(path, 0666, 128);
  ASSERT_TRUE(listener.ok());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The server, in a process of its own whose descriptor table is full.
    FrameServerOptions o;
    o.threads = 1;
    o.drain_timeout = std::chrono::milliseconds(500);
    FrameServer server(listener->fd(), o, [](std::string_view req, const RequestContext&) {
      return std::optional<std::string>("echo:" + std::string(req));
    });
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_cur, 512);
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(3);
    std::vector<int> fillers;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
    if (fillers.empty()) ::_exit(4);
    ::close(fillers.back());  // one left: for the loop's epoll set, none for its reserve
    fillers.pop_back();
    std::thread release([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2000));
      for (int fd : fillers) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      server.Shutdown();
    });
    bool ok = server.Run().ok();
    release.join();
    ::_exit(ok ? 0 : 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    int fd = testing::ConnectUnix(path);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(
        aesm::WriteFrame(fd, "c" + std::to_string(i), Clock::now() + std::chrono::seconds(5)).ok());
    clients.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double cpu0 = CpuSeconds(child);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const double cpu = CpuSeconds(child) - cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(cpu, 0.2 * wall) << "the server spins on its listener while out of descriptors";
  // Once descriptors are free again, the waiting clients are served.
  for (int i = 0; i < 3; ++i) {
    auto reply = aesm::ReadFrame(clients[size_t(i)], 1024, Clock::now() + std::chrono::seconds(8));
    EXPECT_TRUE(reply.ok() && *reply == "echo:c" + std::to_string(i))
        << (reply.ok() ? *reply : reply.status().ToString());
    ::close(clients[size_t(i)]);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace confcom::helper
