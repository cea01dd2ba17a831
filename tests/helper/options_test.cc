#include "helper/options.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/cli_main.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

// Parses `args` (after the program name) into `flags`; returns ParseCommandLine's code.
int Parse(HelperFlags* flags, std::vector<const char*> args) {
  CLI::App app{kHelperDescription, "sgx-quote-helper"};
  AddHelperFlags(app, flags);
  args.insert(args.begin(), "sgx-quote-helper");
  return ParseCommandLine(app, int(args.size()), args.data());
}

TEST(HelperOptionsTest, SocketModeIsOctalAndLetsTheOwnerIn) {
  EXPECT_EQ(*ParseSocketMode("0666"), mode_t(0666));
  EXPECT_EQ(*ParseSocketMode("600"), mode_t(0600));
  for (const char* bad : {"", "0", "0644x", "0888", "01777", "0400", "0200"}) {
    auto mode = ParseSocketMode(bad);
    ASSERT_FALSE(mode.ok()) << bad;
    EXPECT_NE(mode.status().message().find("--socket-mode"), std::string::npos)
        << mode.status().message();
  }
}

TEST(HelperOptionsTest, TheDefaultsMakeAValidConfiguration) {
  HelperFlags flags;
  ASSERT_EQ(Parse(&flags, {}), -1);
  auto config = ToQuoteHelperConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->socket, "/var/run/aesmd/aesm.socket");
  EXPECT_EQ(config->socket_mode, mode_t(0666));
  EXPECT_EQ(config->takeover, Takeover::kTakeOver);
  EXPECT_EQ(config->backend, "auto");
  EXPECT_EQ(config->server.max_frame_size, kMaxRequestFrameSize);
  EXPECT_EQ(config->server.max_buffered_bytes, size_t(64) << 20);
  EXPECT_EQ(config->handover.path, config->socket);
  EXPECT_EQ(config->handover.handover_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(config->handover.after_handover, AfterHandover::kExit);
  // Locks and the probes' socket in the state dir, which apps never mount.
  EXPECT_EQ(config->lock_dir, "/var/lib/sgx-quote-helper");
  EXPECT_EQ(config->admin_socket, "/var/lib/sgx-quote-helper/admin.sock");
  EXPECT_EQ(config->admin_server.threads, 1);
  EXPECT_EQ(config->admin_server.max_connections, 32u);
  EXPECT_EQ(config->admin_server.max_connections_per_client, 16u);
  EXPECT_TRUE(CheckMemoryBudget(config->admin_server).ok());
}

TEST(HelperOptionsTest, TheAdminSocketFollowsTheStateDirUnlessNamedOrOff) {
  HelperFlags flags;
  ASSERT_EQ(Parse(&flags, {"--state-dir", "/tmp/st"}), -1);
  auto config = ToQuoteHelperConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->admin_socket, "/tmp/st/admin.sock");
  EXPECT_EQ(config->lock_dir, "/tmp/st");

  HelperFlags named;
  ASSERT_EQ(Parse(&named, {"--admin-socket", "/run/helper/probe.sock"}), -1);
  config = ToQuoteHelperConfig(named);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->admin_socket, "/run/helper/probe.sock");

  HelperFlags off;
  ASSERT_EQ(Parse(&off, {"--admin-socket", "off"}), -1);
  config = ToQuoteHelperConfig(off);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->admin_socket.empty());
}

TEST(HelperOptionsTest, FlagsReachTheirPlaces) {
  HelperFlags flags;
  ASSERT_EQ(Parse(&flags, {"--socket",
                           "/tmp/x/aesm.socket",
                           "--socket-mode",
                           "0660",
                           "--no-takeover",
                           "--threads",
                           "3",
                           "--max-connections-per-client",
                           "9",
                           "--refusal-timeout-ms",
                           "200",
                           "--io-timeout-ms",
                           "300",
                           "--after-handover",
                           "wait",
                           "--ready-file",
                           "/tmp/r",
                           "--handover-timeout-ms",
                           "2000",
                           "--state-dir",
                           "/tmp/st",
                           "--backend",
                           "sim"}),
            -1);
  auto config = ToQuoteHelperConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->socket_mode, mode_t(0660));
  EXPECT_EQ(config->takeover, Takeover::kRefuse);
  EXPECT_EQ(config->server.threads, 3);
  EXPECT_EQ(config->server.max_connections_per_client, 9u);
  EXPECT_EQ(config->server.refusal_timeout, std::chrono::milliseconds(200));
  EXPECT_EQ(config->server.io_timeout, std::chrono::milliseconds(300));
  EXPECT_EQ(config->handover.after_handover, AfterHandover::kWait);
  EXPECT_EQ(config->handover.ready_file, "/tmp/r");
  EXPECT_EQ(config->handover.handover_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(config->backend, "sim");
  EXPECT_EQ(config->backend_config.state_dir, "/tmp/st");
}

TEST(HelperOptionsTest, BadCombinationsAreInvalidArgumentsNamingTheFlag) {
  struct Case {
    std::vector<const char*> args;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"--socket-mode", "0444"}, "--socket-mode"},
      {{"--socket", "/tmp/"}, "--socket"},
      {{"--max-frame-size", "16384", "--max-buffered-mib", "32"}, "--max-buffered-mib"},
      {{"--admin-socket", "/var/run/aesmd/aesm.socket"}, "--admin-socket"},
      {{"--admin-socket", "/var/run/aesmd/admin.sock"}, "--admin-socket"},
      {{"--admin-socket", "/var/run//aesmd/./probe.sock"}, "--admin-socket"},
      {{"--admin-socket", "/tmp/"}, "--admin-socket"},
      {{"--state-dir",
        "/tmp/a-state-dir-whose-name-is-far-too-long-for-a-unix-socket-path-inside-it-"
        "xxxxxxxxxxxxxxxxxxxxxxxxxx"},
       "--admin-socket"},
  };
  for (const Case& c : cases) {
    HelperFlags flags;
    ASSERT_EQ(Parse(&flags, c.args), -1) << c.args[0];
    auto config = ToQuoteHelperConfig(flags);
    ASSERT_FALSE(config.ok()) << c.args[0];
    EXPECT_EQ(config.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.says), std::string::npos)
        << config.status().message();
  }
}

TEST(HelperOptionsTest, CliChecksRangesAndChoices) {
  HelperFlags flags;
  EXPECT_EQ(Parse(&flags, {"--threads", "257"}), kExitUsage);
  EXPECT_EQ(Parse(&flags, {"--after-handover", "linger"}), kExitUsage);
  EXPECT_EQ(Parse(&flags, {"--backend", "nope"}), kExitUsage);
}

TEST(HelperOptionsTest, ClientIdentityIsByPodUnlessAskedOtherwise) {
  HelperFlags flags;
  ASSERT_EQ(Parse(&flags, {}), -1);
  auto config = ToQuoteHelperConfig(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.client_identity, ClientIdentity::kPod);
  EXPECT_EQ(config->server.proc_root, "/proc");

  HelperFlags uid;
  ASSERT_EQ(Parse(&uid, {"--client-identity", "uid", "--proc-root", "/tmp/proc"}), -1);
  config = ToQuoteHelperConfig(uid);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.client_identity, ClientIdentity::kUid);
  EXPECT_EQ(config->server.proc_root, "/tmp/proc");
  EXPECT_EQ(Parse(&uid, {"--client-identity", "container"}), kExitUsage);
}

}  // namespace
}  // namespace confcom::helper
