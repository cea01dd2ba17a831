// Handover's steps against fakes of the path, the server and the liveness check: no second
// process, no real socket. Time that matters (the confirmation gap) comes from a fake clock;
// the watch interval is 1 ms and every wait polls a condition up to a deadline.
#include "helper/handover.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls `condition` every millisecond until it holds (true) or `timeout` passes (false).
template <typename Condition>
bool PollUntil(Condition condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// ListenSocket's path operations, scripted.
class FakePath : public SocketPath {
 public:
  std::atomic<bool> predecessor{false};
  std::atomic<bool> owns{true};
  Status publish_status = Status::Ok();
  Status wait_status = Status::Ok();
  std::atomic<bool> restore_succeeds{false};
  std::atomic<bool> finish_succeeds{false};
  std::atomic<int> publishes{0}, waits{0}, finish_tries{0}, restores{0}, closes{0};
  std::vector<std::string>* events = nullptr;  // "publish", appended in call order

  bool has_predecessor() const override { return predecessor; }
  Status Publish() override {
    ++publishes;
    if (events) events->push_back("publish");
    return publish_status;
  }
  Status WaitForPredecessor(std::chrono::milliseconds) override {
    ++waits;
    return wait_status;
  }
  bool TryFinishTakeOver() override {
    ++finish_tries;
    if (!finish_succeeds) return false;
    predecessor = false;
    return true;
  }
  bool OwnsPath() const override { return owns; }
  bool Restore() override {
    ++restores;
    if (!restore_succeeds) return false;
    owns = true;
    return true;
  }
  void Close() override { ++closes; }
};

class FakeServer : public DrainingServer {
 public:
  std::atomic<int> handovers{0}, shutdowns{0};
  void HandOver() override { ++handovers; }
  void Shutdown() override { ++shutdowns; }
};

// The liveness check: answers from `script` in order, then `otherwise`.
class FakeSuccessor {
 public:
  void Script(std::deque<bool> answers, bool otherwise) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(answers);
    otherwise_ = otherwise;
  }
  int calls() const { return calls_; }
  LivenessCheck Check() {
    return [this](const std::string&) {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      if (script_.empty()) return otherwise_;
      bool answer = script_.front();
      script_.pop_front();
      return answer;
    };
  }

 private:
  std::mutex mu_;
  std::deque<bool> script_;
  bool otherwise_ = false;
  std::atomic<int> calls_{0};
};

// The default logger's lines, for the tests that count warnings.
class CapturedLog : public spdlog::sinks::base_sink<std::mutex> {
 public:
  size_t Count(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t n = 0;
    for (size_t at = text_.find(text); at != std::string::npos; at = text_.find(text, at + 1)) ++n;
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    text_.append(msg.payload.data(), msg.payload.size());
    text_ += '\n';
  }
  void flush_() override {}

 private:
  std::string text_;
};

class HandoverTest : public ::testing::Test {
 protected:
  HandoverTest() {
    log_ = std::make_shared<CapturedLog>();
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("handover-test", log_));
    options_.path = dir_.File("aesm.socket");
    options_.ready_file = dir_.File("ready");
    options_.watch_interval = 1ms;
    options_.confirm_gap = 100ms;
    options_.now = [this] {
      return Clock::time_point(std::chrono::milliseconds(clock_ms_.load()));
    };
  }
  ~HandoverTest() override { spdlog::set_default_logger(previous_logger_); }

  std::unique_ptr<Handover> Make() {
    return std::make_unique<Handover>(options_, &path_, &server_, successor_.Check(),
                                      [this](const char* step) {
                                        faults_.push_back(step);
                                        events_.push_back(step);
                                      });
  }
  // Starts Watch() on a thread of its own.
  std::future<WatchEnd> StartWatch(Handover& handover) {
    return std::async(std::launch::async, [&handover] { return handover.Watch(); });
  }
  static bool Running(std::future<WatchEnd>& watch) {
    return watch.wait_for(0ms) == std::future_status::timeout;
  }
  // Waits until the liveness check has run `n` more times (Watch made progress).
  bool WaitForChecks(int n) {
    int target = successor_.calls() + n;
    return PollUntil([&] { return successor_.calls() >= target; });
  }
  bool ReadyFileExists() const { return PathExists(options_.ready_file); }

  testing::TempDir dir_;
  HandoverOptions options_;
  FakePath path_;
  FakeServer server_;
  FakeSuccessor successor_;
  std::atomic<int64_t> clock_ms_{1000};  // never the epoch: that means "no answer yet"
  std::vector<std::string> faults_;
  std::vector<std::string> events_;
  std::shared_ptr<CapturedLog> log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

