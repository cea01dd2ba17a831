#include "quoting/dcap_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "quoting/dcap_errors.h"
#include "sgx/att_key_id.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::quoting {
namespace {

using aesm::AesmError;

class DcapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("FAKE_DCAP_STATE", dir_.File("state").c_str(), 1);
    ::setenv("FAKE_DCAP_TRACE", dir_.File("trace").c_str(), 1);
    ::unsetenv("FAKE_DCAP_FAIL");
    ::unsetenv("FAKE_DCAP_DELAY_MS");
  }
  std::unique_ptr<DcapBackend> Make(const char* library = FAKE_DCAP_FULL, size_t max_waiting = 64) {
    DcapOptions o;
    o.library_path = library;
    o.max_waiting = max_waiting;
    auto b = DcapBackend::Create(o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : nullptr;
  }
  Bytes Report(DcapBackend& b) {
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    body.report_data.fill(0x61);
    auto ti = b.Init(key_)->qe_target_info;
    auto r = sgx::MakeSimReport(ti, body)->Encode();
    return Bytes(r.begin(), r.end());
  }
  std::string Trace() { return testing::ReadAll(dir_.File("trace")); }

  testing::TempDir dir_;
  sgx::AttKeyId key_ = sgx::EcdsaP256AttKeyId();
};

TEST_F(DcapBackendTest, LoadsByPathAfterRemovingSgxAesmAddrAndCallsInOrder) {
  ::setenv("SGX_AESM_ADDR", "1", 1);
  auto b = Make();
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->removed_aesm_addr());
  EXPECT_EQ(std::getenv("SGX_AESM_ADDR"), nullptr);
  EXPECT_TRUE(b->offers_qe_report());
  Bytes report = Report(*b);
  auto quote = b->Quote(report, key_, nullptr);
  ASSERT_TRUE(quote.ok()) << quote.error().message;
  auto parsed = sgx::ParseQuoteV3(*quote);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->trailing_bytes, 0u);
  EXPECT_EQ(parsed->quote.app_report.report_data[0], 0x61);
  EXPECT_EQ(Trace(),
            "load aesm_addr=unset\n"       // the library saw no SGX_AESM_ADDR
            "set_enclave_load_policy 0\n"  // SGX_QL_PERSISTENT
            "get_target_info\n"            // start-up check
            "get_target_info\n"            // Init()
            "get_quote_size\n"
            "get_quote\n");
  // DCAP's ECDSA id becomes known with the first quote.
  auto info = b->Init(key_);
  EXPECT_TRUE(std::equal(info->pub_key_id.begin(), info->pub_key_id.end(),
                         parsed->quote.qe_report.report_data.begin()));
}

TEST_F(DcapBackendTest, MapsEveryQuote3Error) {
  auto b = Make();
  ASSERT_TRUE(b);
  Bytes report = Report(*b);
  struct Case {
    uint32_t code;
    AesmError expected;
  } cases[] = {
      {0xE001, AesmError::kUnexpected},
      {0xE002, AesmError::kParameter},
      {0xE003, AesmError::kOutOfMemory},
      {0xE00B, AesmError::kUnsupportedAttKeyId},
      {0xE00F, AesmError::kAttKeyNotInitialized},
      {0xE010, AesmError::kAttKeyCertDataInvalid},
      {0xE011, AesmError::kNoPlatformCertData},
      {0xE012, AesmError::kOutOfEpc},
      {0xE014, AesmError::kEnclaveLost},
      {0xE015, AesmError::kInvalidReport},
      {0xE016, AesmError::kEnclaveLoadError},
      {0xE017, AesmError::kUnableToGenerateQeReport},
      {0xE018, AesmError::kKeyCertificationError},
      {0xE019, AesmError::kNetworkError},
      {0xE03F, AesmError::kNoDevice},
      {0xE040, AesmError::kServiceUnavailable},
      {0xE043, AesmError::kBusy},
      {0xE0AA, AesmError::kUnexpected},
  };
  for (const auto& c : cases) {
    char spec[32];
    std::snprintf(spec, sizeof spec, "get_quote=%X", c.code);
    ::setenv("FAKE_DCAP_FAIL", spec, 1);
    auto q = b->Quote(report, key_, nullptr);
    ASSERT_FALSE(q.ok()) << spec;
    EXPECT_EQ(q.error().code, c.expected) << spec;
    EXPECT_NE(q.error().message.find(Quote3ErrorName(c.code)), std::string::npos)
        << q.error().message;
    EXPECT_EQ(MapQuote3Error(c.code), c.expected);
  }
  ::setenv("FAKE_DCAP_FAIL", "get_quote_size=E011", 1);
  EXPECT_EQ(b->QuoteSize(key_).error().code, AesmError::kNoPlatformCertData);
  ::unsetenv("FAKE_DCAP_FAIL");
  EXPECT_TRUE(b->Quote(report, key_, nullptr).ok()) << "the backend recovers when the library does";
}

