#include "helper/aesm_service.h"

#include <gtest/gtest.h>

#include "quoting/sim_backend.h"
#include "sgx/sim_report.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

using aesm::AesmError;
using aesm::message::Request;
using aesm::message::Response;

class AesmServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto platform = sim::SimPlatform::LoadOrCreate(dir_->File("state"));
    backend_ = quoting::SimBackend::Create(std::move(platform).value()).value().release();
  }
  static void TearDownTestSuite() {
    delete backend_;
    delete dir_;
  }

  Response Send(const Request& req) {
    std::string wire;
    EXPECT_TRUE(req.SerializeToString(&wire));
    Outcome out = AesmService(backend_).Handle(wire);
    EXPECT_TRUE(out.answered()) << out.detail;
    EXPECT_EQ(out.reason, Outcome::Reason::kAnswered);
    EXPECT_LE(out.response.size(), kMaxReplySize);
    Response res;
    EXPECT_TRUE(res.ParseFromString(out.response));
    last_detail_ = out.detail;
    return res;
  }

  static std::string KeyId() {
    auto k = sgx::EcdsaP256AttKeyId();
    return std::string(k.begin(), k.end());
  }

  std::string AppReport(const sgx::TargetInfo& target) {
    sgx::ReportBody body;
    body.cpu_svn = sgx::kSimCpuSvnDefault;
    body.attributes = {sgx::kFlagInitted | sgx::kFlagMode64Bit, 0x3};
    auto e = sgx::MakeSimReport(target, body)->Encode();
    return std::string(e.begin(), e.end());
  }

  static testing::TempDir* dir_;
  static quoting::SimBackend* backend_;
  std::string last_detail_;
};
testing::TempDir* AesmServiceTest::dir_ = nullptr;
quoting::SimBackend* AesmServiceTest::backend_ = nullptr;

TEST_F(AesmServiceTest, EveryNonEcdsaRequestGetsItsOwnResponseField) {
  struct Case {
    const char* name;
    std::function<void(Request&)> set;
    std::function<bool(const Response&)> has;
    std::function<uint32_t(const Response&)> code;
  } cases[] = {
      {"InitQuote", [](Request& r) { r.mutable_initquotereq(); },
       [](const Response& r) { return r.has_initquoteres(); },
       [](const Response& r) { return r.initquoteres().errorcode(); }},
      {"GetQuote",
       [](Request& r) {
         auto* m = r.mutable_getquotereq();
         m->set_report(std::string(432, 0));
         m->set_quote_type(0);
         m->set_spid(std::string(16, 0));
         m->set_buf_size(2000);
       },
       [](const Response& r) { return r.has_getquoteres(); },
       [](const Response& r) { return r.getquoteres().errorcode(); }},
      {"GetLaunchToken",
       [](Request& r) {
         auto* m = r.mutable_getlictokenreq();
         m->set_mr_enclave(std::string(32, 0));
         m->set_mr_signer(std::string(32, 0));
         m->set_se_attributes(std::string(16, 0));
       },
       [](const Response& r) { return r.has_getlictokenres(); },
       [](const Response& r) { return r.getlictokenres().errorcode(); }},
      {"ReportAttestationError",
       [](Request& r) {
         auto* m = r.mutable_reporterrreq();
         m->set_platform_info("x");
         m->set_attestation_error_code(1);
         m->set_update_info_size(0);
       },
       [](const Response& r) { return r.has_reporterrres(); },
       [](const Response& r) { return r.reporterrres().errorcode(); }},
      {"GetWhiteListSize", [](Request& r) { r.mutable_getwhitelistsizereq(); },
       [](const Response& r) { return r.has_getwhitelistsizeres(); },
       [](const Response& r) { return r.getwhitelistsizeres().errorcode(); }},
      {"GetWhiteList", [](Request& r) { r.mutable_getwhitelistreq()->set_white_list_size(10); },
       [](const Response& r) { return r.has_getwhitelistres(); },
       [](const Response& r) { return r.getwhitelistres().errorcode(); }},
      {"GetExtendedEpidGroupId", [](Request& r) { r.mutable_sgxgetextendedepidgroupidreq(); },
       [](const Response& r) { return r.has_sgxgetextendedepidgroupidres(); },
       [](const Response& r) { return r.sgxgetextendedepidgroupidres().errorcode(); }},
      {"SwitchExtendedEpidGroup",
       [](Request& r) { r.mutable_sgxswitchextendedepidgroupreq()->set_x_group_id(1); },
       [](const Response& r) { return r.has_sgxswitchextendedepidgroupres(); },
       [](const Response& r) { return r.sgxswitchextendedepidgroupres().errorcode(); }},
      {"Register",
       [](Request& r) {
         auto* m = r.mutable_sgxregisterreq();
         m->set_buf("b");
         m->set_data_type(1);
       },
       [](const Response& r) { return r.has_sgxregisterres(); },
       [](const Response& r) { return r.sgxregisterres().errorcode(); }},
      {"CheckUpdateStatus",
       [](Request& r) {
         auto* m = r.mutable_checkupdatestatusreq();
         m->set_update_info_size(0);
         m->set_config(0);
       },
       [](const Response& r) { return r.has_checkupdatestatusres(); },
       [](const Response& r) { return r.checkupdatestatusres().errorcode(); }},
  };
  for (const auto& c : cases) {
    Request req;
    c.set(req);
    Response res = Send(req);
    EXPECT_TRUE(c.has(res)) << c.name;
    EXPECT_EQ(c.code(res), uint32_t(AesmError::kServiceUnavailable)) << c.name;
    EXPECT_NE(last_detail_.find("quote_ex"), std::string::npos) << c.name;
  }
}

