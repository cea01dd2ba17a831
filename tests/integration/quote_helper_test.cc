// The real sgx-quote-helper daemon, as a separate process, over a real UNIX socket.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "aesm/client.h"
#include "common/file_util.h"
#include "integration/helper_process.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"

namespace confcom {
namespace {

using aesm::message::Request;
using aesm::message::Response;
using testing::HelperProcess;
using Clock = std::chrono::steady_clock;

Result<Response> Call(const std::string& socket, const Request& req) {
  aesm::ClientOptions o;
  o.socket_path = socket;
  o.timeout = std::chrono::seconds(10);
  o.max_frame_size = 1 << 20;
  return aesm::Call(o, req);
}

std::string KeyId() {
  auto k = sgx::EcdsaP256AttKeyId();
  return std::string(k.begin(), k.end());
}

// One full quote the way DCAP's library asks for it; returns the quote or an error text.
Result<Bytes> FetchQuote(const std::string& socket, bool wrong_target = false) {
  Request init;
  init.mutable_initquoteexreq()->set_att_key_id(KeyId());
  init.mutable_initquoteexreq()->set_b_pub_key_id(false);
  CONFCOM_ASSIGN_OR_RETURN(Response ires, Call(socket, init));
  if (ires.initquoteexres().errorcode() != 0) return Status::Internal("init failed");
  auto target = sgx::TargetInfo::Decode(AsBytes(ires.initquoteexres().target_info()));
  if (!target.ok()) return target.status();
  if (wrong_target) target->mr_enclave[0] ^= 1;
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  body.report_data.fill(0x77);
  auto report = sgx::MakeSimReport(*target, body)->Encode();
  Request q;
  auto* in = q.mutable_getquoteexreq();
  in->set_report(std::string(report.begin(), report.end()));
  in->set_att_key_id(KeyId());
  in->set_buf_size(8192);
  CONFCOM_ASSIGN_OR_RETURN(Response qres, Call(socket, q));
  if (!qres.has_getquoteexres()) return Status::Internal("no getQuoteExRes");
  if (qres.getquoteexres().errorcode() != 0) {
    return Status::Internal("errorCode " + std::to_string(qres.getquoteexres().errorcode()));
  }
  const std::string& quote = qres.getquoteexres().quote();
  return Bytes(quote.begin(), quote.end());
}

// True when the server closes `fd` without sending a byte within `timeout`.
bool ClosedWithoutReply(int fd, std::chrono::milliseconds timeout) {
  timeval tv{long(timeout.count() / 1000), long(timeout.count() % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  return n == 0;
}

TEST(QuoteHelperTest, ServesQuotesAndSaysItIsSimulated) {
  testing::TempDir dir;
  HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  auto quote = FetchQuote(helper.socket());
  ASSERT_TRUE(quote.ok()) << quote.status().ToString() << helper.Log();
  auto parsed = sgx::ParseQuoteV3(*quote);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->trailing_bytes, 0u)
      << "the reply carries exactly the quote, not the requested buffer";
  EXPECT_EQ(parsed->quote.app_report.report_data[0], 0x77);
  std::string log = helper.Log();
  EXPECT_NE(log.find("SIMULATED SGX PLATFORM"), std::string::npos) << log;
  EXPECT_EQ(*FileMode(helper.socket()), mode_t(0666));
  EXPECT_EQ(*FileMode(helper.state()), mode_t(0700));
}

TEST(QuoteHelperTest, EpidAndLaunchTokenRequestsGetTheirMatchingErrorResponse) {
  testing::TempDir dir;
  HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  Request epid;
  epid.mutable_initquotereq();
  auto r = Call(helper.socket(), epid);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_initquoteres());
  EXPECT_EQ(r->initquoteres().errorcode(), 30u);

  Request token;
  auto* t = token.mutable_getlictokenreq();
  t->set_mr_enclave(std::string(32, 1));
  t->set_mr_signer(std::string(32, 2));
  t->set_se_attributes(std::string(16, 0));
  r = Call(helper.socket(), token);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_getlictokenres());
  EXPECT_EQ(r->getlictokenres().errorcode(), 30u);
}

TEST(QuoteHelperTest, BadClientsGetCleanErrorsWhileAGoodClientKeepsGettingQuotes) {
  testing::TempDir dir;
  HelperProcess helper(dir, {"--io-timeout-ms", "500", "--threads", "1"});
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();

  std::atomic<bool> stop{false};
  std::atomic<int> good{0}, bad{0};
  std::thread good_client([&] {
    while (!stop) {
      if (FetchQuote(helper.socket()).ok()) ++good;
      else ++bad;
    }
  });

  // Garbage: a well-formed frame whose payload is not a Request.
  int garbage = testing::ConnectUnix(helper.socket());
  std::string junk = aesm::EncodeFrame("\xff\xfe this is not protobuf \x01\x02");
  ASSERT_EQ(::send(garbage, junk.data(), junk.size(), 0), ssize_t(junk.size()));
  EXPECT_TRUE(ClosedWithoutReply(garbage, std::chrono::seconds(5)));
  ::close(garbage);

  // Half a frame, then silence: closed at the I/O deadline.
  int half = testing::ConnectUnix(helper.socket());
  ASSERT_EQ(::send(half, junk.data(), 6, 0), 6);
  auto t0 = Clock::now();
  EXPECT_TRUE(ClosedWithoutReply(half, std::chrono::seconds(5)));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(300));
  ::close(half);

