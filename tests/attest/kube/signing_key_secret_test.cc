// `sgx-attest keygen` (EnsureSigningKeySecret) against the strict API-server double: created,
// reused, replaced for another issuer or near expiry, a lost create race and two real runs
// racing ending with one key, the files for the init container, RBAC errors.
#include "attest/kube/signing_key_secret.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "attest/kube/api_double_fixture.h"
#include "attest/token/signing.h"
#include "kube/base64.h"

namespace confcom::attest {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Outcome = SigningKeySecretOutcome::Secret;

constexpr char kSecrets[] = "/api/v1/namespaces/confcom/secrets";
constexpr char kSecret[] = "/api/v1/namespaces/confcom/secrets/sgx-attest-signing-key";
constexpr char kIssuer[] = "https://sgx-attest.confcom.svc";

class SigningKeySecretTest : public ApiDoubleTest {
 protected:
  void SetUp() override {
    ApiDoubleTest::SetUp();
    api_->AllowCreate(kSecrets, "Secret");
    o_.ns = "confcom";
    o_.issuer = kIssuer;
    o_.retry.attempts = 3;
    o_.retry.initial = 10ms;
  }
  Result<SigningKeySecretOutcome> Run(const SigningKeySecretOptions& o) {
    auto client = Client();
    return EnsureSigningKeySecret(*client, o);
  }
  // The key the Secret holds.
  Result<SigningKey> StoredKey() {
    auto s = json::parse(api_->Object(kSecret));
    auto key = kube::Base64Decode(s["data"]["tls.key"].get<std::string>());
    auto crt = kube::Base64Decode(s["data"]["tls.crt"].get<std::string>());
    return SigningKey::FromPem(*key, *crt);
  }
  std::string SecretWith(const SigningKey& k) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", "sgx-attest-signing-key"}, {"namespace", "confcom"}}},
                {"type", "kubernetes.io/tls"},
                {"data",
                 {{"tls.key", kube::Base64Encode(*k.PrivateKeyPem())},
                  {"tls.crt", kube::Base64Encode(k.CertificatePem())}}}}
        .dump();
  }
  SigningKeySecretOptions o_;
};

TEST_F(SigningKeySecretTest, CreatesThenReuses) {
  o_.write_dir = dir_.path();
  auto first = Run(o_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->secret, Outcome::kCreated);
  EXPECT_EQ(first->why_new, "the Secret does not exist");
  auto stored = StoredKey();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->common_name(), kIssuer);
  EXPECT_EQ(stored->kid(), first->kid);
  auto secret = json::parse(api_->Object(kSecret));
  EXPECT_EQ(secret["type"], "kubernetes.io/tls");
  EXPECT_EQ(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "sgx-attest-keygen");
  // The files, as sgx-attest loads them (FromFiles refuses a key readable by others).
  auto files = SigningKey::FromFiles(dir_.File("tls.key"), dir_.File("tls.crt"));
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->kid(), first->kid);
  struct stat st {};
  ASSERT_EQ(stat(dir_.File("tls.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto again = Run(o_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->secret, Outcome::kReused);
  EXPECT_EQ(again->kid, first->kid);
  EXPECT_EQ(Count("POST", kSecrets), 1);
  EXPECT_EQ(Count("PUT", kSecret), 0);
}

TEST_F(SigningKeySecretTest, ReplacesAKeyForAnotherIssuer) {
  ASSERT_TRUE(Run(o_).ok());
  o_.issuer = "https://attest.example.com";
  auto r = Run(o_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secret, Outcome::kReplaced);
  EXPECT_NE(r->why_new.find("CN=https://sgx-attest.confcom.svc"), std::string::npos) << r->why_new;
  EXPECT_EQ(StoredKey()->common_name(), "https://attest.example.com");
}

TEST_F(SigningKeySecretTest, ReplacesAKeyNearExpiry) {
  const std::time_t now = std::time(nullptr);
  auto old = SigningKey::Generate(kIssuer, now - 86400, now + 86400 * 10);
  ASSERT_TRUE(old.ok());
  api_->PutObject(kSecret, SecretWith(*old));
  auto r = Run(o_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->secret, Outcome::kReplaced);
  EXPECT_NE(r->why_new.find("expires"), std::string::npos) << r->why_new;
  EXPECT_NE(r->kid, old->kid());
}

TEST_F(SigningKeySecretTest, LostCreateRaceUsesTheWinnersKey) {
  const std::time_t now = std::time(nullptr);
  auto winner = SigningKey::Generate(kIssuer, now - 60, now + 86400 * 365);
  ASSERT_TRUE(winner.ok());
  api_->ReplaceBeforeNextWrite(kSecret, SecretWith(*winner));
  o_.write_dir = dir_.path();
  auto r = Run(o_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lost_races, 1);
  EXPECT_EQ(r->secret, Outcome::kReused);
  EXPECT_EQ(r->kid, winner->kid());
  EXPECT_EQ(SigningKey::FromFiles(dir_.File("tls.key"), dir_.File("tls.crt"))->kid(),
            winner->kid());
}

TEST_F(SigningKeySecretTest, TwoRunsRacingAgreeOnOneKey) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    api_->RemoveObject(kSecret);
    confcom::testing::TempDir a_dir, b_dir;
    SigningKeySecretOptions a = o_, b = o_;
    a.write_dir = a_dir.path();
    b.write_dir = b_dir.path();
    Result<SigningKeySecretOutcome> out_a = Status::Internal("not run"), out_b = out_a;
    auto ca = Client(), cb = Client();
    std::thread t([&] { out_a = EnsureSigningKeySecret(*ca, a); });
    out_b = EnsureSigningKeySecret(*cb, b);
    t.join();
    ASSERT_TRUE(out_a.ok()) << out_a.status().ToString();
    ASSERT_TRUE(out_b.ok()) << out_b.status().ToString();
    EXPECT_EQ(out_a->kid, out_b->kid);
    EXPECT_EQ(out_a->kid, StoredKey()->kid());
    EXPECT_EQ(SigningKey::FromFiles(a_dir.File("tls.key"), a_dir.File("tls.crt"))->kid(),
              SigningKey::FromFiles(b_dir.File("tls.key"), b_dir.File("tls.crt"))->kid());
  }
}

