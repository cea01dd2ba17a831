// Helpers for tests: temporary directories, child processes with captured output, waiting
// for a daemon's socket, running shell commands (for independent checks with the openssl CLI).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace confcom::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process whose stdout+stderr go to a log file.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path,
          std::vector<std::string> extra_env = {});
  ~Process();  // SIGKILLs the child if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // SIGSTOPs the child and waits until every one of its threads is stopped: kill() returns
  // before the stop takes effect, and a thread on another core may still serve meanwhile.
  // Returns false if that does not happen within `timeout`.
  bool Freeze(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits for exit; returns the exit status (128+signal if killed), or -1 on time-out.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

// Runs a shell command; returns its exit status and stdout+stderr.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

// A connected UNIX stream socket to `path`, or -1.
int ConnectUnix(const std::string& path);

// Waits until a UNIX socket at `path` accepts connections.
bool WaitForSocket(const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20));

std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::string& data);

// Counts the open file descriptors of this process.
int OpenFdCount();

}  // namespace confcom::testing