  // An oversize length: rejected without reading the body.
  int big = testing::ConnectUnix(helper.socket());
  uint8_t header[4];
  StoreLe32(header, 0x7fffffff);
  ASSERT_EQ(::send(big, header, 4, 0), 4);
  EXPECT_TRUE(ClosedWithoutReply(big, std::chrono::seconds(5)));
  ::close(big);

  // A report made for another target: INVALID_REPORT in its own response.
  auto wrong = FetchQuote(helper.socket(), /*wrong_target=*/true);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("errorCode 47"), std::string::npos)
      << wrong.status().ToString();

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  good_client.join();
  EXPECT_GT(good.load(), 0);
  EXPECT_EQ(bad.load(), 0) << helper.Log();
  EXPECT_TRUE(helper.process().running());
  std::string log = helper.Log();
  EXPECT_NE(log.find("does not parse"), std::string::npos) << log;
  EXPECT_NE(log.find("more than the limit"), std::string::npos) << log;
  EXPECT_NE(log.find("I/O deadline"), std::string::npos) << log;
  EXPECT_NE(log.find("INVALID_REPORT"), std::string::npos) << log;
}

TEST(QuoteHelperTest, SigtermRemovesTheSocketAndARestartReusesTheKeys) {
  testing::TempDir dir;
  Bytes first_key, second_key;
  {
    HelperProcess helper(dir);
    ASSERT_TRUE(helper.WaitReady()) << helper.Log();
    auto q = FetchQuote(helper.socket());
    ASSERT_TRUE(q.ok());
    auto key = sgx::ParseQuoteV3(*q)->quote.attest_key;
    first_key.assign(key.begin(), key.end());
    EXPECT_EQ(helper.Stop(), 0) << helper.Log();
    EXPECT_FALSE(PathExists(helper.socket())) << "socket removed on SIGTERM";
    EXPECT_NE(helper.Log().find("received SIGTERM"), std::string::npos);
  }
  {
    HelperProcess helper(dir);
    ASSERT_TRUE(helper.WaitReady()) << helper.Log();
    auto q = FetchQuote(helper.socket());
    ASSERT_TRUE(q.ok());
    auto key = sgx::ParseQuoteV3(*q)->quote.attest_key;
    second_key.assign(key.begin(), key.end());
    EXPECT_NE(helper.Log().find("simulated platform loaded"), std::string::npos) << helper.Log();
  }
  EXPECT_EQ(first_key, second_key);
}

TEST(QuoteHelperTest, ASecondDaemonWithNoTakeoverOnTheSameSocketRefusesToStart) {
  testing::TempDir dir;
  HelperProcess first(dir);
  ASSERT_TRUE(first.WaitReady()) << first.Log();
  HelperProcess second(dir, {"--no-takeover"}, first.socket(), dir.File("state2"));
  EXPECT_EQ(second.process().Wait(), 1);
  EXPECT_NE(second.Log().find("already"), std::string::npos) << second.Log();
  EXPECT_TRUE(FetchQuote(first.socket()).ok()) << "the first daemon keeps serving";
}

