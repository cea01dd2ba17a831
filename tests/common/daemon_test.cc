// The daemon skeleton: its stop order, signals sent to this very process, metrics off and on.
// CTest runs each test in a process of its own, so blocking signals here affects no other test.
#include "common/daemon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/cli_main.h"

namespace confcom {
namespace {

using namespace std::chrono_literals;

DaemonFlags Flags(std::string metrics_address) {
  DaemonFlags f;
  f.log_level = "warn";
  f.metrics_address = std::move(metrics_address);
  return f;
}

bool Connects(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST(DaemonTest, StopEndsTheMetricsServerFirstThenTheStepsLastAddedFirstOnce) {
  std::vector<std::string> order;
  int port = 0;
  {
    Daemon d("daemon-test");
    ASSERT_EQ(d.Configure(Flags("127.0.0.1:0")), -1);
    d.AddStopStep("first", [&] { order.push_back("first"); });
    auto m = d.StartMetrics();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_NE(*m, nullptr);
    port = (*m)->port();
    ASSERT_GT(port, 0);
    EXPECT_TRUE(Connects(port));
    d.AddStopStep("second", [&] {
      // Collectors may read what steps tear down: the server is gone by now.
      order.push_back(d.metrics() == nullptr && !Connects(port) ? "second, metrics stopped"
                                                                : "second");
    });
    d.Stop();
    d.Stop();  // nothing more
    EXPECT_EQ(order, (std::vector<std::string>{"second, metrics stopped", "first"}));
  }  // the destructor runs nothing again
  EXPECT_EQ(order.size(), 2u);
}

TEST(DaemonTest, TheDestructorRunsTheSteps) {
  bool ran = false;
  {
    Daemon d("daemon-test");
    ASSERT_EQ(d.Configure(Flags("off")), -1);
    d.AddStopStep("flag", [&] { ran = true; });
  }
  EXPECT_TRUE(ran);
}

TEST(DaemonTest, MetricsOffStartsNoServer) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  auto m = d.StartMetrics();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, nullptr);
  EXPECT_EQ(d.metrics(), nullptr);
}

TEST(DaemonTest, BadFlagsAreUsageErrors) {
  Daemon d("daemon-test");
  EXPECT_EQ(d.Configure(Flags("localhost")), kExitUsage);  // no port
  ::testing::internal::CaptureStderr();
  DaemonFlags level = Flags("off");
  level.log_level = "loud";
  EXPECT_EQ(d.Configure(level), kExitUsage);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("daemon-test: unknown log level 'loud'"),
            std::string::npos);
  DaemonFlags format = Flags("off");
  format.log_format = "xml";
  EXPECT_EQ(d.Configure(format), kExitUsage);
}

TEST(DaemonTest, MetricsAddressInUseFailsToStart) {
  Daemon first("daemon-test");
  ASSERT_EQ(first.Configure(Flags("127.0.0.1:0")), -1);
  auto m = first.StartMetrics();
  ASSERT_TRUE(m.ok() && *m != nullptr);
  Daemon second("daemon-test");
  ASSERT_EQ(second.Configure(Flags("127.0.0.1:" + std::to_string((*m)->port()))), -1);
  auto clash = second.StartMetrics();
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("--metrics-address off"), std::string::npos)
      << clash.status().message();
}

TEST(DaemonTest, WaitForSignalReturnsTheSignalRaisedInThisThread) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  d.BlockSignals();
  ::raise(SIGINT);  // blocked: stays pending until the wait takes it
  EXPECT_EQ(d.WaitForSignal(), SIGINT);
}

TEST(DaemonTest, WaitForSignalTakesASignalSentToTheProcessFromAnotherThread) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  d.BlockSignals();
  std::thread sender([] {
    std::this_thread::sleep_for(50ms);
    ::kill(::getpid(), SIGTERM);
  });
  EXPECT_EQ(d.WaitForSignal(), SIGTERM);
  sender.join();
}

TEST(DaemonTest, OnSignalCallsTheHookOnceOnItsThreadBeforeStop) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  d.BlockSignals();
  std::promise<int> got;
  std::thread::id hook_thread;
  d.OnSignal([&](int sig) {
    hook_thread = std::this_thread::get_id();
    got.set_value(sig);
  });
  EXPECT_FALSE(d.signalled());
  ::kill(::getpid(), SIGTERM);
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), SIGTERM);
  EXPECT_NE(hook_thread, std::this_thread::get_id());
  EXPECT_TRUE(d.signalled());
  d.Stop();
  EXPECT_TRUE(d.signalled());
}

TEST(DaemonTest, StopEndsTheSignalThreadWithoutCallingTheHook) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  d.BlockSignals();
  bool called = false;
  d.OnSignal([&](int) { called = true; });
  d.Stop();
  EXPECT_FALSE(called);
  EXPECT_FALSE(d.signalled());
}

// The quote helper's hand-over: the hook's thread stops serving, the daemon stops, and the
// old helper then idles until it is told to exit.
TEST(DaemonTest, AfterStopTheMainThreadCanWaitForTheNextSignal) {
  Daemon d("daemon-test");
  ASSERT_EQ(d.Configure(Flags("off")), -1);
  d.BlockSignals();
  d.OnSignal([](int) {});
  d.Stop();
  std::thread sender([] {
    std::this_thread::sleep_for(50ms);
    ::kill(::getpid(), SIGINT);
  });
  EXPECT_EQ(d.WaitForSignal(), SIGINT);
  sender.join();
  EXPECT_FALSE(d.signalled());
}

}  // namespace
}  // namespace confcom
