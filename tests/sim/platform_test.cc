#include "sim/platform.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>
#include <vector>
#include <nlohmann/json.hpp>

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
  EXPECT_EQ(files, 15);  // 14 files of the platform and state.lock

  auto second = SimPlatform::LoadOrCreate(state, &created);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(created);
  EXPECT_EQ(second->attestation_key().PublicRaw(), first->attestation_key().PublicRaw());
  EXPECT_EQ(second->pck_key().PublicRaw(), first->pck_key().PublicRaw());
  EXPECT_EQ(second->root_ca().SerialHex(), first->root_ca().SerialHex());
  EXPECT_EQ(second->info().qe_id, first->info().qe_id);
  EXPECT_EQ(second->info().ppid, first->info().ppid);
}

// Two helpers starting at once on one state dir (a hand-over): exactly one creates, the other
// loads the finished platform — never two platforms, never half-written files.
TEST(SimPlatformTest, ConcurrentLoadOrCreateCreatesOnce) {
  testing::TempDir dir;
  std::string state = dir.File("state");
  constexpr int kN = 3;
  std::vector<Result<SimPlatform>> results(kN, Status::Internal("not run"));
  bool created[kN] = {};
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back(
        [&, i] { results[size_t(i)] = SimPlatform::LoadOrCreate(state, &created[i]); });
  }
  for (auto& t : threads) t.join();
  int creations = 0;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(results[size_t(i)].ok()) << results[size_t(i)].status().ToString();
    creations += created[i] ? 1 : 0;
    EXPECT_EQ(results[size_t(i)]->attestation_key().PublicRaw(),
              results[0]->attestation_key().PublicRaw());
    EXPECT_EQ(results[size_t(i)]->info().ppid, results[0]->info().ppid);
  }
  EXPECT_EQ(creations, 1);
}

