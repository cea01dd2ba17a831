// The built libsgx_quote_ex.so.1, loaded with dlopen as an app would, against the real daemon.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>

#include "quote_ex/sgx_uae_quote_ex.h"
#include "crypto/crypto.h"
#include "integration/helper_process.h"
#include "quoting/sim_backend.h"
#include "sgx/quote_v3.h"
#include "sgx/sim_report.h"

namespace confcom {
namespace {

struct QuoteExLibrary {
  void* handle = nullptr;
  decltype(&sgx_select_att_key_id) select = nullptr;
  decltype(&sgx_init_quote_ex) init = nullptr;
  decltype(&sgx_get_quote_size_ex) size = nullptr;
  decltype(&sgx_get_quote_ex) quote = nullptr;
  decltype(&sgx_get_supported_att_key_id_num) num = nullptr;
  decltype(&sgx_get_supported_att_key_ids) ids = nullptr;

  QuoteExLibrary() {
    handle = ::dlopen(CONFCOM_QUOTE_EX_LIB, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return;
    select = reinterpret_cast<decltype(select)>(::dlsym(handle, "sgx_select_att_key_id"));
    init = reinterpret_cast<decltype(init)>(::dlsym(handle, "sgx_init_quote_ex"));
    size = reinterpret_cast<decltype(size)>(::dlsym(handle, "sgx_get_quote_size_ex"));
    quote = reinterpret_cast<decltype(quote)>(::dlsym(handle, "sgx_get_quote_ex"));
    num = reinterpret_cast<decltype(num)>(::dlsym(handle, "sgx_get_supported_att_key_id_num"));
    ids = reinterpret_cast<decltype(ids)>(::dlsym(handle, "sgx_get_supported_att_key_ids"));
  }
  ~QuoteExLibrary() {
    if (handle) ::dlclose(handle);
  }
  bool ok() const { return select && init && size && quote && num && ids; }
};

class QuoteExLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(lib_.ok()) << ::dlerror();
    helper_ = std::make_unique<testing::HelperProcess>(dir_);
    ASSERT_TRUE(helper_->WaitReady()) << helper_->Log();
    ::setenv("CONFCOM_AESM_SOCKET", helper_->socket().c_str(), 1);
  }
  void TearDown() override { ::unsetenv("CONFCOM_AESM_SOCKET"); }

  sgx_report_t ReportFor(const sgx_target_info_t& ti, const sgx::ReportBody& body) {
    auto target = sgx::TargetInfo::Decode({reinterpret_cast<const uint8_t*>(&ti), sizeof ti});
    auto encoded = sgx::MakeSimReport(*target, body)->Encode();
    sgx_report_t r;
    std::memcpy(&r, encoded.data(), sizeof r);
    return r;
  }

  testing::TempDir dir_;
  QuoteExLibrary lib_;
  std::unique_ptr<testing::HelperProcess> helper_;
};

TEST_F(QuoteExLibraryTest, ExportsOnlyIntelsSixFunctions) {
  auto r = testing::RunCommand(std::string("nm -D --defined-only ") + CONFCOM_QUOTE_EX_LIB +
                               " | awk '{print $3}' | sort");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output,
            "sgx_get_quote_ex\nsgx_get_quote_size_ex\nsgx_get_supported_att_key_id_num\n"
            "sgx_get_supported_att_key_ids\nsgx_init_quote_ex\nsgx_select_att_key_id\n");
  auto soname =
      testing::RunCommand(std::string("objdump -p ") + CONFCOM_QUOTE_EX_LIB + " | grep SONAME");
  EXPECT_NE(soname.output.find("libsgx_quote_ex.so.1"), std::string::npos) << soname.output;
}

