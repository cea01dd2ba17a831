#include "helper/handover.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <spdlog/spdlog.h>

#include "aesm/client.h"
#include "common/file_util.h"

namespace confcom::helper {

using Clock = std::chrono::steady_clock;

LivenessCheck AesmAnswers() {
  return [](const std::string& path) {
    aesm::ClientOptions options;
    options.socket_path = path;
    options.timeout = std::chrono::milliseconds(2000);
    aesm::message::Request request;
    request.mutable_getsupportedattkeyidnumreq();
    return aesm::Call(options, request).ok();  // any reply counts: it is alive
  };
}

FaultHook FaultHookFromEnvironment() {
  return [](const char* step) {
    const char* fault = std::getenv("CONFCOM_HELPER_TEST_FAULT");
    if (fault != nullptr && std::string(fault) == step) {
      spdlog::warn("CONFCOM_HELPER_TEST_FAULT={}: killing myself (a test of the hand-over)", step);
      spdlog::default_logger()->flush();
      ::kill(::getpid(), SIGKILL);
    }
  };
}

Handover::Handover(HandoverOptions options, SocketPath* path, DrainingServer* server,
                   LivenessCheck answers, FaultHook fault)
    : options_(std::move(options)),
      path_(path),
      server_(server),
      answers_(std::move(answers)),
      fault_(std::move(fault)) {
  RemoveReadyFile();
}

Handover::~Handover() { RemoveReadyFile(); }

Status Handover::TakePath() {
  took_over_ = path_->has_predecessor();
  if (took_over_) fault_("before-rename");
  CONFCOM_RETURN_IF_ERROR(path_->Publish());
  if (took_over_) {
    fault_("after-rename");
    spdlog::info("took over {} from the running helper; waiting for it to finish its requests",
                 options_.path);
    Status st = path_->WaitForPredecessor(options_.handover_timeout);
    if (!st.ok()) spdlog::warn("{}; serving anyway", st.message());
  }
  return Status::Ok();
}

void Handover::MarkReady() {
  if (options_.ready_file.empty()) return;
  if (Status st = WriteFileAtomic(options_.ready_file, std::to_string(::getpid()) + "\n", 0644);
      !st.ok()) {
    spdlog::error("cannot write the readiness file: {}", st.ToString());
  }
}

void Handover::RemoveReadyFile() {
  if (!options_.ready_file.empty()) ::unlink(options_.ready_file.c_str());
}

WatchEnd Handover::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  bool warned = false;
  Clock::time_point first_answer{};  // epoch: no answer yet
  while (!stopping_ && !served_ && !handed_over_) {
    wake_.wait_for(lock, options_.watch_interval);
    if (stopping_ || served_) continue;
    lock.unlock();
    bool handed_over = CheckPath(&warned, &first_answer);
    lock.lock();
    if (handed_over) handed_over_ = true;
  }
  return handed_over_ ? WatchEnd::kHandedOver
         : stopping_  ? WatchEnd::kStopped
                      : WatchEnd::kServerEnded;
}

bool Handover::CheckPath(bool* warned, Clock::time_point* first_answer) {
  // After a hand-over time-out: take "<path>.lock" once the hung predecessor is gone, or the
  // next helper would find the path served without a lock holder and refuse to start.
  if (took_over_ && path_->has_predecessor() && path_->TryFinishTakeOver()) {
    spdlog::info("the previous helper has exited; {}.lock is ours now", options_.path);
  }
  if (path_->OwnsPath()) {
    *first_answer = {};
    return false;
  }
  // A successor renamed its socket over the path. Trust it only once it answered there twice,
  // confirm_gap apart: one that dies right after its rename must not get the path.
  auto now = options_.now();
  if (answers_(options_.path)) {
    if (*first_answer == Clock::time_point{}) {
      *first_answer = now;
      return false;
    }
    if (now - *first_answer < options_.confirm_gap) return false;
    spdlog::info(
        "a new helper took over {}: serving the connections already queued, then {}", options_.path,
        options_.after_handover == AfterHandover::kExit ? "exiting"
                                                        : "waiting for a termination signal");
    RemoveReadyFile();
    server_->HandOver();
    return true;
  }
  // Nothing answers: if no successor holds the hand-over lock, it died; put our socket back.
  *first_answer = {};
  if (path_->Restore()) {
    spdlog::warn("the helper that took over {} is gone: serving it again", options_.path);
    *warned = false;
  } else if (!*warned) {
    spdlog::warn("{} no longer names our socket and nothing answers there yet; waiting",
                 options_.path);
    *warned = true;
  }
  return false;
}

void Handover::WaitForServerEnd() {
  std::unique_lock<std::mutex> lock(mu_);
  wake_.wait(lock, [&] { return served_; });
}

void Handover::Release() {
  RemoveReadyFile();
  path_->Close();  // releases <path>.lock: the successor now knows we are done
  std::lock_guard<std::mutex> lock(mu_);
  if (handed_over_) spdlog::info("handed {} over to the new helper", options_.path);
}

void Handover::WaitForStopIfAsked() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!handed_over_ || options_.after_handover != AfterHandover::kWait) return;
  // Under a supervisor that restarts exited processes (kubelet, systemd), exiting would start a
  // helper that takes the path back: wait to be stopped instead.
  wake_.wait(lock, [&] { return stopping_; });
}

void Handover::Stop() {
  server_->Shutdown();
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  wake_.notify_all();
}

void Handover::ServerEnded() {
  std::lock_guard<std::mutex> lock(mu_);
  served_ = true;
  wake_.notify_all();
}

}  // namespace confcom::helper
