// quote_helper_bench: throughput, latency and memory of the real sgx-quote-helper.
//
// Starts `sgx-quote-helper --backend sim` as a child process on a temporary socket and state
// dir, then:
//   1. measures this machine's ECDSA P-256 signing rate with OpenSSL (one thread per core),
//   2. drives the helper with N = 1, 8, 64 client threads, each sending GetQuoteEx requests
//      in a loop for --seconds, one connection per request as Intel's libsgx_quote_ex does
//      (confcom::aesm::Call), and prints quotes/s, p50/p99 latency and quotes/s / signs/s,
//   3. opens --idle-conns idle connections and prints the helper's VmRSS.
// Plain output lines, meant to be pasted into a note. Targets are printed next to the figures
// and marked OK or MISSED; the exit status is 0 either way (1 only if the benchmark itself
// could not run).
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aesm/client.h"
#include "aesm/framing.h"
#include "crypto/crypto.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "sgx/types.h"

#ifndef CONFCOM_HELPER_PATH
#define CONFCOM_HELPER_PATH "sgx-quote-helper"
#endif

namespace confcom::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace msg = aesm::message;

constexpr double kRatioTarget = 0.5;
constexpr double kP99TargetUs = 2000.0;
constexpr int kP99TargetClients = 64;
constexpr long kRssTargetKib = 32 * 1024;

struct Flags {
  std::string helper = CONFCOM_HELPER_PATH;
  double seconds = 2.0;
  std::vector<int> clients = {1, 8, 64};
  int idle_conns = 1000;
  int helper_threads = 0;  // 0: the helper's default (one loop per core)
  bool keep_helper_log = false;
  std::vector<std::string> helper_args;  // --helper-arg: more flags for the helper
  // What each client sends: a GetQuoteEx, or GetSupportedAttKeyIDNum (no signing: the rate is
  // then the helper's per-connection cost: accept, peer credentials, client identity, reply).
  bool key_id_num = false;
};

[[noreturn]] void Usage(const char* argv0, int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "usage: %s [--helper PATH] [--seconds S] [--clients 1,8,64] [--idle-conns 1000]\n"
      "          [--helper-threads T] [--helper-log] [--helper-arg ARG]...\n"
      "          [--request quote|keyidnum]\n"
      "  --helper PATH       sgx-quote-helper binary (default: %s)\n"
      "  --seconds S         duration of each measurement (default 2)\n"
      "  --clients LIST      client thread counts, comma separated (default 1,8,64)\n"
      "  --idle-conns K      idle connections for the memory figure (default 1000)\n"
      "  --helper-threads T  pass --threads T to the helper (default: its own default)\n"
      "  --helper-log        let the helper log at info level on stderr\n"
      "  --helper-arg ARG    pass ARG to the helper (repeatable), e.g.\n"
      "                      --helper-arg=--client-identity=uid\n"
      "  --request R         what the clients send: quote (GetQuoteEx, default) or\n"
      "                      keyidnum (GetSupportedAttKeyIDNum: connections/s, no signing)\n",
      argv0, CONFCOM_HELPER_PATH);
  std::exit(code);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        Usage(argv[0], 2);
      }
      return argv[++i];
    };
    try {
      if (a == "--helper") {
        f.helper = value();
      } else if (a == "--seconds") {
        f.seconds = std::stod(value());
        if (!(f.seconds > 0 && f.seconds <= 600)) throw std::invalid_argument("seconds");
      } else if (a == "--clients") {
        f.clients.clear();
        std::stringstream ss(value());
        for (std::string item; std::getline(ss, item, ',');) {
          int n = std::stoi(item);
          if (n < 1 || n > 4096) throw std::invalid_argument("clients");
          f.clients.push_back(n);
        }
        if (f.clients.empty()) throw std::invalid_argument("clients");
      } else if (a == "--idle-conns") {
        f.idle_conns = std::stoi(value());
        if (f.idle_conns < 0 || f.idle_conns > 100000) throw std::invalid_argument("idle");
      } else if (a == "--helper-threads") {
        f.helper_threads = std::stoi(value());
        if (f.helper_threads < 0 || f.helper_threads > 256) throw std::invalid_argument("t");
      } else if (a == "--helper-log") {
        f.keep_helper_log = true;
      } else if (a == "--helper-arg") {
        f.helper_args.push_back(value());
      } else if (a.rfind("--helper-arg=", 0) == 0) {
        f.helper_args.push_back(a.substr(13));
      } else if (a == "--request") {
        std::string r = value();
        if (r != "quote" && r != "keyidnum") throw std::invalid_argument("request");
        f.key_id_num = r == "keyidnum";
      } else if (a == "-h" || a == "--help") {
        Usage(argv[0], 0);
      } else {
        std::fprintf(stderr, "unknown argument '%s'\n", a.c_str());
        Usage(argv[0], 2);
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bad value for %s\n", a.c_str());
      Usage(argv[0], 2);
    }
  }
  return f;
}