TEST_F(QuoteExLibraryTest, TheDcapCallSequenceYieldsAVerifiedQuoteAndQeReport) {
  uint32_t n = 0;
  ASSERT_EQ(lib_.num(&n), SGX_SUCCESS);
  ASSERT_EQ(n, 1u);
  sgx_att_key_id_ext_t ext{};
  ASSERT_EQ(lib_.ids(&ext, 1), SGX_SUCCESS);
  // Packed fields: copy them out before comparing (gtest binds references).
  uint32_t algorithm_id = ext.base.algorithm_id, prod_id = ext.base.prod_id;
  EXPECT_EQ(algorithm_id, 2u);
  EXPECT_EQ(prod_id, 1u);

  sgx_att_key_id_t key{};
  ASSERT_EQ(lib_.select(nullptr, 0, &key), SGX_SUCCESS);
  EXPECT_EQ(std::memcmp(&key, &ext, 158), 0);

  sgx_target_info_t ti{};
  size_t pub_size = 0;
  ASSERT_EQ(lib_.init(&key, &ti, &pub_size, nullptr), SGX_SUCCESS);
  ASSERT_EQ(pub_size, 32u);
  uint8_t pub_key_id[32] = {};
  ASSERT_EQ(lib_.init(&key, &ti, &pub_size, pub_key_id), SGX_SUCCESS);
  uint32_t quote_size = 0;
  ASSERT_EQ(lib_.size(&key, &quote_size), SGX_SUCCESS);

  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
  body.mr_enclave.fill(0x31);
  body.report_data.fill(0x32);
  sgx_report_t report = ReportFor(ti, body);

  sgx_qe_report_info_t info{};
  std::memset(info.nonce.rand, 0x99, 16);
  std::memcpy(info.app_enclave_target_info.mr_enclave, body.mr_enclave.data(), 32);
  info.app_enclave_target_info.attributes.flags = body.attributes.flags;
  info.app_enclave_target_info.attributes.xfrm = body.attributes.xfrm;
  Bytes quote(quote_size);
  ASSERT_EQ(lib_.quote(&report, &key, &info, quote.data(), quote_size), SGX_SUCCESS);

  auto parsed = sgx::ParseQuoteV3(quote);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->trailing_bytes, 0u) << "quotes are exactly the announced size";
  const auto& q = parsed->quote;
  EXPECT_EQ(q.app_report.mr_enclave, body.mr_enclave);
  // pub_key_id is DCAP's ECDSA id of the key that signed the quote.
  auto id = crypto::Sha256({q.attest_key, q.qe_auth_data});
  EXPECT_EQ(std::memcmp(pub_key_id, id.data(), 32), 0);
  // The QE report is for the app and binds nonce and quote (hash over quote_size bytes, as apps do).
  sgx::TargetInfo app;
  app.mr_enclave = body.mr_enclave;
  app.attributes = body.attributes;
  ByteSpan qe_report(reinterpret_cast<const uint8_t*>(&info.qe_report), sizeof info.qe_report);
  EXPECT_TRUE(sgx::CheckSimReportMac(app, qe_report).ok());
  auto binding = crypto::Sha256({ByteSpan(info.nonce.rand), quote});
  EXPECT_EQ(std::memcmp(info.qe_report.body.report_data, binding.data(), 32), 0);
  EXPECT_EQ(std::memcmp(info.qe_report.body.mr_signer, sgx::kIntelQe3MrSigner.data(), 32), 0);
}

TEST_F(QuoteExLibraryTest, ErrorsMapLikeIntelsClient) {
  sgx_att_key_id_t key{};
  ASSERT_EQ(lib_.select(nullptr, 0, &key), SGX_SUCCESS);
  sgx_target_info_t ti{};
  size_t pub_size = 0;
  ASSERT_EQ(lib_.init(&key, &ti, &pub_size, nullptr), SGX_SUCCESS);

  // A report for another enclave's target: MAC mismatch.
  sgx_target_info_t other = ti;
  other.mr_enclave[0] ^= 1;
  sgx::ReportBody body;
  body.cpu_svn = sgx::kSimCpuSvnDefault;
  sgx_report_t report = ReportFor(other, body);
  Bytes quote(8192);
  EXPECT_EQ(lib_.quote(&report, &key, nullptr, quote.data(), 8192), SGX_ERROR_MAC_MISMATCH);
  // Buffer too small: invalid parameter.
  report = ReportFor(ti, body);
  EXPECT_EQ(lib_.quote(&report, &key, nullptr, quote.data(), 100), SGX_ERROR_INVALID_PARAMETER);
  // An EPID key id: unsupported.
  sgx_att_key_id_t epid{};
  uint32_t size = 0;
  EXPECT_EQ(lib_.size(&epid, &size), SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  EXPECT_EQ(lib_.init(&epid, &ti, &pub_size, nullptr), SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  Bytes list(8 + 256, 0);
  list[4] = 1;
  sgx_att_key_id_t selected{};
  EXPECT_EQ(lib_.select(list.data(), uint32_t(list.size()), &selected),
            SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  // Client-side parameter checks.
  EXPECT_EQ(lib_.select(nullptr, 5, &selected), SGX_ERROR_INVALID_PARAMETER);
  EXPECT_EQ(lib_.quote(&report, &key, nullptr, quote.data(), 0), SGX_ERROR_INVALID_PARAMETER);
  size_t zero = 0;
  uint8_t buf[32];
  EXPECT_EQ(lib_.init(&key, &ti, &zero, buf), SGX_ERROR_INVALID_PARAMETER);
  sgx_att_key_id_ext_t two[2];
  EXPECT_EQ(lib_.ids(two, 2), SGX_ERROR_INVALID_PARAMETER)
      << "server rejects the wrong buffer size";
  EXPECT_EQ(lib_.num(nullptr), SGX_ERROR_INVALID_PARAMETER);
}

TEST_F(QuoteExLibraryTest, NoServiceIsServiceUnavailable) {
  ::setenv("CONFCOM_AESM_SOCKET", dir_.File("nobody-here.sock").c_str(), 1);
  uint32_t n = 0;
  EXPECT_EQ(lib_.num(&n), SGX_ERROR_SERVICE_UNAVAILABLE);
}

}  // namespace
}  // namespace confcom
