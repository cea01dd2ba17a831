#include "helper/request_handler.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "quoting/sim_backend.h"
#include "testing/test_util.h"

namespace confcom::helper {
namespace {

double CounterValue(prometheus::Registry& registry, const std::string& family,
                    const std::map<std::string, std::string>& labels) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (match) return m.counter.value;
    }
  }
  return -1;
}

class RequestHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto platform = sim::SimPlatform::LoadOrCreate(dir_.File("state"));
    ASSERT_TRUE(platform.ok());
    backend_ = quoting::SimBackend::Create(std::move(platform).value()).value();
    service_ = std::make_unique<AesmService>(backend_.get());
    metrics_ = std::make_unique<QuoteHelperMetrics>(registry_, "sim", true);
  }
  std::string KeyIdNum() {
    aesm::message::Request r;
    r.mutable_getsupportedattkeyidnumreq();
    return r.SerializeAsString();
  }
  testing::TempDir dir_;
  std::unique_ptr<quoting::SimBackend> backend_;
  std::unique_ptr<AesmService> service_;
  prometheus::Registry registry_;
  std::unique_ptr<QuoteHelperMetrics> metrics_;
};

TEST_F(RequestHandlerTest, EachOutcomeIsCountedByItsReasonNotByItsText) {
  RequestHandler handler(service_.get(), metrics_.get());
  RequestContext ctx;
  ctx.peer = {1234, 1000, 1000, ClientKey::OfUid(1000)};
  Outcome ok = handler.Handle(KeyIdNum(), ctx);
  EXPECT_EQ(ok.reason, Outcome::Reason::kAnswered);
  EXPECT_EQ(ok.code, aesm::AesmError::kSuccess);

  ctx.refusal = Refusal::kOverShare;
  Outcome busy = handler.Handle(KeyIdNum(), ctx);
  EXPECT_EQ(busy.reason, Outcome::Reason::kRefused);
  EXPECT_EQ(busy.code, aesm::AesmError::kBusy);
  EXPECT_NE(busy.detail.find("uid 1000"), std::string::npos) << busy.detail;
  ctx.refusal = Refusal::kOverloaded;
  EXPECT_NE(handler.Handle(KeyIdNum(), ctx).detail.find("memory budget"), std::string::npos);

  ctx.refusal = Refusal::kNone;
  EXPECT_FALSE(handler(std::string("\xff\xff garbage"), ctx).has_value());
  aesm::message::Request two;
  two.mutable_getsupportedattkeyidnumreq();
  two.mutable_initquotereq();
  Outcome unclassifiable = handler.Handle(two.SerializeAsString(), ctx);
  EXPECT_EQ(unclassifiable.reason, Outcome::Reason::kUnclassifiable);

  const std::string type = aesm::RequestKindName(aesm::RequestKind::kGetSupportedAttKeyIdNum);
  EXPECT_EQ(CounterValue(registry_, "confcom_quote_helper_requests_total",
                         {{"type", type}, {"result", "SUCCESS"}}),
            1);
  EXPECT_EQ(CounterValue(registry_, "confcom_quote_helper_requests_total",
                         {{"type", type}, {"result", "BUSY"}}),
            2);
  EXPECT_EQ(CounterValue(registry_, "confcom_quote_helper_rejected_requests_total",
                         {{"reason", "unparseable"}}),
            1);
  EXPECT_EQ(CounterValue(registry_, "confcom_quote_helper_rejected_requests_total",
                         {{"reason", "unclassifiable"}}),
            1);
}

// A backend whose every call throws, as a library failing with bad_alloc would.
class ThrowingBackend final : public quoting::QuotingBackend {
 public:
  std::string_view name() const override { return "throwing"; }
  bool simulated() const override { return true; }
  std::vector<sgx::AttKeyId> SupportedKeyIds() const override { throw std::bad_alloc(); }
  quoting::QuoteResult<quoting::InitInfo> Init(const sgx::AttKeyId&) override {
    throw std::bad_alloc();
  }
  quoting::QuoteResult<uint32_t> QuoteSize(const sgx::AttKeyId&) override {
    throw std::bad_alloc();
  }
  quoting::QuoteResult<Bytes> Quote(ByteSpan, const sgx::AttKeyId&, sgx::QeReportInfo*) override {
    throw std::bad_alloc();
  }
};

// A client in a pod is named by its pod: its uid is not what its share follows.
TEST_F(RequestHandlerTest, ARefusedPodIsNamedByItsPod) {
  RequestHandler handler(service_.get(), nullptr);
  RequestContext ctx;
  ctx.peer = {1234, 0, 0, ClientKey::OfPod(*PodUid::Parse("0a1b2c3d-0000-4000-8000-00000000abcd"))};
  ctx.refusal = Refusal::kOverShare;
  Outcome busy = handler.Handle(KeyIdNum(), ctx);
  EXPECT_EQ(busy.code, aesm::AesmError::kBusy);
  EXPECT_NE(busy.detail.find("this client (pod 0a1b2c3d-0000-4000-8000-00000000abcd)"),
            std::string::npos)
      << busy.detail;
}

TEST_F(RequestHandlerTest, AThrowingBackendCostsTheRequestNotTheHelper) {
  ThrowingBackend backend;
  AesmService service(&backend);
  RequestHandler handler(&service, metrics_.get());
  RequestContext ctx;
  ctx.peer = {1234, 1000, 1000, ClientKey::OfUid(1000)};
  Outcome out;
  ASSERT_NO_THROW(out = handler.Handle(KeyIdNum(), ctx));
  EXPECT_EQ(out.reason, Outcome::Reason::kInternal);
  EXPECT_NE(out.detail.find("internal error"), std::string::npos) << out.detail;
  EXPECT_FALSE(handler(KeyIdNum(), ctx).has_value()) << "closed without a reply";
  EXPECT_EQ(CounterValue(registry_, "confcom_quote_helper_rejected_requests_total",
                         {{"reason", "internal"}}),
            2);
}

TEST_F(RequestHandlerTest, WorksWithoutMetrics) {
  RequestHandler handler(service_.get(), nullptr);
  auto reply = handler(KeyIdNum(), RequestContext{});
  ASSERT_TRUE(reply.has_value());
  aesm::message::Response r;
  ASSERT_TRUE(r.ParseFromString(*reply));
  EXPECT_EQ(r.getsupportedattkeyidnumres().att_key_id_num(), 1u);
}

}  // namespace
}  // namespace confcom::helper
