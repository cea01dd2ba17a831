// Tenants that borrow the quote helper's identity (issue 20; docs/operator-guide.md, "The
// helper's uid"): a pod running as the helper's old uid (65532, distroless's "nonroot") with a
// read-write hostPath of the socket folder, and a pod running as the helper's own uid with the
// read-only mount the webhook gives apps. Each holds every file it can open in the socket folder
// (flock), tries to create the old lock files and to unlink the socket, and keeps 300 idle
// connections, while the helper is replaced three times under quoting clients. The rollout must
// complete with no failed quote, and the probes over the admin socket must succeed. Needs root
// (children setuid); prints "FAULT-FIGURES: ..." lines with what the attackers got.
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "faults/aesm_requests.h"
#include "faults/fault_util.h"
#include "testing/test_util.h"

namespace confcom::faults {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::TempDir;

// The helper's uid in deploy/components/quote-helper (HELPER_UID) and the one it had before.
constexpr uid_t kHelperUid = 47231;
constexpr uid_t kOldHelperUid = 65532;
constexpr int kAttackerConnections = 300;

// The node's folders as the DaemonSet's init container leaves them: the socket folder the
// helper's, 0755 (apps only search it); the host state folder the helper's, 0700.
class Node {
 public:
  explicit Node(const TempDir& dir) : dir_(dir) {
    ::chmod(dir.path().c_str(), 0755);
    for (auto [folder, mode] : {std::pair{socket_folder(), 0755}, std::pair{host_state(), 0700},
                                std::pair{pod_folder(), 0755}}) {
      ::mkdir(folder.c_str(), mode);
      EXPECT_EQ(::chown(folder.c_str(), kHelperUid, kHelperUid), 0) << folder;
      ::chmod(folder.c_str(), mode_t(mode));
    }
  }
  std::string socket_folder() const { return dir_.File("aesmd"); }
  std::string socket() const { return socket_folder() + "/aesm.socket"; }
  std::string host_state() const { return dir_.File("sgx-quote-helper"); }
  std::string state() const { return host_state() + "/state"; }
  std::string admin_socket() const { return state() + "/admin.sock"; }
  std::string pod_folder() const { return dir_.File("pod"); }
  std::string ReadyFile(int i) const { return pod_folder() + "/ready-" + std::to_string(i); }

  // Helper `i` as the DaemonSet runs it: the helper's uid, its flags.
  std::unique_ptr<Process> StartHelper(int i, std::vector<std::string> args = {}) const {
    std::vector<std::string> argv = AsHelperUid(CONFCOM_HELPER_BIN);
    argv.insert(argv.end(), {"--backend", "sim", "--socket", socket(), "--state-dir", state(),
                             "--admin-socket", admin_socket(), "--metrics-address", "off",
                             "--threads", "2", "--ready-file", ReadyFile(i)});
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, dir_.File("helper-" + std::to_string(i) + ".log"));
  }
  bool WaitReady(int i, std::chrono::milliseconds timeout = 30s) const {
    auto deadline = Clock::now() + timeout;
    while (!PathExists(ReadyFile(i))) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  // The DaemonSet's probe as the helper's uid: true when it passed. kubelet allows it 5 s; a
  // loaded test machine may take longer to start two processes, so the time is measured
  // (`*ms`) and the wait is 20 s.
  bool Probe(const std::string& socket, const std::string& ready_file, std::string* out,
             double* ms = nullptr) const {
    std::vector<std::string> argv = AsHelperUid(CONFCOM_SGXCTL_BIN);
    argv.insert(argv.end(), {"ping", "--socket", socket});
    if (!ready_file.empty()) argv.insert(argv.end(), {"--ready-file", ready_file});
    auto start = Clock::now();
    Process p(argv, dir_.File("probe.log"));
    int status = p.Wait(20s);
    if (ms != nullptr) *ms = Ms(Clock::now() - start);
    *out = "exit " + std::to_string(status) + ": " + p.Log();
    return status == 0;
  }

 private:
  static std::vector<std::string> AsHelperUid(const std::string& binary) {
    return {"/usr/bin/setpriv",
            "--reuid=" + std::to_string(kHelperUid),
            "--regid=" + std::to_string(kHelperUid),
            "--clear-groups",
            "--",
            binary};
  }
  const TempDir& dir_;
};

// What an attacker process got, from its report.
struct AttackerReport {
  std::set<std::string> locked;  // names it opened and flock'ed in the socket folder
  std::set<std::string> create;  // "<name>: <errno>" for the old lock names it tried
  std::string unlink_socket;     // "denied (...)" or "UNLINKED"
  std::string state_folder;      // opening the state folder: "denied (...)" or "OPENED"
  int connections_held = 0;      // when it was stopped
  int connections_made = 0;      // in all (the helper closes some: io time-out, share)
  bool read_only_mount = false;  // it saw the socket folder through a read-only bind mount
  std::string raw;
};

AttackerReport ParseReport(const std::string& raw) {
  AttackerReport r;
  r.raw = raw;
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    std::string key = line.substr(0, sp),
                value = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (key == "locked") r.locked.insert(value);
    if (key == "create") r.create.insert(value);
    if (key == "unlink") r.unlink_socket = value;
    if (key == "state") r.state_folder = value;
    if (key == "held") r.connections_held = std::stoi(value);
    if (key == "made") r.connections_made = std::stoi(value);
    if (key == "ro") r.read_only_mount = value == "1";
  }
  return r;
}