TEST_F(HandoverTest, ASuccessorIsConfirmedOnlyByTwoAnswersConfirmGapApart) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  ASSERT_TRUE(ReadyFileExists());
  // A successor renamed its socket over the path and answers there.
  path_.owns = false;
  successor_.Script({}, true);
  auto watch = StartWatch(*handover);
  // It answers again and again, but the clock does not move: not confirmed.
  ASSERT_TRUE(WaitForChecks(5));
  clock_ms_ += 99;
  ASSERT_TRUE(WaitForChecks(5));
  EXPECT_TRUE(Running(watch));
  EXPECT_EQ(server_.handovers, 0);
  EXPECT_TRUE(ReadyFileExists());
  // 100 ms after its first answer: confirmed.
  clock_ms_ += 1;
  ASSERT_EQ(watch.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(watch.get(), WatchEnd::kHandedOver);
  EXPECT_EQ(server_.handovers, 1);
  EXPECT_EQ(server_.shutdowns, 0);
  EXPECT_FALSE(ReadyFileExists()) << "a helper that hands over is not ready any more";
  EXPECT_EQ(path_.restores, 0);
  EXPECT_EQ(log_->Count("a new helper took over"), 1u);
}

TEST_F(HandoverTest, ASuccessorThatAnswersOnceThenDiesIsNotTrusted) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  path_.restore_succeeds = true;
  // One answer, then nothing: Restore puts our socket back.
  successor_.Script({true}, false);
  path_.owns = false;
  auto watch = StartWatch(*handover);
  // The log line comes after Restore() returns: wait for it, not for the fake's counter.
  ASSERT_TRUE(PollUntil([&] { return log_->Count("is gone: serving it again") == 1; }));
  EXPECT_GT(path_.restores, 0);
  EXPECT_TRUE(path_.owns);
  // A later successor answers: its first answer starts the gap again, even long after the dead
  // one's.
  clock_ms_ += 500;
  successor_.Script({true}, true);
  path_.owns = false;
  ASSERT_TRUE(WaitForChecks(5));
  EXPECT_TRUE(Running(watch));
  EXPECT_EQ(server_.handovers, 0) << "the dead successor's answer counted";
  EXPECT_TRUE(ReadyFileExists()) << "we keep serving, and stay ready";
  handover->Stop();
  ASSERT_EQ(watch.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(watch.get(), WatchEnd::kStopped);
}

TEST_F(HandoverTest, NothingAnsweringMeansRestoreOrWaitWithOneWarning) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  successor_.Script({}, false);
  path_.owns = false;  // Restore() fails: a successor holds the hand-over lock, not yet serving
  auto watch = StartWatch(*handover);
  ASSERT_TRUE(PollUntil([&] { return path_.restores >= 10; }));
  EXPECT_EQ(log_->Count("nothing answers there yet; waiting"), 1u);
  path_.restore_succeeds = true;
  ASSERT_TRUE(PollUntil([&] { return log_->Count("is gone: serving it again") == 1; }));
  EXPECT_TRUE(path_.owns);
  EXPECT_TRUE(Running(watch));
  EXPECT_EQ(server_.handovers, 0);
  handover->Stop();
  EXPECT_EQ(watch.get(), WatchEnd::kStopped);
}

TEST_F(HandoverTest, AStopSignalEndsTheWatchAndShutsTheServerDown) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  auto watch = StartWatch(*handover);
  handover->Stop();
  ASSERT_EQ(watch.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(watch.get(), WatchEnd::kStopped);
  EXPECT_EQ(server_.shutdowns, 1);
  EXPECT_EQ(server_.handovers, 0);
  EXPECT_TRUE(ReadyFileExists()) << "ready until the server has stopped";
  handover->ServerEnded();
  handover->WaitForServerEnd();
  handover->Release();
  EXPECT_EQ(path_.closes, 1);
  EXPECT_FALSE(ReadyFileExists()) << "a stopped helper is not ready";
  handover->WaitForStopIfAsked();  // returns: no hand-over
  EXPECT_EQ(log_->Count("handed"), 0u);
}

TEST_F(HandoverTest, AServerThatEndsByItselfEndsTheWatch) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  auto watch = StartWatch(*handover);
  handover->ServerEnded();
  ASSERT_EQ(watch.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(watch.get(), WatchEnd::kServerEnded);
  EXPECT_EQ(server_.shutdowns, 0);
}