TEST_F(SigningKeySecretTest, SecretOfAnotherTypeIsRefused) {
  api_->PutObject(kSecret, R"({"apiVersion":"v1","kind":"Secret","type":"Opaque",
      "metadata":{"name":"sgx-attest-signing-key","namespace":"confcom"},"data":{}})");
  auto r = Run(o_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("type Opaque"), std::string::npos);
}

TEST_F(SigningKeySecretTest, ForbiddenCreateNamesTheRule) {
  api_->Forbid("POST", kSecrets, "secrets is forbidden");
  auto r = Run(o_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(r.status().message().find("create"), std::string::npos) << r.status().message();
}

TEST_F(SigningKeySecretTest, IssuerIsRequiredWithoutTrailingSlash) {
  o_.issuer = "";
  EXPECT_EQ(Run(o_).status().code(), Status::Code::kInvalidArgument);
  o_.issuer = "https://x/";
  EXPECT_EQ(Run(o_).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace confcom::attest

namespace confcom::attest {
namespace {

// `sgx-attest keygen` as the init container runs it (flags, kubeconfig, files), and its usage
// errors.
TEST_F(SigningKeySecretTest, RunKeygenWritesTheFilesAndExitsZero) {
  std::vector<std::string> args = {"keygen",
                                   "--issuer=https://sgx-attest.confcom.svc",
                                   "--namespace=confcom",
                                   "--kubeconfig=" + kubeconfig_,
                                   "--write-dir=" + dir_.path(),
                                   "--attempts=2"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_EQ(RunKeygen(static_cast<int>(argv.size()), argv.data()), 0);
  auto files = SigningKey::FromFiles(dir_.File("tls.key"), dir_.File("tls.crt"));
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->kid(), StoredKey()->kid());
}

TEST_F(SigningKeySecretTest, RunKeygenUsageErrorsExitTwo) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"keygen"},  // no --issuer
        std::vector<std::string>{"keygen", "--issuer=https://x", "--validity-days=10",
                                 "--renew-before-days=10"},
        std::vector<std::string>{"keygen", "--issuer=https://x", "--no-such-flag"}}) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    EXPECT_EQ(RunKeygen(static_cast<int>(argv.size()), argv.data()), 2) << args.back();
  }
  EXPECT_TRUE(api_->requests().empty());
}

}  // namespace
}  // namespace confcom::attest
