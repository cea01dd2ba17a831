// CertReloader: the errors of Open (naming the flag and the path, never key material), and
// rotation seen by real handshakes (openssl s_client against a Server): a good rotation is
// served on the next handshake, a broken one keeps the previous pair, reports it in /readyz
// and calls the reload hook. Suites are HttpsCertReloader*.
#include "https/cert_reloader.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "https/server.h"
#include "https/test_certs.h"
#include "testing/test_util.h"

namespace confcom::https {
namespace {

using testing::RunCommand;

TEST(HttpsCertReloader, OpenNamesTheFlagAndThePathOfWhatDoesNotLoad) {
  testing::TempDir dir;
  WriteServingPair(dir, "a");
  WriteServingPair(dir, "b", false);
  auto missing = CertReloader::Open(dir.File("nonexistent.crt"), dir.File("tls.key"));
  EXPECT_EQ(missing.status().code(), Status::Code::kIoError);
  EXPECT_NE(missing.status().message().find("--tls-cert-file " + dir.File("nonexistent.crt")),
            std::string::npos)
      << missing.status().message();
  auto not_pem = CertReloader::Open(dir.File("tls.key"), dir.File("tls.key"));
  EXPECT_EQ(not_pem.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(not_pem.status().message().find("no PEM certificate"), std::string::npos);
  auto no_key = CertReloader::Open(dir.File("tls.crt"), dir.File("tls.crt"));
  EXPECT_EQ(no_key.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(no_key.status().message().find("--tls-private-key-file"), std::string::npos);
  auto mismatch = CertReloader::Open(dir.File("tls.crt"), dir.File("srv-b.key"));
  EXPECT_EQ(mismatch.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos);
  EXPECT_EQ(mismatch.status().message().find("PRIVATE KEY"), std::string::npos);
  auto ok = CertReloader::Open(dir.File("tls.crt"), dir.File("tls.key"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE((*ok)->Refresh());
}

TEST(HttpsCertReloader, RotationIsServedOnTheNextHandshakeAndABrokenOneKeepsThePrevious) {
  testing::TempDir dir;
  WriteServingPair(dir, "a");
  auto certs = CertReloader::Open(dir.File("tls.crt"), dir.File("tls.key"));
  ASSERT_TRUE(certs.ok());
  std::vector<bool> reloads;  // written on handler and handshake threads, read after Stop
  std::mutex mu;
  (*certs)->set_on_reload([&](bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    reloads.push_back(ok);
  });
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto server = Server::Start(options, {}, certs->get());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::thread run([s = server->get()] { s->Run(); });
  const std::string port = std::to_string((*server)->port());
  auto handshake = [&](const std::string& ca) {
    return RunCommand(
        "echo | timeout 20 openssl s_client -connect 127.0.0.1:" + port +
        " -servername localhost -verify_hostname localhost -verify_return_error -CAfile " +
        dir.File(ca) + " 2>&1");
  };
  auto readyz = [&](const std::string& ca) {
    return RunCommand("curl -sS --cacert " + dir.File(ca) + " https://localhost:" + port +
                      "/readyz")
        .output;
  };
  {
    auto first = handshake("ca-a.crt");
    EXPECT_EQ(first.status, 0) << first.output;
    EXPECT_NE(first.output.find("CN = server-a"), std::string::npos) << first.output;
  }
  WriteServingPair(dir, "b");
  auto second = handshake("ca-b.crt");
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("CN = server-b"), std::string::npos) << second.output;
  EXPECT_EQ(readyz("ca-b.crt"), "ok\n");
  // Broken: the key of "a" beside the certificate of "b".
  testing::WriteAll(dir.File("tls.key.new"), testing::ReadAll(dir.File("srv-a.key")));
  ASSERT_EQ(std::rename(dir.File("tls.key.new").c_str(), dir.File("tls.key").c_str()), 0);
  auto third = handshake("ca-b.crt");
  EXPECT_EQ(third.status, 0) << third.output;
  EXPECT_NE(third.output.find("CN = server-b"), std::string::npos) << third.output;
  EXPECT_EQ(readyz("ca-b.crt"),
            "ok (serving the previous certificate: the files on disk do not load; see the log)\n");
  EXPECT_FALSE((*certs)->Refresh());
  (*server)->Stop();
  run.join();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(reloads, (std::vector<bool>{true, false}));  // once per change, not per handshake
}

}  // namespace
}  // namespace confcom::https