TEST_F(AesmServiceTest, SupportedKeyIds) {
  Request num;
  num.mutable_getsupportedattkeyidnumreq();
  Response r = Send(num);
  ASSERT_TRUE(r.has_getsupportedattkeyidnumres());
  EXPECT_EQ(r.getsupportedattkeyidnumres().errorcode(), 0u);
  EXPECT_EQ(r.getsupportedattkeyidnumres().att_key_id_num(), 1u);

  Request ids;
  ids.mutable_getsupportedattkeyidsreq()->set_buf_size(256);
  r = Send(ids);
  EXPECT_EQ(r.getsupportedattkeyidsres().errorcode(), 0u);
  EXPECT_EQ(r.getsupportedattkeyidsres().att_key_ids(), KeyId());

  ids.mutable_getsupportedattkeyidsreq()->set_buf_size(512);
  r = Send(ids);
  EXPECT_EQ(r.getsupportedattkeyidsres().errorcode(), uint32_t(AesmError::kParameter));
  EXPECT_FALSE(r.getsupportedattkeyidsres().has_att_key_ids());
}

TEST_F(AesmServiceTest, SelectAttKeyId) {
  Request none;
  none.mutable_selectattkeyidreq();
  Response r = Send(none);
  EXPECT_EQ(r.selectattkeyidres().errorcode(), 0u);
  EXPECT_EQ(r.selectattkeyidres().selected_att_key_id(), KeyId());

  sgx::AttKeyId epid{};
  sgx::AttKeyId ecdsa = sgx::EcdsaP256AttKeyId();
  ecdsa[200] = 9;  // differs outside the base: still matches; the list entry is returned
  Bytes list = sgx::EncodeAttKeyIdList({epid, ecdsa});
  Request pick;
  pick.mutable_selectattkeyidreq()->set_att_key_id_list(std::string(AsChars(list)));
  r = Send(pick);
  EXPECT_EQ(r.selectattkeyidres().errorcode(), 0u);
  EXPECT_EQ(r.selectattkeyidres().selected_att_key_id(), std::string(ecdsa.begin(), ecdsa.end()));

  Bytes only_epid = sgx::EncodeAttKeyIdList({epid});
  pick.mutable_selectattkeyidreq()->set_att_key_id_list(std::string(AsChars(only_epid)));
  r = Send(pick);
  EXPECT_EQ(r.selectattkeyidres().errorcode(), uint32_t(AesmError::kUnsupportedAttKeyId));

  pick.mutable_selectattkeyidreq()->set_att_key_id_list(std::string(100, 'x'));
  r = Send(pick);
  EXPECT_EQ(r.selectattkeyidres().errorcode(), uint32_t(AesmError::kParameter));
}