TEST_F(DcapBackendTest, AQuotingEnclaveThatDoesNotLoadFailsAtStart) {
  ::setenv("FAKE_DCAP_FAIL", "get_target_info=E016", 1);
  DcapOptions o;
  o.library_path = FAKE_DCAP_FULL;
  auto b = DcapBackend::Create(o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("SGX_QL_ENCLAVE_LOAD_ERROR"), std::string::npos)
      << b.status().message();
}

TEST_F(DcapBackendTest, RejectsALibraryMissingASymbolOrMissingAltogether) {
  DcapOptions o;
  o.library_path = FAKE_DCAP_BROKEN;
  auto b = DcapBackend::Create(o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("sgx_qe_get_quote"), std::string::npos)
      << b.status().message();
  o.library_path = dir_.File("nope/libsgx_dcap_ql.so.1");
  auto missing = DcapBackend::Create(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

TEST_F(DcapBackendTest, QeReportForTheAppWhereTheLibraryOffersIt) {
  auto b = Make();
  ASSERT_TRUE(b);
  sgx::QeReportInfo info;
  info.nonce.fill(7);
  info.app_target_info.mr_enclave.fill(9);
  auto quote = b->Quote(Report(*b), key_, &info);
  ASSERT_TRUE(quote.ok()) << quote.error().message;
  EXPECT_TRUE(sgx::CheckSimReportMac(info.app_target_info, info.qe_report.Encode()).ok());
  EXPECT_NE(Trace().find("ql_get_quote"), std::string::npos);
}

TEST_F(DcapBackendTest, SaysSoWhereTheLibraryOffersNoQeReport) {
  auto b = Make(FAKE_DCAP_NO_REPORT);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->offers_qe_report());
  sgx::QeReportInfo info;
  auto quote = b->Quote(Report(*b), key_, &info);
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error().code, AesmError::kUnableToGenerateQeReport);
  EXPECT_NE(quote.error().message.find("offers no QE report"), std::string::npos);
  EXPECT_TRUE(b->Quote(Report(*b), key_, nullptr).ok())
      << "quotes without qe_report_info still work";
}

TEST_F(DcapBackendTest, RequestsBeyondTheQueueBoundGetBusyInsteadOfWaiting) {
  auto b = Make(FAKE_DCAP_FULL, /*max_waiting=*/1);
  ASSERT_TRUE(b);
  Bytes report = Report(*b);
  ::setenv("FAKE_DCAP_DELAY_MS", "300", 1);
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto q = b->Quote(report, key_, nullptr);
      if (q.ok()) ++ok;
      else if (q.error().code == AesmError::kBusy) ++busy;
      else ++other;
    });
  }
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(busy.load(), 3) << "one runs, at most one waits, the rest are told BUSY";
  EXPECT_EQ(other.load(), 0);
  EXPECT_LT(elapsed, std::chrono::seconds(3)) << "nobody waits for every other request";
}

}  // namespace
}  // namespace confcom::quoting