const char* Mark(bool ok) { return ok ? "OK" : "MISSED"; }

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------
// The helper process.

class HelperProcess {
 public:
  ~HelperProcess() { Stop(); }

  bool Start(const Flags& f, const std::string& socket, const std::string& state_dir,
             const std::string& log_path) {
    std::vector<std::string> args = {f.helper, "--backend", "sim", "--socket", socket,
                                     "--state-dir", state_dir, "--io-timeout-ms", "60000",
                                     "--log-level", f.keep_helper_log ? "info" : "error",
                                     // All bench connections come from one uid: measure the
                                     // server, not the per-client share.
                                     "--max-connections-per-client", "1000000"};
    if (f.helper_threads > 0) {
      args.push_back("--threads");
      args.push_back(std::to_string(f.helper_threads));
    }
    args.insert(args.end(), f.helper_args.begin(), f.helper_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      std::perror("fork");
      return false;
    }
    if (pid_ == 0) {
      // Do not outlive the benchmark, even if it crashes.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
      if (!f.keep_helper_log) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
          ::dup2(fd, STDOUT_FILENO);
          ::dup2(fd, STDERR_FILENO);
        }
      }
      ::execv(argv[0], argv.data());
      std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    }
    return true;
  }

  pid_t pid() const { return pid_; }

  // True while the child has not exited (reaps it if it has).
  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, wait up to 10 s for the drain, then SIGKILL. Returns the wait status.
  std::optional<int> Stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (!Alive()) return exit_status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = status;
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// A /proc/<pid>/status field (VmRSS, VmHWM) in KiB, or -1.
long ReadStatusKib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

// VmRSS of `pid` in KiB, or -1.
long ReadRssKib(pid_t pid) { return ReadStatusKib(pid, "VmRSS"); }

// utime + stime of `pid` in seconds, or -1.
double ReadCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = s.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(s.substr(paren + 2));
  std::string skip;
  // After the command: state(3) ... utime is field 14, stime field 15 (1-based).
  for (int i = 3; i < 14; ++i) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// ---------------------------------------------------------------------------------------------
// ECDSA P-256 signing rate.

struct SignResult {
  int threads = 0;
  uint64_t signs = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? double(signs) / seconds : 0; }
};