TEST_F(AesmServiceTest, InitQuoteEx) {
  Request req;
  auto* in = req.mutable_initquoteexreq();
  in->set_att_key_id(KeyId());
  in->set_b_pub_key_id(false);
  Response r = Send(req);
  ASSERT_EQ(r.initquoteexres().errorcode(), 0u);
  EXPECT_EQ(r.initquoteexres().target_info().size(), 512u);
  EXPECT_EQ(r.initquoteexres().pub_key_id_size(), 32u);
  EXPECT_FALSE(r.initquoteexres().has_pub_key_id());

  in->set_b_pub_key_id(true);
  in->set_buf_size(32);
  r = Send(req);
  ASSERT_EQ(r.initquoteexres().errorcode(), 0u);
  EXPECT_EQ(r.initquoteexres().pub_key_id().size(), 32u);

  in->set_buf_size(31);
  EXPECT_EQ(Send(req).initquoteexres().errorcode(), uint32_t(AesmError::kParameter));

  in->set_att_key_id(std::string(256, 0));  // EPID
  EXPECT_EQ(Send(req).initquoteexres().errorcode(), uint32_t(AesmError::kUnsupportedAttKeyId));
  in->set_att_key_id("short");
  EXPECT_EQ(Send(req).initquoteexres().errorcode(), uint32_t(AesmError::kParameter));
  in->clear_att_key_id();
  EXPECT_EQ(Send(req).initquoteexres().errorcode(), uint32_t(AesmError::kParameter));
}

TEST_F(AesmServiceTest, GetQuoteSizeAndQuote) {
  Request size_req;
  size_req.mutable_getquotesizeexreq()->set_att_key_id(KeyId());
  Response r = Send(size_req);
  ASSERT_EQ(r.getquotesizeexres().errorcode(), 0u);
  uint32_t size = r.getquotesizeexres().quote_size();
  EXPECT_GT(size, 4000u);
  EXPECT_LT(size, 6000u);

  auto target = backend_->Init(sgx::EcdsaP256AttKeyId())->qe_target_info;
  Request q;
  auto* in = q.mutable_getquoteexreq();
  in->set_report(AppReport(target));
  in->set_att_key_id(KeyId());
  in->set_buf_size(size + 100);
  r = Send(q);
  ASSERT_EQ(r.getquoteexres().errorcode(), 0u) << last_detail_;
  ASSERT_EQ(r.getquoteexres().quote().size(), size) << "exactly the quote, no padding to buf_size";
  EXPECT_FALSE(r.getquoteexres().has_qe_report_info());

  in->set_buf_size(size - 1);
  r = Send(q);
  EXPECT_EQ(r.getquoteexres().errorcode(), uint32_t(AesmError::kParameter));
  EXPECT_FALSE(r.getquoteexres().has_quote());

  // The largest buf_size a client can name costs no more than the smallest that fits.
  in->set_buf_size(0xffffffffu);
  std::string wire;
  ASSERT_TRUE(q.SerializeToString(&wire));
  Outcome big = AesmService(backend_).Handle(wire);
  ASSERT_TRUE(big.answered()) << big.detail;
  EXPECT_EQ(big.code, AesmError::kSuccess) << big.detail;
  EXPECT_LT(big.response.size(), size_t(size) + 64) << "the reply is the quote plus a few bytes";

  in->set_buf_size(size);
  in->set_report(std::string(431, 'r'));
  EXPECT_EQ(Send(q).getquoteexres().errorcode(), uint32_t(AesmError::kParameter));

  sgx::TargetInfo other = target;
  other.mr_enclave[0] ^= 1;
  in->set_report(AppReport(other));
  EXPECT_EQ(Send(q).getquoteexres().errorcode(), uint32_t(AesmError::kInvalidReport));
  EXPECT_NE(last_detail_.find("MAC"), std::string::npos);
}

