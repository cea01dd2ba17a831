#include "aesm/protocol.h"

#include <gtest/gtest.h>

namespace confcom::aesm {
namespace {

// The first bytes of a serialized message with exactly one sub-message set are the field's
// key: (field_number << 3) | 2, as a varint.
std::string Key(int field) {
  uint32_t v = uint32_t(field) << 3 | 2;
  std::string out;
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
  return out;
}

TEST(ProtocolTest, RequestFieldNumbersMatchIntels) {
  struct Case {
    int field;
    std::function<void(message::Request&)> set;
  } cases[] = {
      {1, [](auto& r) { r.mutable_initquotereq(); }},
      {3,
       [](auto& r) {
         auto* m = r.mutable_getlictokenreq();
         m->set_mr_enclave("a");
         m->set_mr_signer("b");
         m->set_se_attributes("c");
       }},
      {12, [](auto& r) { r.mutable_sgxgetextendedepidgroupidreq(); }},
      {15, [](auto& r) { r.mutable_initquoteexreq()->set_b_pub_key_id(false); }},
      {16, [](auto& r) { r.mutable_getquotesizeexreq(); }},
      {17,
       [](auto& r) {
         auto* m = r.mutable_getquoteexreq();
         m->set_report("r");
         m->set_buf_size(1);
       }},
      {19, [](auto& r) { r.mutable_selectattkeyidreq(); }},
      {21, [](auto& r) { r.mutable_getsupportedattkeyidnumreq(); }},
      {22, [](auto& r) { r.mutable_getsupportedattkeyidsreq()->set_buf_size(256); }},
  };
  for (const auto& c : cases) {
    message::Request r;
    c.set(r);
    std::string wire;
    ASSERT_TRUE(r.SerializeToString(&wire)) << c.field;
    EXPECT_EQ(wire.substr(0, Key(c.field).size()), Key(c.field)) << "field " << c.field;
    auto kind = Classify(r);
    ASSERT_TRUE(kind.ok());
    EXPECT_EQ(int(*kind), c.field);
  }
}

TEST(ProtocolTest, InnerFieldNumbersMatchIntels) {
  // SelectAttKeyIDRequest carries its timeout in field 2 (not 9 like the others).
  message::Request r;
  r.mutable_selectattkeyidreq()->set_timeout(5);
  std::string wire;
  ASSERT_TRUE(r.SerializeToString(&wire));
  EXPECT_EQ(wire, Key(19) + std::string("\x02\x10\x05", 3));
  // GetQuoteExRequest: report=1, att_key_id=2, qe_report_info=3, buf_size=4, timeout=9.
  message::Request q;
  auto* g = q.mutable_getquoteexreq();
  g->set_report("R");
  g->set_att_key_id("K");
  g->set_qe_report_info("Q");
  g->set_buf_size(7);
  g->set_timeout(1);
  ASSERT_TRUE(q.SerializeToString(&wire));
  EXPECT_EQ(wire.substr(Key(17).size() + 1),
            std::string("\x0a\x01R\x12\x01K\x1a\x01Q\x20\x07\x48\x01", 13));
}

TEST(ProtocolTest, ResponseErrorCodeIsFieldOneAndRequired) {
  message::Response res;
  auto* r = res.mutable_getquoteexres();
  std::string wire;
  EXPECT_FALSE(r->IsInitialized()) << "errorCode must be a required field";
  r->set_errorcode(47);
  r->set_quote("Z");
  ASSERT_TRUE(res.SerializeToString(&wire));
  EXPECT_EQ(wire, Key(17) + std::string("\x05\x08\x2f\x12\x01Z", 6));
  message::Response un;
  un.mutable_unsupportedrequestresponse()->set_errorcode(1);
  ASSERT_TRUE(un.SerializeToString(&wire));
  EXPECT_EQ(wire.substr(0, 2), Key(20));
}

TEST(ProtocolTest, ClassifyRejectsEmptyAndAmbiguousRequests) {
  message::Request empty;
  EXPECT_FALSE(Classify(empty).ok());
  message::Request two;
  two.mutable_getsupportedattkeyidnumreq();
  two.mutable_initquotereq();
  auto kind = Classify(two);
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.status().message().find("2 messages"), std::string::npos);
}

TEST(ProtocolTest, NamesForLogs) {
  EXPECT_STREQ(AesmErrorName(AesmError::kInvalidReport), "INVALID_REPORT");
  EXPECT_STREQ(RequestKindName(RequestKind::kGetQuoteEx), "GetQuoteEx");
}

}  // namespace
}  // namespace confcom::aesm