// The readiness probe during a hand-over: both pods reach whichever helper owns the path, so
// `sgxctl ping --ready-file` also requires the pod's own helper's file.
TEST(QuoteHelperTest, ReadyFileFollowsOwnershipOfTheSocket) {
  testing::TempDir dir;
  std::string ready0 = dir.File("ready0"), ready1 = dir.File("ready1");
  HelperProcess first(dir, {"--ready-file", ready0});
  ASSERT_TRUE(first.WaitReady()) << first.Log();
  auto ping = [&](const std::string& ready) {
    return testing::RunCommand(std::string(CONFCOM_SGXCTL_BIN) + " ping --socket " +
                               first.socket() + " --ready-file " + ready);
  };
  for (int i = 0; i < 2000 && !PathExists(ready0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ping(ready0).status, 0) << ping(ready0).output;
  auto not_ready = ping(ready1);
  EXPECT_EQ(not_ready.status, 1) << not_ready.output;
  EXPECT_NE(not_ready.output.find("does not own"), std::string::npos) << not_ready.output;

  HelperProcess second(dir, {"--ready-file", ready1}, first.socket());
  EXPECT_EQ(first.process().Wait(), 0) << "the first hands over and exits:\n" << first.Log();
  for (int i = 0; i < 2000 && !PathExists(ready1); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ping(ready1).status, 0) << second.Log();
  EXPECT_NE(ping(ready0).status, 0) << "the helper that handed over is not ready";
  EXPECT_TRUE(FetchQuote(first.socket()).ok());
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_FALSE(PathExists(ready1)) << "removed at exit";
}

TEST(QuoteHelperTest, ReplacesAStaleSocketFromACrashedDaemon) {
  testing::TempDir dir;
  std::string socket;
  {
    HelperProcess crashed(dir);
    ASSERT_TRUE(crashed.WaitReady());
    socket = crashed.socket();
    crashed.process().Signal(SIGKILL);
    crashed.process().Wait();
  }
  ASSERT_TRUE(PathExists(socket)) << "SIGKILL leaves the socket file behind";
  HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  EXPECT_TRUE(FetchQuote(helper.socket()).ok());
}

TEST(QuoteHelperTest, NeverSimulatesUnlessAskedTo) {
  // The default backend is auto: on a node without SGX it refuses to start and names the way
  // to simulate, instead of simulating.
  testing::TempDir dir;
  testing::Process p({CONFCOM_HELPER_BIN, "--socket", dir.File("s"), "--state-dir", dir.File("st"),
                      "--host-root", dir.File("empty-host"), "--metrics-address", "off"},
                     dir.File("log"));
  EXPECT_EQ(p.Wait(), 1);
  std::string log = p.Log();
  EXPECT_NE(log.find("--backend sim"), std::string::npos) << log;
  EXPECT_NE(log.find("/dev/sgx_enclave"), std::string::npos) << log;
  EXPECT_EQ(log.find("SIMULATED SGX PLATFORM"), std::string::npos) << log;
  EXPECT_FALSE(PathExists(dir.File("s")));
  EXPECT_FALSE(PathExists(dir.File("st")));
  testing::Process bad({CONFCOM_HELPER_BIN, "--backend", "magic"}, dir.File("log2"));
  EXPECT_NE(bad.Wait(), 0);
  EXPECT_NE(bad.Log().find("magic"), std::string::npos) << bad.Log();
}

TEST(QuoteHelperTest, JsonLogsAreOneObjectPerLine) {
  testing::TempDir dir;
  HelperProcess helper(dir, {"--log-format", "json"});
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  ASSERT_TRUE(FetchQuote(helper.socket()).ok());
  // A GetQuoteEx without its required fields: libprotobuf complains, through our logger.
  int partial = testing::ConnectUnix(helper.socket());
  std::string frame = aesm::EncodeFrame(std::string("\x8a\x01\x00", 3));
  ASSERT_EQ(::send(partial, frame.data(), frame.size(), 0), ssize_t(frame.size()));
  EXPECT_TRUE(ClosedWithoutReply(partial, std::chrono::seconds(5)));
  ::close(partial);
  EXPECT_EQ(helper.Stop(), 0);
  EXPECT_NE(helper.Log().find("libprotobuf"), std::string::npos) << helper.Log();
  std::istringstream lines(helper.Log());
  std::string line;
  int n = 0;
  std::set<uint64_t> request_ids;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    if (j.contains("request_id")) request_ids.insert(j["request_id"].get<uint64_t>());
    ++n;
  }
  EXPECT_GT(n, 5);
  // FetchQuote makes two requests, then the partial one; each request's lines carry its id.
  EXPECT_EQ(request_ids.size(), 3u) << helper.Log();
}