// The sim backend, announcing a larger quote size than its quotes have (as DCAP's library
// may: its size covers the longest certification data, the quote carries the real one).
class GenerousSizeBackend final : public quoting::QuotingBackend {
 public:
  GenerousSizeBackend(quoting::QuotingBackend* real, uint32_t announced)
      : real_(real), announced_(announced) {}
  std::string_view name() const override { return real_->name(); }
  bool simulated() const override { return real_->simulated(); }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override { return real_->SupportedKeyIds(); }
  quoting::QuoteResult<quoting::InitInfo> Init(const sgx::AttKeyId& k) override {
    return real_->Init(k);
  }
  quoting::QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId&) override { return announced_; }
  quoting::QuoteResult<Bytes> Quote(ByteSpan report, const sgx::AttKeyId& k,
                                    sgx::QeReportInfo* info) override {
    return real_->Quote(report, k, info);
  }

 private:
  quoting::QuotingBackend* real_;
  uint32_t announced_;
};

TEST_F(AesmServiceTest, QuoteIsZeroPaddedUpToTheAnnouncedSizeOnly) {
  auto real_size = backend_->QuoteSize(sgx::EcdsaP256AttKeyId());
  ASSERT_TRUE(real_size.ok());
  auto target = backend_->Init(sgx::EcdsaP256AttKeyId())->qe_target_info;
  auto quote_with = [&](uint32_t announced, uint32_t buf_size, Outcome* out) {
    GenerousSizeBackend backend(backend_, announced);
    Request q;
    auto* in = q.mutable_getquoteexreq();
    in->set_report(AppReport(target));
    in->set_att_key_id(KeyId());
    in->set_buf_size(buf_size);
    *out = AesmService(&backend).Handle(q.SerializeAsString());
    Response r;
    EXPECT_TRUE(r.ParseFromString(out->response));
    EXPECT_EQ(r.getquoteexres().errorcode(), 0u) << out->detail;
    return r.getquoteexres().quote();
  };
  Outcome out;
  // Announced 2000 bytes more than the quote, buffer of that size: the tail comes back zeroed.
  std::string quote = quote_with(*real_size + 2000, *real_size + 2000, &out);
  ASSERT_EQ(quote.size(), *real_size + 2000);
  EXPECT_EQ(quote.substr(*real_size), std::string(2000, '\0'));
  EXPECT_NE(quote.substr(0, 4), std::string(4, '\0')) << "the quote itself comes first";
  // A larger buffer than announced: padded to the announced size, not to buf_size.
  EXPECT_EQ(quote_with(*real_size + 2000, 0xffffffffu, &out).size(), *real_size + 2000);
  // A smaller buffer than announced (but enough for the quote): padded to buf_size.
  EXPECT_EQ(quote_with(*real_size + 2000, *real_size + 10, &out).size(), *real_size + 10);
  // A backend announcing more than a reply may carry: padding stops below the reply cap.
  quote_with(1u << 30, 0xffffffffu, &out);
  EXPECT_EQ(out.code, AesmError::kSuccess) << out.detail;
  EXPECT_LE(out.response.size(), kMaxReplySize);
  EXPECT_GT(out.response.size(), kMaxReplySize - 4096);
}