std::string ErrnoText(int e) { return std::string("denied (") + std::strerror(e) + ")"; }

volatile sig_atomic_t g_attacker_stop = 0;

// The attacker's body, in a forked child (only syscalls and small strings: the parent has no
// other thread when it forks). Never returns.
[[noreturn]] void AttackerMain(const Node& node, uid_t uid, bool read_only, int report_fd) {
  std::signal(SIGTERM, [](int) { g_attacker_stop = 1; });
  std::string out;
  // The webhook's mount: the socket folder read-only, in the pod's own mount namespace.
  bool ro = false;
  if (read_only && ::unshare(CLONE_NEWNS) == 0 &&
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
      ::mount(node.socket_folder().c_str(), node.socket_folder().c_str(), nullptr, MS_BIND,
              nullptr) == 0 &&
      ::mount(nullptr, node.socket_folder().c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY,
              nullptr) == 0 &&
      // Apps never get the helper's host state folder: an empty one in its place.
      ::mount("tmpfs", node.host_state().c_str(), "tmpfs", 0, "size=64k") == 0) {
    ro = true;
  }
  out += "ro " + std::string(ro ? "1" : "0") + "\n";
  if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) {
    out += "error setuid\n";
    [[maybe_unused]] ssize_t n = ::write(report_fd, out.data(), out.size());
    ::_exit(1);
  }
  // Writes through the mount: the helper's own uid only tries them when they cannot harm (the
  // read-only mount); with write access the helper's uid is the helper (docs/operator-guide.md).
  if (!(uid == kHelperUid && !ro)) {
    for (const char* name : {"aesm.socket.lock", "aesm.socket.handover.lock"}) {
      std::string path = node.socket_folder() + "/" + name;
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      out += "create " + std::string(name) + ": " + (fd >= 0 ? "CREATED" : ErrnoText(errno)) + "\n";
      if (fd >= 0) ::flock(fd, LOCK_EX | LOCK_NB);  // held until exit, like any file it opens
    }
    out += "unlink " +
           (::unlink(node.socket().c_str()) == 0 ? std::string("UNLINKED") : ErrnoText(errno)) +
           "\n";
  }
  int state_fd = ::open(node.state().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  out += "state " + (state_fd >= 0 ? std::string("OPENED") : ErrnoText(errno)) + "\n";

  std::map<std::string, int> locked;  // name -> fd
  std::vector<int> conns;
  int made = 0;
  auto next_connect = Clock::now();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, node.socket().c_str(), sizeof addr.sun_path - 1);
  while (!g_attacker_stop) {
    // Every file it can open in the socket folder (and the folder itself), flock'ed.
    if (locked.find(".") == locked.end()) {
      int fd = ::open(node.socket_folder().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0 && (::flock(fd, LOCK_EX | LOCK_NB) == 0 || ::flock(fd, LOCK_SH | LOCK_NB) == 0)) {
        locked["."] = fd;
      } else if (fd >= 0) {
        ::close(fd);
      }
    }
    if (DIR* d = ::opendir(node.socket_folder().c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || locked.count(name)) continue;
        std::string path = node.socket_folder() + "/" + name;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) continue;  // sockets: ENXIO
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 || ::flock(fd, LOCK_SH | LOCK_NB) == 0) {
          locked[name] = fd;
        } else {
          ::close(fd);
        }
      }
      ::closedir(d);
    }
    // 300 idle connections: those the helper closed are made again, at most twice a second.
    std::vector<pollfd> pfds;
    for (int fd : conns) pfds.push_back({fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 0);
    std::vector<int> open;
    for (const auto& p : pfds) {
      if (p.revents != 0) {
        ::close(p.fd);
      } else {
        open.push_back(p.fd);
      }
    }
    conns.swap(open);
    if (Clock::now() >= next_connect) {
      while (conns.size() < size_t(kAttackerConnections)) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
          ::close(fd);
          break;
        }
        conns.push_back(fd);
        ++made;
      }
      next_connect = Clock::now() + 500ms;
      if (made >= kAttackerConnections && out.find("settled") == std::string::npos) {
        std::string settled = "settled\n";
        [[maybe_unused]] ssize_t n = ::write(report_fd, settled.data(), settled.size());
        out += "settled 1\n";
      }
    }
    ::usleep(20000);
  }
  for (const auto& [name, fd] : locked) out += "locked " + name + "\n";
  out += "held " + std::to_string(conns.size()) + "\nmade " + std::to_string(made) + "\n";
  [[maybe_unused]] ssize_t n = ::write(report_fd, out.data(), out.size());
  ::_exit(0);
}

