// The small shared pieces issue 11 added: log rate limits, log escaping, the RFC 3339
// formatter, the stop-on-signal helper and the non-empty flag rule.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "common/daemon_flags.h"
#include "common/log_limiter.h"
#include "common/logging.h"
#include "common/signals.h"
#include "common/time_format.h"

namespace confcom {
namespace {

TEST(LogLimiterTest, LetsABurstThroughThenCountsWhatItDrops) {
  LogLimiter limiter(3, std::chrono::seconds(60));  // no refill within the test
  uint64_t dropped = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allow(&dropped));
    EXPECT_EQ(dropped, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow(&dropped));
}

TEST(LogLimiterTest, RefillsAndReportsTheDroppedCount) {
  LogLimiter limiter(2, std::chrono::milliseconds(100));  // one token per 50 ms
  uint64_t dropped = 0;
  EXPECT_TRUE(limiter.Allow(&dropped));
  EXPECT_TRUE(limiter.Allow(&dropped));
  EXPECT_FALSE(limiter.Allow(&dropped));
  EXPECT_FALSE(limiter.Allow(&dropped));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_TRUE(limiter.Allow(&dropped));
  EXPECT_EQ(dropped, 2u);
}

TEST(EscapeForLogTest, ControlCharactersCannotForgeALine) {
  EXPECT_EQ(EscapeForLog("/sgx/x\n2026 info FORGED"), "/sgx/x\\x0a2026 info FORGED");
  EXPECT_EQ(EscapeForLog("a\\b\r\x1b[31m\x7f\xc3\xa9"), "a\\\\b\\x0d\\x1b[31m\\x7f\\xc3\\xa9");
  EXPECT_EQ(EscapeForLog("/plain/path?x=1"), "/plain/path?x=1");
}

TEST(FormatRfc3339Test, UtcWholeSeconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1893456000), "2030-01-01T00:00:00Z");
}

TEST(StopOnSignalTest, CallsTheHookOnSigtermAndEndsWithoutOne) {
  sigset_t signals = BlockTerminationSignals();
  {
    std::atomic<int> got{0};
    StopOnSignal stop(signals, [&got](int sig) { got = sig; });
    ::kill(::getpid(), SIGTERM);
    for (int i = 0; i < 200 && got == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(got.load(), SIGTERM);
    EXPECT_TRUE(stop.signalled());
  }
  {
    bool called = false;
    auto t0 = std::chrono::steady_clock::now();
    {
      StopOnSignal stop(signals, [&called](int) { called = true; });
    }
    EXPECT_FALSE(called) << "no signal: the hook is not called";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
}

TEST(RequireNonEmptyValuesTest, AnEmptyNumberOrStringIsAnError) {
  for (const char* flag : {"--n", "--s"}) {
    CLI::App app;
    int n = 5;
    std::string s = "x";
    bool b = false;
    app.add_option("--n", n)->check(CLI::Range(1, 10));
    app.add_option("--s", s);
    app.add_flag("--b", b);
    RequireNonEmptyValues(app);
    std::vector<std::string> args = {"", flag};  // parsed back to front
    try {
      app.parse(args);
      ADD_FAILURE() << flag << " '' was accepted";
    } catch (const CLI::ValidationError& e) {
      EXPECT_NE(std::string(e.what()).find("empty value"), std::string::npos) << e.what();
    }
  }
  CLI::App app;
  int n = 5;
  bool b = false;
  app.add_option("--n", n);
  app.add_flag("--b", b);
  RequireNonEmptyValues(app);
  std::vector<std::string> args = {"7", "--n", "--b"};
  app.parse(args);
  EXPECT_EQ(n, 7);
  EXPECT_TRUE(b);
}

}  // namespace
}  // namespace confcom
