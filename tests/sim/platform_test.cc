#include "sim/platform.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "common/file_util.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::sim {
namespace {

TEST(SimPlatformTest, CreatesPrivateStateAndReloadsTheSameKeys) {
  testing::TempDir dir;
  std::string state = dir.File("state");
  bool created = false;
  auto first = SimPlatform::LoadOrCreate(state, &created);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(created);
  EXPECT_EQ(*FileMode(state), mode_t(0700));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(state)) {
    ++files;
    EXPECT_EQ(*FileMode(e.path().string()), mode_t(0600)) << e.path();
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "leftover " << e.path();
  }
  EXPECT_EQ(files, 12);

  auto second = SimPlatform::LoadOrCreate(state, &created);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(created);
  EXPECT_EQ(second->attestation_key().PublicRaw(), first->attestation_key().PublicRaw());
  EXPECT_EQ(second->pck_key().PublicRaw(), first->pck_key().PublicRaw());
  EXPECT_EQ(second->root_ca().SerialHex(), first->root_ca().SerialHex());
  EXPECT_EQ(second->info().qe_id, first->info().qe_id);
  EXPECT_EQ(second->info().ppid, first->info().ppid);
}

TEST(SimPlatformTest, IdentityIsMarkedSimulated) {
  testing::TempDir dir;
  auto p = SimPlatform::LoadOrCreate(dir.File("s"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(std::string(p->info().fmspc.begin(), p->info().fmspc.end()), "SIMULA");
  EXPECT_EQ(std::string(p->info().ppid.begin(), p->info().ppid.begin() + 11), "confcom-sim");
  for (const auto* cert : {&p->root_ca(), &p->platform_ca(), &p->tcb_signing(), &p->pck_certificate(0)}) {
    EXPECT_TRUE(cert->ExtensionValue(kSimMarkerOid).has_value()) << cert->Subject();
  }
}

TEST(SimPlatformTest, PkiHasIntelsNamesAndVerifiesWithOpenssl) {
  testing::TempDir dir;
  auto p = SimPlatform::LoadOrCreate(dir.File("s"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->root_ca().Subject(),
            "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(p->platform_ca().SubjectCommonName(), "Intel SGX PCK Platform CA");
  EXPECT_EQ(p->tcb_signing().SubjectCommonName(), "Intel SGX TCB Signing");
  testing::WriteAll(dir.File("root.pem"), p->root_ca().ToPem());
  testing::WriteAll(dir.File("ca.pem"), p->platform_ca().ToPem());
  for (size_t i = 0; i < TcbProfiles().size(); ++i) {
    const auto& pck = p->pck_certificate(i);
    EXPECT_EQ(pck.SubjectCommonName(), "Intel SGX PCK Certificate");
    testing::WriteAll(dir.File("pck.pem"), pck.ToPem());
    auto r = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") +
                                 " -untrusted " + dir.File("ca.pem") + " " + dir.File("pck.pem"));
    EXPECT_EQ(r.status, 0) << r.output;
    auto ext = pck.SgxExt();
    ASSERT_TRUE(ext.ok()) << ext.status().ToString();
    EXPECT_EQ(ext->tcb.cpusvn, TcbProfiles()[i].cpusvn);
    EXPECT_EQ(ext->tcb.components, TcbProfiles()[i].components);
    EXPECT_EQ(ext->tcb.pcesvn, kPceSvn);
    EXPECT_EQ(ext->fmspc, p->info().fmspc);
    EXPECT_EQ(ext->ppid, p->info().ppid);
    EXPECT_TRUE(ext->platform_instance_id.has_value());
    EXPECT_EQ(pck.ToDer().size(), p->pck_certificate(0).ToDer().size());
  }
  testing::WriteAll(dir.File("tcb.pem"), p->tcb_signing().ToPem());
  auto r = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") + " " +
                               dir.File("tcb.pem"));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(SimPlatformTest, RefusesKeysOthersCanRead) {
  testing::TempDir dir;
  std::string state = dir.File("s");
  {
    auto made = SimPlatform::LoadOrCreate(state);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }
  ::chmod((state + "/attestation.key").c_str(), 0644);
  auto p = SimPlatform::LoadOrCreate(state);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(p.status().message().find("attestation.key"), std::string::npos);
  EXPECT_NE(p.status().message().find("0644"), std::string::npos);
}

TEST(SimPlatformTest, UnfinishedCreationIsRedoneDamageIsReported) {
  testing::TempDir dir;
  std::string state = dir.File("s");
  auto first = SimPlatform::LoadOrCreate(state);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Without platform.json the directory is an unfinished creation: start over.
  std::filesystem::remove(state + "/platform.json");
  bool created = false;
  auto again = SimPlatform::LoadOrCreate(state, &created);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(created);
  // A missing or corrupt file of a complete platform is an error, never a silent re-key.
  std::filesystem::remove(state + "/pck.key");
  auto missing = SimPlatform::LoadOrCreate(state);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("pck.key"), std::string::npos);
  EXPECT_NE(missing.status().message().find("remove the directory"), std::string::npos);
  EXPECT_EQ(SimPlatform::Load(dir.File("empty")).status().code(), Status::Code::kNotFound);
}

TEST(SimPlatformTest, MismatchedCertificateAndKeyAreDetected) {
  testing::TempDir a, b;
  ASSERT_TRUE(SimPlatform::LoadOrCreate(a.File("s")).ok());
  ASSERT_TRUE(SimPlatform::LoadOrCreate(b.File("s")).ok());
  std::filesystem::copy_file(b.File("s/pck_default.pem"), a.File("s/pck_default.pem"),
                             std::filesystem::copy_options::overwrite_existing);
  auto p = SimPlatform::Load(a.File("s"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Status::Code::kCorruption);
}

TEST(SimPlatformTest, TcbProfiles) {
  ASSERT_EQ(TcbProfiles().size(), 3u);
  EXPECT_EQ(FindTcbProfile(sgx::kSimCpuSvnDowngraded)->name, "downgraded");
  EXPECT_EQ(FindTcbProfile("upgraded")->cpusvn, sgx::kSimCpuSvnUpgraded);
  EXPECT_EQ(DefaultTcbProfile().cpusvn, sgx::kSimCpuSvnDefault);
  EXPECT_EQ(FindTcbProfile("nope"), nullptr);
  // Ordered best first: each profile's components dominate the next one's.
  for (size_t i = 0; i + 1 < TcbProfiles().size(); ++i) {
    for (size_t c = 0; c < 16; ++c) {
      EXPECT_GE(TcbProfiles()[i].components[c], TcbProfiles()[i + 1].components[c]);
    }
  }
}

}  // namespace
}  // namespace confcom::sim