class Attacker {
 public:
  // Forks the attacker; call while the test process has no other thread.
  Attacker(const Node& node, uid_t uid, bool read_only) : uid_(uid) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      AttackerMain(node, uid, read_only, fds[1]);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Attacker() {
    if (pid_ > 0) Stop();
  }
  // Waits for its first 300 connections ("settled").
  bool WaitSettled(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (buffer_.find("settled\n") == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !Read(int(left.count()))) return false;
    }
    return true;
  }
  AttackerReport Stop() {
    ::kill(pid_, SIGTERM);
    while (Read(10000)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    ::close(fd_);
    return ParseReport(buffer_);
  }
  uid_t uid() const { return uid_; }

 private:
  bool Read(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, size_t(n));
    return true;
  }
  uid_t uid_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// One quote the way Intel's libsgx_quote_ex asks for it (15 s time-out per call).
Status QuoteOnce(const std::string& socket) {
  aesm::message::Request init;
  init.mutable_initquoteexreq()->set_att_key_id(KeyId());
  init.mutable_initquoteexreq()->set_b_pub_key_id(false);
  CONFCOM_ASSIGN_OR_RETURN(aesm::message::Response ires, Call(socket, init, 15s));
  if (ires.initquoteexres().errorcode() != 0) {
    return Status::Internal("InitQuoteEx answered " +
                            std::to_string(ires.initquoteexres().errorcode()));
  }
  CONFCOM_ASSIGN_OR_RETURN(aesm::message::Request quote, QuoteRequest(socket, 8192));
  CONFCOM_ASSIGN_OR_RETURN(aesm::message::Response qres, Call(socket, quote, 15s));
  if (qres.getquoteexres().errorcode() != 0) {
    return Status::Internal("GetQuoteEx answered " +
                            std::to_string(qres.getquoteexres().errorcode()));
  }
  return Status::Ok();
}

