// Daemon signal handling: SIGTERM/SIGINT are taken with sigwait by one thread, so they must be
// blocked in every thread first; SIGPIPE is ignored (peers that vanish are handled as errors).
// Daemons use these through common/daemon.h.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

namespace confcom {

// Blocks SIGTERM and SIGINT in the calling thread (and so in every thread it starts later),
// ignores SIGPIPE, and returns the set to sigwait on. Call before starting any thread.
inline sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

// "SIGTERM", "SIGINT", or "a signal" for any other number.
inline const char* SignalName(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
}

// Calls `on_signal(sig)` once, on a thread of its own, when SIGTERM or SIGINT arrives: the
// daemons' "stop serving" hook. Create it after BlockTerminationSignals() (with its set). The
// destructor ends the thread whether or not a signal came (on_signal is then not called).
// Thread-safe: signalled() may be read from any thread; on_signal must not destroy this object.
class StopOnSignal {
 public:
  StopOnSignal(sigset_t signals, std::function<void(int sig)> on_signal)
      : on_signal_(std::move(on_signal)), thread_([this, signals] {
          int sig = 0;
          sigwait(&signals, &sig);
          if (!closing_) {
            signalled_ = true;
            on_signal_(sig);
          }
        }) {}
  ~StopOnSignal() {
    closing_ = true;
    // The signal is blocked everywhere, so it stays pending for this thread's sigwait.
    if (!signalled_) pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  // Whether on_signal has been called (or is running).
  bool signalled() const { return signalled_; }

 private:
  std::function<void(int)> on_signal_;
  std::atomic<bool> closing_{false};
  std::atomic<bool> signalled_{false};
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace confcom