TEST_F(AesmServiceTest, QeReportInfoComesBackFilled) {
  auto target = backend_->Init(sgx::EcdsaP256AttKeyId())->qe_target_info;
  sgx::QeReportInfo info;
  info.nonce.fill(1);
  info.app_target_info.mr_enclave.fill(2);
  auto info_bytes = info.Encode();
  Request q;
  auto* in = q.mutable_getquoteexreq();
  in->set_report(AppReport(target));
  in->set_att_key_id(KeyId());
  in->set_buf_size(8192);
  in->set_qe_report_info(std::string(info_bytes.begin(), info_bytes.end()));
  Response r = Send(q);
  ASSERT_EQ(r.getquoteexres().errorcode(), 0u);
  auto back = sgx::QeReportInfo::Decode(AsBytes(r.getquoteexres().qe_report_info()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(sgx::CheckSimReportMac(info.app_target_info, back->qe_report.Encode()).ok());

  in->set_qe_report_info("short");
  r = Send(q);
  EXPECT_EQ(r.getquoteexres().errorcode(), uint32_t(AesmError::kParameter));
  EXPECT_EQ(r.getquoteexres().qe_report_info(), "short") << "echoed back even on error, like aesmd";
}

TEST_F(AesmServiceTest, UnparseableOrUnclassifiableRequestsGetNoReply) {
  AesmService service(backend_);
  EXPECT_FALSE(service.Handle("\xff\xff\xff garbage").answered());
  EXPECT_EQ(service.Handle("\xff\xff\xff garbage").reason, Outcome::Reason::kUnparseable);
  EXPECT_FALSE(service.Handle("").answered());
  Request two;
  two.mutable_getsupportedattkeyidnumreq();
  two.mutable_initquotereq();
  std::string wire;
  two.SerializeToString(&wire);
  Outcome out = service.Handle(wire);
  EXPECT_FALSE(out.answered());
  EXPECT_EQ(out.reason, Outcome::Reason::kUnclassifiable);
  EXPECT_NE(out.detail.find("exactly one"), std::string::npos);
  // A GetQuoteEx without its required fields does not parse as Intel's schema.
  std::string partial = std::string("\x8a\x01\x00", 3);
  EXPECT_FALSE(service.Handle(partial).answered());
}

TEST_F(AesmServiceTest, RefusedRequestsGetBusyInTheirOwnFieldWithoutQuoting) {
  AesmService service(backend_);
  Request q;
  auto* in = q.mutable_getquoteexreq();
  in->set_report(std::string(432, 'r'));  // would be INVALID_REPORT if it reached the backend
  in->set_att_key_id(KeyId());
  in->set_buf_size(8192);
  std::string wire;
  ASSERT_TRUE(q.SerializeToString(&wire));
  Outcome out = service.Refuse(wire, AesmError::kBusy, "over its share");
  ASSERT_TRUE(out.answered());
  EXPECT_EQ(out.reason, Outcome::Reason::kRefused);
  EXPECT_EQ(out.kind, aesm::RequestKind::kGetQuoteEx);
  EXPECT_EQ(out.detail, "over its share");
  Response r;
  ASSERT_TRUE(r.ParseFromString(out.response));
  ASSERT_TRUE(r.has_getquoteexres());
  EXPECT_EQ(r.getquoteexres().errorcode(), uint32_t(AesmError::kBusy));
  EXPECT_FALSE(r.getquoteexres().has_quote());

  Request num;
  num.mutable_getsupportedattkeyidnumreq();
  ASSERT_TRUE(num.SerializeToString(&wire));
  ASSERT_TRUE(r.ParseFromString(service.Refuse(wire, AesmError::kBusy, "x").response));
  EXPECT_EQ(r.getsupportedattkeyidnumres().errorcode(), uint32_t(AesmError::kBusy));
  EXPECT_FALSE(service.Refuse("\xff garbage", AesmError::kBusy, "x").answered());
}

}  // namespace
}  // namespace confcom::helper
