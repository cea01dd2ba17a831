// The socket path's hand-over between two quote helpers, as one helper lives it: take the path
// (from a predecessor, if one serves it), be ready, watch for a successor, hand over or stop,
// release the path. docs/helper-handover.md tells the protocol, its files and its figures.
//
// Handover drives those steps; what it acts on is injected, so that unit tests need no second
// process: the path's ownership (SocketPath: ListenSocket), the server (DrainingServer:
// FrameServer), the liveness check ("does something answer an AESM request on the path") and
// the test-only fault hook.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"

namespace confcom::helper {

// The path-ownership operations of ListenSocket (listen_socket.h has their full contracts).
// Called from the thread that runs the Handover's steps only.
class SocketPath {
 public:
  virtual ~SocketPath() = default;
  // A live helper served the path when it was opened: wait for it after Publish().
  virtual bool has_predecessor() const = 0;
  // Renames our socket over the path. Idempotent. Errors: the rename's.
  virtual Status Publish() = 0;
  // Blocks until the predecessor let go of the path; DeadlineExceeded after `timeout`.
  virtual Status WaitForPredecessor(std::chrono::milliseconds timeout) = 0;
  // After WaitForPredecessor timed out: true once no predecessor is left (never blocks).
  virtual bool TryFinishTakeOver() = 0;
  // Whether the path names our socket.
  virtual bool OwnsPath() const = 0;
  // Puts our socket back over the path after a successor died. True if the path is ours again.
  virtual bool Restore() = 0;
  // Stops listening, releases the path's lock (the successor then knows we are done). Idempotent.
  virtual void Close() = 0;
};

// The server answering on our socket (FrameServer). Both return at once; callable from any thread.
class DrainingServer {
 public:
  virtual ~DrainingServer() = default;
  // A successor owns the path: serve what is queued and in flight, then stop.
  virtual void HandOver() = 0;
  // Stop: finish the requests in flight, then stop.
  virtual void Shutdown() = 0;
};

// Whether something answers an AESM request on `path` (blocks up to its own time-out).
using LivenessCheck = std::function<bool(const std::string& path)>;
// Called at each step of a take-over from a live helper: "before-rename", "after-rename".
using FaultHook = std::function<void(const char* step)>;

// The production liveness check: a GetSupportedAttKeyIDNum request through aesm::Call, 2 s.
LivenessCheck AesmAnswers();
// The production fault hook: with CONFCOM_HELPER_TEST_FAULT=<step> in the environment, the
// process kills itself with SIGKILL at that step (as a crash would); otherwise nothing.
FaultHook FaultHookFromEnvironment();

enum class AfterHandover { kExit, kWait };

struct HandoverOptions {
  std::string path;        // the socket path (for the liveness check and the logs)
  std::string ready_file;  // empty: none
  std::chrono::milliseconds handover_timeout{60000};  // waiting for a predecessor
  AfterHandover after_handover = AfterHandover::kExit;
  // How often Watch() checks the path, and how far apart a successor's two answers must be.
  std::chrono::milliseconds watch_interval{5};
  std::chrono::milliseconds confirm_gap{100};
  // The clock the confirmation gap is measured with (tests inject their own).
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

// How Watch() ended.
enum class WatchEnd {
  kStopped,      // Stop() was called
  kServerEnded,  // the server's Run() returned by itself (ServerEnded())
  kHandedOver,   // a successor was confirmed; the server is draining for it
};

// Thread safety: the steps (TakePath, MarkReady, Watch, WaitForServerEnd, Release,
// WaitForStopIfAsked) are called in that order from one thread; Stop() and ServerEnded()
// from any thread at any time.
class Handover {
 public:
  // `path` and `server` must outlive the Handover. Removes a ready file left from earlier.
  Handover(HandoverOptions options, SocketPath* path, DrainingServer* server, LivenessCheck answers,
           FaultHook fault);
  // Removes the ready file.
  ~Handover();
  Handover(const Handover&) = delete;
  Handover& operator=(const Handover&) = delete;

  // Step 1, with the server already serving our (unpublished) socket: publishes it over the
  // path; when taking over from a live helper, calls the fault hook before and after the rename
  // and waits for the predecessor (a time-out is a warning: we serve anyway). Errors: Publish's.
  Status TakePath();
  // Whether TakePath() took the path from a live predecessor.
  bool took_over() const { return took_over_; }
  // Step 2: writes the ready file (our pid), if one was asked for; a failure is logged.
  void MarkReady();
  // Step 3: every watch_interval, until Stop(), ServerEnded() or a hand-over: after a time-out
  // in TakePath, tries to finish the take-over; while the path is not ours, asks who answers
  // there. A successor that answered twice confirm_gap apart gets the path (the ready file is
  // removed, the server told to HandOver); if nothing answers, our socket is put back
  // (Restore), or, while that cannot be done, we wait (one warning).
  WatchEnd Watch();
  // Step 4: blocks until ServerEnded() was called.
  void WaitForServerEnd();
  // Step 5, once the server has stopped: removes the ready file and closes the path (releasing
  // its lock, which a successor waits for).
  void Release();
  // Step 6: after a hand-over with AfterHandover::kWait, blocks until Stop(); else returns.
  void WaitForStopIfAsked();

  // A termination signal: tells the server to Shutdown and ends Watch/WaitForStopIfAsked.
  void Stop();
  // The server's Run() returned (call it from the thread that ran it).
  void ServerEnded();

 private:
  // One check of the path (Watch's body), with mu_ released. True once handed over.
  bool CheckPath(bool* warned, std::chrono::steady_clock::time_point* first_answer);
  void RemoveReadyFile();

  HandoverOptions options_;
  SocketPath* path_;
  DrainingServer* server_;
  LivenessCheck answers_;
  FaultHook fault_;
  bool took_over_ = false;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;     // Stop() was called
  bool served_ = false;       // ServerEnded() was called
  bool handed_over_ = false;  // a successor owns the path
};

}  // namespace confcom::helper