TEST(QuoteHelperTest, MalformedFlagsAreClearErrorsAndLeaveNothingBehind) {
  testing::TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--socket-mode", "0"}, "--socket-mode"},
      {{"--socket-mode", ""}, "--socket-mode"},
      {{"--threads", ""}, "empty"},
      {{"--max-connections-per-client", ""}, "empty"},
      {{"--metrics-address", "127.0.0.1"}, "HOST:PORT"},
      {{"--metrics-address", "127.0.0.1:70000"}, "HOST:PORT"},
      {{"--socket", dir.path() + "/"}, "folder"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::vector<std::string> argv = {CONFCOM_HELPER_BIN, "--backend", "sim", "--state-dir",
                                     dir.File("st")};
    if (c.args[0] != "--socket") argv.insert(argv.end(), {"--socket", dir.File("s")});
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    testing::Process p(argv, dir.File("log" + std::to_string(i++)));
    int status = p.Wait();
    SCOPED_TRACE(c.args[0] + " '" + c.args[1] + "'");
    EXPECT_NE(status, 0) << p.Log();
    EXPECT_NE(status, -1) << "still running: the flag was accepted\n" << p.Log();
    EXPECT_NE(p.Log().find(c.says), std::string::npos) << p.Log();
    EXPECT_FALSE(PathExists(dir.File(".lock")));
    EXPECT_FALSE(PathExists(dir.File("s")));
  }
}

TEST(QuoteHelperTest, StateFilesAreNeverInLogs) {
  testing::TempDir dir;
  HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady());
  ASSERT_TRUE(FetchQuote(helper.socket()).ok());
  helper.Stop();
  std::string log = helper.Log();
  for (const auto& e : std::filesystem::directory_iterator(helper.state())) {
    if (e.path().extension() != ".key") continue;
    std::string pem = testing::ReadAll(e.path().string());
    // The base64 body lines of the key.
    std::istringstream in(pem);
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("-----") || line.size() < 20) continue;
      EXPECT_EQ(log.find(line), std::string::npos)
          << "key material of " << e.path() << " in the log";
    }
  }
}

}  // namespace
}  // namespace confcom

namespace confcom {
namespace {

TEST(QuoteHelperMetricsTest, PrometheusCountsRequestsAndSaysSimulated) {
  testing::TempDir dir;
  testing::HelperProcess helper(dir);
  ASSERT_TRUE(helper.WaitReady()) << helper.Log();
  ASSERT_TRUE(FetchQuote(helper.socket()).ok());
  ASSERT_FALSE(FetchQuote(helper.socket(), /*wrong_target=*/true).ok());
  std::string log = helper.Log();
  auto pos = log.find("metrics on http://127.0.0.1:");
  ASSERT_NE(pos, std::string::npos) << log;
  int port = std::stoi(log.substr(pos + std::strlen("metrics on http://127.0.0.1:")));
  auto body = testing::RunCommand(
      "python3 -c \"import urllib.request;print(urllib.request.urlopen("
      "'http://127.0.0.1:" +
      std::to_string(port) + "/metrics').read().decode())\"");
  ASSERT_EQ(body.status, 0) << body.output;
  const std::string& m = body.output;
  EXPECT_NE(m.find("confcom_quote_helper_requests_total{result=\"SUCCESS\",type=\"GetQuoteEx\"} 1"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          "confcom_quote_helper_requests_total{result=\"INVALID_REPORT\",type=\"GetQuoteEx\"} 1"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("confcom_quote_helper_info{backend=\"sim\",simulated=\"true\""),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("confcom_quote_helper_request_duration_seconds_count{type=\"GetQuoteEx\"} 2"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("confcom_quote_helper_connections_total{outcome=\"answered\"}"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace confcom