TEST_F(HandoverTest, AfterAPredecessorTimeOutTheTakeOverIsFinishedOnceItIsGone) {
  path_.predecessor = true;
  path_.wait_status = Status::DeadlineExceeded("the previous helper did not finish within 1000 ms");
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok()) << "a hung predecessor is a warning: we serve anyway";
  EXPECT_TRUE(handover->took_over());
  EXPECT_EQ(path_.waits, 1);
  EXPECT_EQ(log_->Count("serving anyway"), 1u);
  auto watch = StartWatch(*handover);
  ASSERT_TRUE(PollUntil([&] { return path_.finish_tries >= 5; })) << "tried at every check";
  EXPECT_EQ(log_->Count(".lock is ours now"), 0u);
  path_.finish_succeeds = true;
  ASSERT_TRUE(PollUntil([&] { return log_->Count(".lock is ours now") == 1; }));
  int tries = path_.finish_tries;
  EXPECT_FALSE(path_.predecessor);
  // No predecessor left: no more tries.
  path_.owns = false;
  successor_.Script({}, true);
  ASSERT_TRUE(WaitForChecks(3));
  EXPECT_EQ(path_.finish_tries, tries);
  handover->Stop();
  EXPECT_EQ(watch.get(), WatchEnd::kStopped);
}

TEST_F(HandoverTest, WithoutAPredecessorNothingIsWaitedForOrFinished) {
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  EXPECT_FALSE(handover->took_over());
  EXPECT_EQ(path_.publishes, 1);
  EXPECT_EQ(path_.waits, 0);
  EXPECT_TRUE(faults_.empty()) << "the fault hook is only for a take-over from a live helper";
  auto watch = StartWatch(*handover);
  path_.owns = false;
  successor_.Script({}, false);
  ASSERT_TRUE(WaitForChecks(3));
  EXPECT_EQ(path_.finish_tries, 0);
  handover->Stop();
  watch.get();
}

TEST_F(HandoverTest, TheFaultHookRunsBeforeAndAfterTheRename) {
  path_.predecessor = true;
  path_.events = &events_;
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  EXPECT_EQ(events_, (std::vector<std::string>{"before-rename", "publish", "after-rename"}));
  EXPECT_EQ(path_.waits, 1) << "then the predecessor is waited for";
}

TEST_F(HandoverTest, AFailedRenameIsAnErrorAndSkipsTheRest) {
  path_.predecessor = true;
  path_.publish_status = Status::IoError("rename: no space");
  auto handover = Make();
  Status st = handover->TakePath();
  EXPECT_EQ(st.code(), Status::Code::kIoError) << st.ToString();
  EXPECT_EQ(faults_, (std::vector<std::string>{"before-rename"}));
  EXPECT_EQ(path_.waits, 0);
}

TEST_F(HandoverTest, TheReadyFileHoldsOurPidAndAStaleOneIsRemovedAtStart) {
  ASSERT_TRUE(WriteFileAtomic(options_.ready_file, "12345\n", 0644).ok());
  auto handover = Make();
  EXPECT_FALSE(ReadyFileExists()) << "not ready before the path is ours";
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  auto text = ReadFile(options_.ready_file);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, std::to_string(::getpid()) + "\n");
  handover.reset();
  EXPECT_FALSE(ReadyFileExists()) << "removed when the Handover goes";
}

TEST_F(HandoverTest, WithoutAReadyFileNothingIsWritten) {
  options_.ready_file.clear();
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  EXPECT_FALSE(PathExists(dir_.File("ready")));
}

TEST_F(HandoverTest, AfterAHandOverItReleasesThePathAndWaitsForStopWhenAsked) {
  options_.after_handover = AfterHandover::kWait;
  auto handover = Make();
  ASSERT_TRUE(handover->TakePath().ok());
  handover->MarkReady();
  path_.owns = false;
  successor_.Script({}, true);
  auto watch = StartWatch(*handover);
  clock_ms_ += 100;  // between the first and the second answer, whenever they come
  ASSERT_TRUE(PollUntil([&] { return successor_.calls() >= 1; }));
  clock_ms_ += 100;
  ASSERT_EQ(watch.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(watch.get(), WatchEnd::kHandedOver);
  EXPECT_EQ(log_->Count("then waiting for a termination signal"), 1u);
  handover->ServerEnded();
  handover->WaitForServerEnd();
  handover->Release();
  EXPECT_EQ(path_.closes, 1);
  EXPECT_EQ(log_->Count("over to the new helper"), 1u);
  auto waiting = std::async(std::launch::async, [&] { handover->WaitForStopIfAsked(); });
  EXPECT_EQ(waiting.wait_for(20ms), std::future_status::timeout) << "kWait: stays until stopped";
  handover->Stop();
  EXPECT_EQ(waiting.wait_for(10s), std::future_status::ready);
}

}  // namespace
}  // namespace confcom::helper
