// Daemon signal handling: SIGTERM/SIGINT are taken with sigwait by one thread, so they must be
// blocked in every thread first; SIGPIPE is ignored (peers that vanish are handled as errors).
#pragma once

#include <signal.h>

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

}  // namespace confcom