// Quoting clients (root: a uid no attacker has) until Stop().
class Quoting {
 public:
  Quoting(std::string socket, int threads) : socket_(std::move(socket)) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        while (!stop_) {
          Status st = QuoteOnce(socket_);
          std::lock_guard<std::mutex> lock(mu_);
          ++done_;
          if (!st.ok()) failures_.push_back(st.ToString());
        }
      });
    }
  }
  ~Quoting() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  uint64_t done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  bool WaitForMore(uint64_t n, std::chrono::milliseconds timeout = 20s) {
    uint64_t target = done() + n;
    auto deadline = Clock::now() + timeout;
    while (done() < target) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

 private:
  std::string socket_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  uint64_t done_ = 0;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

std::string Describe(const AttackerReport& r) {
  std::string locked;
  for (const auto& name : r.locked) locked += (locked.empty() ? "" : ",") + name;
  std::string create;
  for (const auto& c : r.create) create += (create.empty() ? "" : "; ") + c;
  return "read_only_mount=" + std::string(r.read_only_mount ? "yes" : "no") + " flock'ed=[" +
         locked + "] create_old_locks=[" + (create.empty() ? "not tried" : create) +
         "] unlink_socket=" + (r.unlink_socket.empty() ? "not tried" : r.unlink_socket) +
         " open_state_folder=" + r.state_folder +
         " connections_held_at_end=" + std::to_string(r.connections_held) +
         " connections_made=" + std::to_string(r.connections_made);
}

bool SkipUnlessRoot() { return ::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0; }

// The "done when": three rollouts complete while a pod of the helper's old uid and one
// of its own uid each hold every file they can open in the socket folder and 300 connections.
TEST(FaultHelperIdentityTest, RolloutsCompleteWhileBorrowedUidsHoldTheSocketFolder) {
  if (SkipUnlessRoot()) GTEST_SKIP() << "needs root and setpriv (helpers and attackers setuid)";
  TempDir dir;
  Node node(dir);
  auto current = node.StartHelper(0);
  ASSERT_TRUE(node.WaitReady(0)) << current->Log();

  // Forked before any thread of ours runs.
  Attacker old_uid(node, kOldHelperUid, /*read_only=*/false);
  Attacker helper_uid(node, kHelperUid, /*read_only=*/true);
  ASSERT_TRUE(old_uid.WaitSettled(20s));
  ASSERT_TRUE(helper_uid.WaitSettled(20s));
  Quoting quoting(node.socket(), 4);
  ASSERT_TRUE(quoting.WaitForMore(10)) << current->Log();

  std::vector<double> rollout_ms;
  int admin_probes = 0, admin_probes_ok = 0;
  std::vector<double> probe_ms;
  std::string probe_out;
  for (int i = 1; i <= 3; ++i) {
    auto start = Clock::now();
    auto next = node.StartHelper(i);
    int old_status = current->Wait(30s);
    ASSERT_EQ(old_status, 0) << "helper " << i - 1 << " did not hand over and exit:\n"
                             << current->Log() << "\nthe new one:\n"
                             << next->Log();
    ASSERT_TRUE(node.WaitReady(i)) << next->Log();
    rollout_ms.push_back(Ms(Clock::now() - start));
    current = std::move(next);
    for (int k = 0; k < 3; ++k) {
      ++admin_probes;
      double ms = 0;
      bool ok = node.Probe(node.admin_socket(), node.ReadyFile(i), &probe_out, &ms);
      admin_probes_ok += ok ? 1 : 0;
      probe_ms.push_back(ms);
      EXPECT_TRUE(ok) << probe_out << " after " << ms << " ms\nthe helper:\n" << current->Log();
    }
    ASSERT_TRUE(quoting.WaitForMore(10)) << current->Log();
  }
  quoting.Stop();
  AttackerReport old_report = old_uid.Stop();
  AttackerReport own_report = helper_uid.Stop();
  auto failures = quoting.failures();

  // The socket folder holds the socket only: nothing there can be opened, let alone flock'ed.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(node.socket_folder()))
    left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"aesm.socket"});
  for (const AttackerReport* r : {&old_report, &own_report}) {
    for (const auto& name : r->locked)  // the folder itself (no helper locks it), nothing in it
      EXPECT_EQ(name, ".") << r->raw;
    EXPECT_EQ(r->state_folder.rfind("denied", 0), 0u) << r->raw;
    EXPECT_GE(r->connections_made, kAttackerConnections) << r->raw;
  }
  EXPECT_EQ(old_report.unlink_socket.rfind("denied", 0), 0u) << old_report.raw;
  for (const auto& c : old_report.create) EXPECT_NE(c.find("denied"), std::string::npos) << c;

  std::cout << "FAULT-FIGURES: helper identity: 3 rollouts under 4 quoting clients while uid "
            << kOldHelperUid << " and uid " << kHelperUid << " (the helper's) each hold "
            << kAttackerConnections << " connections and every file they can open in the socket "
            << "folder: rollout (new helper start -> new ready) ms max " << Max(rollout_ms)
            << " median " << Percentile(rollout_ms, 50) << "; " << quoting.done() << " quotes, "
            << failures.size() << " failed; admin-socket probes " << admin_probes_ok << "/"
            << admin_probes << " passed (longest " << Max(probe_ms) << " ms)" << std::endl;
  std::cout << "FAULT-FIGURES: attacker uid " << kOldHelperUid
            << " (read-write hostPath): " << Describe(old_report) << std::endl;
  std::cout << "FAULT-FIGURES: attacker uid " << kHelperUid
            << " (the apps' read-only mount): " << Describe(own_report) << std::endl;
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  current->Signal(SIGTERM);
  EXPECT_EQ(current->Wait(), 0) << current->Log();
}