SignResult MeasureSigning(double seconds) {
  SignResult r;
  r.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<uint64_t> total{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, failed{false};
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (int t = 0; t < r.threads; ++t) {
    threads.emplace_back([&, t] {
      EVP_PKEY* key = EVP_EC_gen("P-256");
      EVP_PKEY_CTX* ctx = key ? EVP_PKEY_CTX_new(key, nullptr) : nullptr;
      if (ctx == nullptr || EVP_PKEY_sign_init(ctx) != 1 ||
          EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
        failed = true;
      }
      uint8_t message[432] = {};
      message[0] = uint8_t(t);
      ready++;
      while (!go) std::this_thread::yield();
      uint64_t n = 0;
      uint8_t sig[80];
      while (!failed) {
        // A fresh digest per signature, as the helper signs a fresh quote each time.
        std::memcpy(message + 8, &n, sizeof n);
        crypto::Sha256Digest digest = crypto::Sha256(ByteSpan(message, sizeof message));
        size_t sig_len = sizeof sig;
        if (EVP_PKEY_sign(ctx, sig, &sig_len, digest.data(), digest.size()) != 1) {
          failed = true;
          break;
        }
        ++n;
        if ((n & 15) == 0 && SecondsSince(start) >= seconds) break;
      }
      total += n;
      EVP_PKEY_CTX_free(ctx);
      EVP_PKEY_free(key);
    });
  }
  while (ready < r.threads) std::this_thread::yield();
  start = Clock::now();
  go = true;
  for (auto& th : threads) th.join();
  r.seconds = SecondsSince(start);
  r.signs = failed ? 0 : total.load();
  return r;
}

// ---------------------------------------------------------------------------------------------
// AESM calls.

aesm::ClientOptions Options(const std::string& socket) {
  aesm::ClientOptions o;
  o.socket_path = socket;
  o.timeout = std::chrono::milliseconds(15000);
  o.max_frame_size = 16u << 20;  // like libsgx_quote_ex: replies carry the quote buffer
  return o;
}

bool WaitForHelper(HelperProcess& helper, const std::string& socket, double max_seconds) {
  msg::Request req;
  req.mutable_getsupportedattkeyidnumreq()->set_timeout(15000);
  auto t0 = Clock::now();
  while (SecondsSince(t0) < max_seconds) {
    if (!helper.Alive()) return false;
    auto res = aesm::Call(Options(socket), req);
    if (res.ok() && res->has_getsupportedattkeyidnumres() &&
        res->getsupportedattkeyidnumres().errorcode() == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

struct Setup {
  msg::Request get_quote;
  uint32_t quote_size = 0;
  bool key_id_num = false;  // the clients send key_id_num instead of get_quote
  msg::Request key_id_num_request;
};

std::optional<Setup> PrepareRequest(const std::string& socket, std::string* why) {
  auto opts = Options(socket);
  // The same sequence as sgxctl quote / DCAP's out-of-proc quote library.
  msg::Request sel;
  sel.mutable_selectattkeyidreq()->set_timeout(15000);
  auto sel_res = aesm::Call(opts, sel);
  if (!sel_res.ok() || sel_res->selectattkeyidres().errorcode() != 0 ||
      sel_res->selectattkeyidres().selected_att_key_id().size() != sgx::kAttKeyIdSize) {
    *why = "SelectAttKeyId failed: " +
           (sel_res.ok() ? std::string("bad reply") : sel_res.status().ToString());
    return std::nullopt;
  }
  std::string key_id = sel_res->selectattkeyidres().selected_att_key_id();

  msg::Request init;
  init.mutable_initquoteexreq()->set_att_key_id(key_id);
  init.mutable_initquoteexreq()->set_b_pub_key_id(false);
  init.mutable_initquoteexreq()->set_timeout(15000);
  auto init_res = aesm::Call(opts, init);
  if (!init_res.ok() || init_res->initquoteexres().errorcode() != 0) {
    *why = "InitQuoteEx failed: " +
           (init_res.ok()
                ? std::string("errorCode ") + std::to_string(init_res->initquoteexres().errorcode())
                : init_res.status().ToString());
    return std::nullopt;
  }
  auto target = sgx::TargetInfo::Decode(AsBytes(init_res->initquoteexres().target_info()));
  if (!target.ok()) {
    *why = "QE target info: " + target.status().ToString();
    return std::nullopt;
  }

  msg::Request size_req;
  size_req.mutable_getquotesizeexreq()->set_att_key_id(key_id);
  size_req.mutable_getquotesizeexreq()->set_timeout(15000);
  auto size_res = aesm::Call(opts, size_req);
  if (!size_res.ok() || size_res->getquotesizeexres().errorcode() != 0) {
    *why = "GetQuoteSizeEx failed";
    return std::nullopt;
  }

  // A simulated app enclave and its report for the QE, made once.
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  body.mr_enclave = crypto::Sha256(AsBytes("confcom quote_helper_bench app enclave"));
  body.mr_signer = crypto::Sha256(AsBytes("confcom quote_helper_bench app signer"));
  for (size_t i = 0; i < body.report_data.size(); ++i) body.report_data[i] = uint8_t(i);
  auto report = sgx::MakeSimReport(*target, body);
  if (!report.ok()) {
    *why = "MakeSimReport: " + report.status().ToString();
    return std::nullopt;
  }
  auto report_bytes = report->Encode();

  sgx::QeReportInfo qe_info;
  if (Status st = crypto::RandomBytes(qe_info.nonce); !st.ok()) {
    *why = st.ToString();
    return std::nullopt;
  }
  qe_info.app_target_info.mr_enclave = body.mr_enclave;
  qe_info.app_target_info.attributes = body.attributes;
  auto qe_info_bytes = qe_info.Encode();

  Setup s;
  s.quote_size = size_res->getquotesizeexres().quote_size();
  auto* q = s.get_quote.mutable_getquoteexreq();
  q->set_report(report_bytes.data(), report_bytes.size());
  q->set_att_key_id(key_id);
  q->set_qe_report_info(qe_info_bytes.data(), qe_info_bytes.size());
  q->set_buf_size(s.quote_size);
  q->set_timeout(15000);

  // Check one quote end to end before timing anything.
  auto res = aesm::Call(opts, s.get_quote);
  if (!res.ok() || res->getquoteexres().errorcode() != 0) {
    *why = "GetQuoteEx failed: " +
           (res.ok() ? "errorCode " + std::to_string(res->getquoteexres().errorcode())
                     : res.status().ToString());
    return std::nullopt;
  }
  auto parsed = sgx::ParseQuoteV3(AsBytes(res->getquoteexres().quote()));
  if (!parsed.ok()) {
    *why = "the helper's quote does not parse: " + parsed.status().ToString();
    return std::nullopt;
  }
  auto attest_key = crypto::EcKey::FromPublicRaw(parsed->quote.attest_key);
  auto signed_bytes = parsed->quote.SignedBytes();
  if (!(parsed->quote.app_report == body) || !attest_key.ok() ||
      !attest_key->Verify(signed_bytes, parsed->quote.signature)) {
    *why = "the helper's quote does not carry our report or its signature does not verify";
    return std::nullopt;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Load.

struct LoadResult {
  int clients = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
  double helper_cpu_s = 0, client_cpu_s = 0;
  double rate() const { return seconds > 0 ? double(ok) / seconds : 0; }
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(std::ceil(p * double(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

LoadResult RunLoad(const std::string& socket, pid_t helper_pid, const Setup& setup, int clients,
                   double seconds) {
  LoadResult r;
  r.clients = clients;
  const auto opts = Options(socket);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  std::vector<uint64_t> errors(static_cast<size_t>(clients), 0);
  std::vector<std::string> first_errors(static_cast<size_t>(clients));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point deadline;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto& lat = latencies[size_t(t)];
      lat.reserve(1 << 14);
      ready++;
      while (!go) std::this_thread::yield();
      while (Clock::now() < deadline) {
        auto t0 = Clock::now();
        auto res = aesm::Call(opts, setup.key_id_num ? setup.key_id_num_request : setup.get_quote);
        auto t1 = Clock::now();
        bool good = setup.key_id_num ? res.ok() && res->has_getsupportedattkeyidnumres() &&
                                           res->getsupportedattkeyidnumres().errorcode() == 0
                                     : res.ok() && res->has_getquoteexres() &&
                                           res->getquoteexres().errorcode() == 0 &&
                                           res->getquoteexres().quote().size() == setup.quote_size;
        if (good) {
          lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        } else {
          if (errors[size_t(t)]++ == 0) {
            first_errors[size_t(t)] =
                !res.ok() ? res.status().ToString()
                : setup.key_id_num
                    ? std::string("bad reply")
                    : "errorCode " + std::to_string(res->getquoteexres().errorcode());
          }
          // Do not spin on a dead helper.
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    });
  }
  while (ready < clients) std::this_thread::yield();
  double helper_cpu0 = ReadCpuSeconds(helper_pid);
  double self_cpu0 = SelfCpuSeconds();
  auto start = Clock::now();
  deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go = true;
  for (auto& th : threads) th.join();
  r.seconds = SecondsSince(start);
  r.helper_cpu_s = ReadCpuSeconds(helper_pid) - helper_cpu0;
  r.client_cpu_s = SelfCpuSeconds() - self_cpu0;

  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  r.ok = all.size();
  for (int t = 0; t < clients; ++t) {
    r.errors += errors[size_t(t)];
    if (r.first_error.empty()) r.first_error = first_errors[size_t(t)];
  }
  r.p50_us = Percentile(all, 0.50);
  r.p99_us = Percentile(all, 0.99);
  r.max_us = all.empty() ? 0 : all.back();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Idle connections.

int ConnectRaw(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof addr.sun_path - 1));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Raises the soft RLIMIT_NOFILE towards `want`; returns the resulting soft limit.
rlim_t RaiseFileLimit(rlim_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

int Main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  // Room for the idle connections (ours; the helper raises its own limit to the hard one).
  rlim_t nofile = RaiseFileLimit(rlim_t(f.idle_conns) + 256);

  if (::access(f.helper.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "quote_helper_bench: cannot execute %s (pass --helper PATH)\n",
                 f.helper.c_str());
    return 1;
  }
  char tmpl[] = "/tmp/confcom-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path tmp = tmpl;
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{tmp};
  const std::string socket = (tmp / "aesm.socket").string();
  const std::string state_dir = (tmp / "state").string();
  const std::string log_path = (tmp / "helper.log").string();
  auto dump_log = [&] {
    std::ifstream in(log_path);
    std::string line;
    while (std::getline(in, line)) std::fprintf(stderr, "  helper: %s\n", line.c_str());
  };

  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("quote_helper_bench: helper=%s cores=%d seconds=%.1f idle_conns=%d\n",
              f.helper.c_str(), cores, f.seconds, f.idle_conns);
  std::fflush(stdout);

  HelperProcess helper;
  if (!helper.Start(f, socket, state_dir, log_path)) return 1;
  auto started = Clock::now();
  if (!WaitForHelper(helper, socket, 30)) {
    std::fprintf(stderr, "quote_helper_bench: the helper did not answer on %s\n", socket.c_str());
    helper.Stop();
    dump_log();
    return 1;
  }
  std::printf("helper: pid=%d ready after %.0f ms (socket %s)\n", int(helper.pid()),
              SecondsSince(started) * 1000, socket.c_str());

  std::string why;
  auto setup = PrepareRequest(socket, &why);
  if (!setup) {
    std::fprintf(stderr, "quote_helper_bench: %s\n", why.c_str());
    helper.Stop();
    dump_log();
    return 1;
  }
  std::printf(
      "request: GetQuoteEx report=432 B qe_report_info=960 B quote_size=%u B (first quote "
      "parsed and verified)\n",
      setup->quote_size);
  if (f.key_id_num) {
    setup->key_id_num = true;
    setup->key_id_num_request.mutable_getsupportedattkeyidnumreq()->set_timeout(15000);
    std::printf(
        "request: the clients send GetSupportedAttKeyIDNum instead (--request keyidnum): "
        "\"quotes\" below are connections, each one request without signing\n");
  }
  for (const std::string& a : f.helper_args) std::printf("helper arg: %s\n", a.c_str());
  long rss_start = ReadRssKib(helper.pid());
  std::printf("mem: helper VmRSS at idle after start = %ld KiB (%.1f MiB)\n", rss_start,
              double(rss_start) / 1024);
  std::fflush(stdout);

  // The machine's own signing rate, while the helper sits idle.
  SignResult sign = MeasureSigning(f.seconds);
  if (sign.signs == 0) {
    std::fprintf(stderr, "quote_helper_bench: OpenSSL ECDSA P-256 signing failed\n");
    helper.Stop();
    return 1;
  }
  std::printf(
      "sign: ECDSA P-256 (OpenSSL %s, EVP_PKEY_sign on SHA-256 digests) threads=%d "
      "signs/s=%.0f per_thread=%.0f/s (%.1f us/sign)\n",
      OpenSSL_version(OPENSSL_VERSION_STRING), sign.threads, sign.rate(),
      sign.rate() / sign.threads, 1e6 * sign.threads / sign.rate());
  std::fflush(stdout);

  std::vector<LoadResult> loads;
  for (int n : f.clients) {
    LoadResult r = RunLoad(socket, helper.pid(), *setup, n, f.seconds);
    double ratio = r.rate() / sign.rate();
    std::printf(
        "N=%d quotes/s=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f ratio_vs_sign=%.2f "
        "(target >= %.1f) %s",
        n, r.rate(), r.p50_us, r.p99_us, r.max_us, ratio, kRatioTarget,
        Mark(ratio >= kRatioTarget));
    if (n == kP99TargetClients) {
      std::printf(" p99 (target < %.0f us) %s", kP99TargetUs, Mark(r.p99_us < kP99TargetUs));
    }
    if (r.errors > 0) {
      std::printf(" errors=%llu (first: %s)", (unsigned long long)r.errors, r.first_error.c_str());
    }
    std::printf("\n");
    double quotes = double(std::max<uint64_t>(r.ok, 1));
    std::printf(
        "  N=%d cpu: helper=%.0f us/quote (%.2f cores) clients=%.0f us/quote "
        "(%.2f cores); quotes=%llu in %.2f s\n",
        n, 1e6 * r.helper_cpu_s / quotes, r.helper_cpu_s / r.seconds, 1e6 * r.client_cpu_s / quotes,
        r.client_cpu_s / r.seconds, (unsigned long long)r.ok, r.seconds);
    // What the ratio could reach here at best: the clients share the cores, and every quote
    // needs at least one signature in the helper plus the clients' own per-connection cost.
    double sign_us = 1e6 * sign.threads / std::max(sign.rate(), 1.0);
    double client_us = 1e6 * r.client_cpu_s / quotes;
    double bound = (1e6 * sign.threads / (sign_us + client_us)) / std::max(sign.rate(), 1.0);
    std::printf(
        "  N=%d ceiling with co-located clients: ratio <= %.2f (1 signature %.1f us + "
        "client %.1f us per quote on %d cores)\n",
        n, bound, sign_us, client_us, sign.threads);
    std::fflush(stdout);
    loads.push_back(r);
  }

  // Memory with idle connections.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  long rss_before = ReadRssKib(helper.pid());
  std::printf("mem: helper VmRSS at idle after the load = %ld KiB (%.1f MiB)\n", rss_before,
              double(rss_before) / 1024);
  std::vector<int> idle;
  idle.reserve(size_t(f.idle_conns));
  std::string idle_error;
  for (int i = 0; i < f.idle_conns; ++i) {
    int fd = ConnectRaw(socket);
    if (fd < 0) {
      idle_error = std::strerror(errno);
      break;
    }
    idle.push_back(fd);
  }
  // The helper accepts in queue order: once a later connection is answered, it has accepted
  // every idle one before it.
  msg::Request probe;
  probe.mutable_getsupportedattkeyidnumreq()->set_timeout(15000);
  bool probe_ok = aesm::Call(Options(socket), probe).ok();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long rss_idle = ReadRssKib(helper.pid());
  // How many idle connections the helper still holds open (closed ones read as EOF).
  std::vector<pollfd> pfds;
  for (int fd : idle) pfds.push_back({fd, POLLIN, 0});
  int closed = pfds.empty() ? 0 : ::poll(pfds.data(), pfds.size(), 0);
  int still_open = int(idle.size()) - std::max(closed, 0);
  bool rss_ok = rss_idle >= 0 && rss_idle < kRssTargetKib && int(idle.size()) == f.idle_conns &&
                still_open == f.idle_conns;
  std::printf(
      "mem: idle_conns=%zu still_open=%d VmRSS=%ld KiB (%.1f MiB, +%ld KiB vs before) "
      "(target < 32 MiB) %s",
      idle.size(), still_open, rss_idle, double(rss_idle) / 1024, rss_idle - rss_before,
      Mark(rss_ok));
  if (int(idle.size()) < f.idle_conns) {
    std::printf(" [only %zu of %d connected: %s; RLIMIT_NOFILE=%llu]", idle.size(), f.idle_conns,
                idle_error.c_str(), (unsigned long long)nofile);
  }
  if (!probe_ok) std::printf(" [probe request with idle conns open failed]");
  std::printf("\n");
  for (int fd : idle) ::close(fd);

  // Memory with amplifying connections: each sends a GetQuoteEx naming the largest buf_size
  // (4 GiB - 1) and never reads the reply. Replies carry only the quote, so the helper's
  // memory must not grow with what clients name.
  long amp_rss = -1, amp_hwm = -1;
  size_t amp_answered = 0;
  bool amp_ok = false;
  if (setup) {
    msg::Request amplify = setup->get_quote;
    amplify.mutable_getquoteexreq()->set_buf_size(0xffffffffu);
    const std::string frame = aesm::EncodeFrame(amplify.SerializeAsString());
    std::vector<int> amp;
    for (int i = 0; i < f.idle_conns; ++i) {
      int fd = ConnectRaw(socket);
      if (fd < 0) break;
      if (::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) != ssize_t(frame.size())) {
        ::close(fd);
        break;
      }
      amp.push_back(fd);
    }
    // Wait until every reply is there (or 30 s).
    std::vector<bool> seen(amp.size(), false);
    auto amp_deadline = Clock::now() + std::chrono::seconds(30);
    while (amp_answered < amp.size() && Clock::now() < amp_deadline) {
      std::vector<pollfd> ready;
      std::vector<size_t> index;
      for (size_t i = 0; i < amp.size(); ++i) {
        if (!seen[i]) {
          ready.push_back({amp[i], POLLIN, 0});
          index.push_back(i);
        }
      }
      if (::poll(ready.data(), ready.size(), 50) <= 0) continue;
      for (size_t k = 0; k < ready.size(); ++k) {
        if (ready[k].revents != 0) {
          seen[index[k]] = true;
          ++amp_answered;
        }
      }
    }
    amp_rss = ReadRssKib(helper.pid());
    amp_hwm = ReadStatusKib(helper.pid(), "VmHWM");
    amp_ok = amp_hwm >= 0 && amp_hwm < kRssTargetKib && int(amp_answered) == f.idle_conns;
    std::printf(
        "mem: amplifying_conns=%zu (buf_size 4294967295, replies unread) answered=%zu "
        "VmRSS=%ld KiB (%.1f MiB) peak VmHWM=%ld KiB (%.1f MiB) (target < 32 MiB) %s\n",
        amp.size(), amp_answered, amp_rss, double(amp_rss) / 1024, amp_hwm, double(amp_hwm) / 1024,
        Mark(amp_ok));
    for (int fd : amp) ::close(fd);
  }

  // Summary of the targets.
  std::printf("summary:");
  for (const auto& r : loads) {
    std::printf(" N=%d %.0f q/s ratio %.2f %s;", r.clients, r.rate(), r.rate() / sign.rate(),
                Mark(r.rate() / sign.rate() >= kRatioTarget));
  }
  for (const auto& r : loads) {
    if (r.clients == kP99TargetClients) {
      std::printf(" p99@N=64 %.0f us %s;", r.p99_us, Mark(r.p99_us < kP99TargetUs));
    }
  }
  std::printf(" RSS@%d idle conns %.1f MiB %s; peak RSS@%d amplifying conns %.1f MiB %s\n",
              f.idle_conns, double(rss_idle) / 1024, Mark(rss_ok), f.idle_conns,
              double(amp_hwm) / 1024, Mark(amp_ok));
  std::fflush(stdout);

  auto status = helper.Stop();
  if (status && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)) {
    std::printf("note: helper exited abnormally (wait status %d)\n", *status);
    dump_log();
  }
  return 0;
}

}  // namespace
}  // namespace confcom::bench

int main(int argc, char** argv) { return confcom::bench::Main(argc, argv); }