TEST(SimPlatformTest, IdentityIsMarkedSimulated) {
  testing::TempDir dir;
  auto p = SimPlatform::LoadOrCreate(dir.File("s"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(std::string(p->info().fmspc.begin(), p->info().fmspc.end()), "SIMULA");
  EXPECT_EQ(std::string(p->info().ppid.begin(), p->info().ppid.begin() + 11), "confcom-sim");
  for (const auto* cert : {&p->root_ca(), &p->ca(PckCa::kPlatform), &p->ca(PckCa::kProcessor),
                           &p->tcb_signing(), &p->pck_certificate(0)}) {
    EXPECT_TRUE(cert->ExtensionValue(kSimMarkerOid).has_value()) << cert->Subject();
    EXPECT_TRUE(CarriesSimMarker(*cert));
  }
}

// Debian's python3-cryptography 38 refuses OID arcs above 2^28-1, Go's above 2^31-1, and
// Rust's const-oid a second arc above 39 (tests/interop runs the real parsers).
TEST(SimPlatformTest, MarkerOidHasOnlySmallArcs) {
  std::string oid = kSimMarkerOid;
  std::vector<unsigned long long> arcs;
  size_t start = 0;
  while (start <= oid.size()) {
    size_t dot = oid.find('.', start);
    std::string arc = oid.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    ASSERT_FALSE(arc.empty());
    ASSERT_LE(arc.size(), 9u) << arc;
    arcs.push_back(std::stoull(arc));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  ASSERT_GE(arcs.size(), 3u);
  EXPECT_LE(arcs[0], 2u);
  EXPECT_LE(arcs[1], 39u);
  for (unsigned long long arc : arcs) EXPECT_LT(arc, 1ull << 28) << oid;
}

TEST(SimPlatformTest, PkiHasIntelsNamesAndVerifiesWithOpenssl) {
  testing::TempDir dir;
  auto p = SimPlatform::LoadOrCreate(dir.File("s"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->root_ca().Subject(),
            "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US");
  EXPECT_EQ(p->info().pck_ca, PckCa::kPlatform);
  EXPECT_EQ(p->pck_ca().SubjectCommonName(), "Intel SGX PCK Platform CA");
  EXPECT_EQ(p->ca(PckCa::kProcessor).SubjectCommonName(), "Intel SGX PCK Processor CA");
  EXPECT_EQ(p->tcb_signing().SubjectCommonName(), "Intel SGX TCB Signing");
  testing::WriteAll(dir.File("root.pem"), p->root_ca().ToPem());
  testing::WriteAll(dir.File("ca.pem"), p->pck_ca().ToPem());
  for (size_t i = 0; i < TcbProfiles().size(); ++i) {
    const auto& pck = p->pck_certificate(i);
    EXPECT_EQ(pck.SubjectCommonName(), "Intel SGX PCK Certificate");
    testing::WriteAll(dir.File("pck.pem"), pck.ToPem());
    auto r = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") + " -untrusted " +
                                 dir.File("ca.pem") + " " + dir.File("pck.pem"));
    EXPECT_EQ(r.status, 0) << r.output;
    auto ext = pck.SgxExt();
    ASSERT_TRUE(ext.ok()) << ext.status().ToString();
    EXPECT_EQ(ext->tcb.cpusvn, TcbProfiles()[i].CertifiedCpuSvn());
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
  // The advice fixes the mode; it never suggests a new platform (that would re-key it).
  EXPECT_NE(p.status().message().find("chmod 0600 " + state + "/attestation.key"),
            std::string::npos)
      << p.status().message();
  EXPECT_EQ(p.status().message().find("damaged"), std::string::npos) << p.status().message();
  EXPECT_EQ(p.status().message().find("only a new, empty --state-dir"), std::string::npos)
      << p.status().message();
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
  EXPECT_NE(missing.status().message().find("restore it from a backup"), std::string::npos);
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

TEST(SimPlatformTest, ProcessorCaPlatformHasIntelsProcessorShape) {
  testing::TempDir dir;
  std::string state = dir.File("s");
  auto p = SimPlatform::LoadOrCreate(state, nullptr, PckCa::kProcessor);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->info().pck_ca, PckCa::kProcessor);
  EXPECT_EQ(p->pck_ca().SubjectCommonName(), "Intel SGX PCK Processor CA");
  testing::WriteAll(dir.File("root.pem"), p->root_ca().ToPem());
  testing::WriteAll(dir.File("ca.pem"), p->pck_ca().ToPem());
  for (size_t i = 0; i < TcbProfiles().size(); ++i) {
    const auto& pck = p->pck_certificate(i);
    EXPECT_EQ(pck.Issuer(), p->ca(PckCa::kProcessor).Subject());
    testing::WriteAll(dir.File("pck.pem"), pck.ToPem());
    auto r = testing::RunCommand("openssl verify -CAfile " + dir.File("root.pem") + " -untrusted " +
                                 dir.File("ca.pem") + " " + dir.File("pck.pem"));
    EXPECT_EQ(r.status, 0) << r.output;
    auto ext = pck.SgxExt();
    ASSERT_TRUE(ext.ok()) << ext.status().ToString();
    // Processor-CA certificates carry neither PlatformInstanceID nor Configuration.
    EXPECT_FALSE(ext->platform_instance_id.has_value());
    EXPECT_FALSE(ext->configuration.has_value());
    EXPECT_EQ(pck.ToDer().size(), p->pck_certificate(0).ToDer().size());
  }
  EXPECT_NE(p->PckChainPem(0).find(p->ca(PckCa::kProcessor).ToPem()), std::string::npos);
  auto text = testing::RunCommand("openssl x509 -noout -ext crlDistributionPoints -in " +
                                  dir.File("pck.pem"));
  EXPECT_NE(text.output.find("pckcrl?ca=processor"), std::string::npos) << text.output;

  // Reloading keeps the kind; asking for the other kind is refused, never re-issued.
  auto again = SimPlatform::LoadOrCreate(state);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->info().pck_ca, PckCa::kProcessor);
  auto other = SimPlatform::LoadOrCreate(state, nullptr, PckCa::kPlatform);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("processor CA, not the platform CA"), std::string::npos)
      << other.status().message();
}

// A format-1 state dir (one PCK CA, the old marker) is upgraded in place with its own keys.
TEST(SimPlatformTest, UpgradesFormatOneKeepingItsKeys) {
  testing::TempDir dir;
  std::string state = dir.File("s");
  auto made = SimPlatform::LoadOrCreate(state);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::filesystem::remove(state + "/pck_processor_ca.pem");
  std::filesystem::remove(state + "/pck_processor_ca.key");
  auto v1 = nlohmann::json::parse(*ReadFile(state + "/platform.json", 1 << 16));
  v1["format"] = 1;
  v1.erase("pck_ca");
  ASSERT_TRUE(WriteFileAtomic(state + "/platform.json", v1.dump(2), 0600).ok());

  auto upgraded = SimPlatform::Load(state);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(upgraded->root_key().PublicRaw(), made->root_key().PublicRaw());
  EXPECT_EQ(upgraded->attestation_key().PublicRaw(), made->attestation_key().PublicRaw());
  EXPECT_EQ(upgraded->pck_key().PublicRaw(), made->pck_key().PublicRaw());
  EXPECT_EQ(upgraded->ca_key(PckCa::kPlatform).PublicRaw(),
            made->ca_key(PckCa::kPlatform).PublicRaw());
  EXPECT_EQ(upgraded->info().ppid, made->info().ppid);
  EXPECT_TRUE(upgraded->pck_certificate(0).IsSignedBy(upgraded->ca(PckCa::kPlatform)));
  EXPECT_TRUE(upgraded->ca(PckCa::kProcessor).IsSignedBy(upgraded->root_ca()));
  // Written back as format 2: the next load is a plain one with the same certificates.
  auto reloaded = SimPlatform::Load(state);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->root_ca().ToDer(), upgraded->root_ca().ToDer());
  EXPECT_NE(ReadFile(state + "/platform.json", 1 << 16)->find("\"format\": 2"), std::string::npos);
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