// A pod of the helper's own uid fills that uid's connection share on the app socket: the
// probes as the DaemonSet ran them before (sgxctl ping on the app socket) fail, those on the
// admin socket do not (its own server and share, in a folder apps do not mount).
TEST(FaultHelperIdentityTest, ProbesOnTheAdminSocketPassWhileTheHelpersUidFillsItsShare) {
  if (SkipUnlessRoot()) GTEST_SKIP() << "needs root and setpriv (helpers and attackers setuid)";
  TempDir dir;
  Node node(dir);
  auto helper = node.StartHelper(0);
  ASSERT_TRUE(node.WaitReady(0)) << helper->Log();
  Attacker attacker(node, kHelperUid, /*read_only=*/true);
  ASSERT_TRUE(attacker.WaitSettled(20s));
  std::this_thread::sleep_for(200ms);  // the helper has accepted and counted them all
  constexpr int kProbes = 10;
  int app_ok = 0, admin_ok = 0;
  std::string out, app_out;
  for (int i = 0; i < kProbes; ++i) {
    if (node.Probe(node.socket(), "", &out)) {
      ++app_ok;
    } else {
      app_out = out;
    }
    if (node.Probe(node.admin_socket(), node.ReadyFile(0), &out)) {
      ++admin_ok;
    } else {
      ADD_FAILURE() << "admin probe: " << out;
    }
  }
  AttackerReport report = attacker.Stop();
  std::cout << "FAULT-FIGURES: probes while uid " << kHelperUid << " holds "
            << report.connections_held << " connections to the app socket (share 256 + 8 "
            << "refusal slots): on the app socket " << kProbes - app_ok << "/" << kProbes
            << " failed (" << (app_out.empty() ? "none" : app_out.substr(0, app_out.find('\n')))
            << "); on the admin socket " << kProbes - admin_ok << "/" << kProbes << " failed"
            << std::endl;
  EXPECT_EQ(admin_ok, kProbes);
  helper->Signal(SIGTERM);
  EXPECT_EQ(helper->Wait(), 0) << helper->Log();
}

// The helper's own files as a pod of another uid finds them: the admin socket and the locks
// are in a folder it cannot enter, the socket folder is not writable.
TEST(FaultHelperIdentityTest, AnotherUidCanNeitherReachTheAdminSocketNorWriteTheSocketFolder) {
  if (SkipUnlessRoot()) GTEST_SKIP() << "needs root and setpriv";
  TempDir dir;
  Node node(dir);
  auto helper = node.StartHelper(0);
  ASSERT_TRUE(node.WaitReady(0)) << helper->Log();
  std::string out;
  // The probe command as uid 65532 (not the helper's): refused at the folder.
  testing::Process probe({"/usr/bin/setpriv", "--reuid=65532", "--regid=65532", "--clear-groups",
                          "--", CONFCOM_SGXCTL_BIN, "ping", "--socket", node.admin_socket()},
                         dir.File("probe-65532.log"));
  EXPECT_NE(probe.Wait(5s), 0) << probe.Log();
  struct stat st {};
  ASSERT_EQ(::stat(node.socket_folder().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, kHelperUid);
  ASSERT_EQ(::stat(node.state().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::lstat(node.admin_socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const char* lock : {"aesm.socket.lock", "aesm.socket.handover.lock", "admin.sock.lock"})
    EXPECT_TRUE(PathExists(node.state() + "/" + lock)) << lock;
  std::cout << "FAULT-FIGURES: uid 65532 probing the admin socket: exit " << probe.Wait(1s) << " ("
            << probe.Log().substr(0, probe.Log().find('\n')) << ")" << std::endl;
  helper->Signal(SIGTERM);
  EXPECT_EQ(helper->Wait(), 0) << helper->Log();
}

}  // namespace
}  // namespace confcom::faults
