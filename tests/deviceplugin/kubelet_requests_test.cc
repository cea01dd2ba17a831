#include "deviceplugin/framework/kubelet_requests.h"

#include <gtest/gtest.h>

#include <google/protobuf/stubs/logging.h>

#include <string>
#include <vector>

#include "deviceplugin/api.pb.h"

namespace confcom::deviceplugin {
namespace {

using Strings = std::vector<std::string>;

Strings ToStrings(const std::vector<std::string_view>& views) {
  return Strings(views.begin(), views.end());
}

// What the generated parser makes of `wire`, in the decoder's shape; nullopt if it fails.
std::optional<std::vector<Strings>> GeneratedAllocate(const std::string& wire) {
  v1beta1::AllocateRequest req;
  if (!req.ParseFromString(wire)) return std::nullopt;
  std::vector<Strings> out;
  for (const auto& c : req.container_requests()) {
    out.emplace_back(c.devices_ids().begin(), c.devices_ids().end());
  }
  return out;
}

std::optional<std::vector<Strings>> OursAllocate(const std::string& wire) {
  auto r = DecodeAllocateRequest(wire);
  if (!r.ok()) return std::nullopt;
  std::vector<Strings> out;
  for (const auto& c : *r) out.push_back(ToStrings(c));
  return out;
}

std::string Varint(uint64_t n) {
  std::string out;
  for (; n >= 0x80; n >>= 7) out += char(0x80 | (n & 0x7f));
  return out + char(n);
}

// A one-byte field tag.
std::string Tag(int field, int wire_type) { return std::string(1, char((field << 3) | wire_type)); }

class KubeletRequestsTest : public ::testing::Test {
 protected:
  // Invalid UTF-8 makes the generated parser log an error; these tests provoke it on purpose.
  void SetUp() override { google::protobuf::SetLogHandler(nullptr); }
};

TEST_F(KubeletRequestsTest, AllocateRoundTripsWhatProtobufEncodes) {
  v1beta1::AllocateRequest req;
  auto* a = req.add_container_requests();
  for (int i = 0; i < 1000; ++i) a->add_devices_ids(std::to_string(i * 7));
  req.add_container_requests();  // a container with no IDs stays an entry
  auto* c = req.add_container_requests();
  c->add_devices_ids("Zz_-");
  c->add_devices_ids("");
  std::string wire = req.SerializeAsString();

  auto ours = DecodeAllocateRequest(wire);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ASSERT_EQ(ours->size(), 3u);
  ASSERT_EQ((*ours)[0].size(), 1000u);
  EXPECT_EQ((*ours)[0][999], "6993");
  EXPECT_TRUE((*ours)[1].empty());
  EXPECT_EQ(ToStrings((*ours)[2]), (Strings{"Zz_-", ""}));
  EXPECT_EQ(OursAllocate(wire), GeneratedAllocate(wire));
  // The views point into the caller's buffer: nothing is copied.
  EXPECT_GE((*ours)[0][0].data(), wire.data());
  EXPECT_LT((*ours)[0][0].data(), wire.data() + wire.size());
}

TEST_F(KubeletRequestsTest, EmptyRequestHasNoContainers) {
  auto r = DecodeAllocateRequest("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST_F(KubeletRequestsTest, PreferredRoundTripsWhatProtobufEncodes) {
  v1beta1::PreferredAllocationRequest req;
  auto* c = req.add_container_requests();
  c->add_available_deviceids("1");
  c->add_available_deviceids("2");
  c->add_must_include_deviceids("2");
  c->set_allocation_size(2);
  auto* d = req.add_container_requests();
  d->set_allocation_size(-1);  // ten bytes on the wire; the handler refuses it later
  d->add_available_deviceids("a");

  std::string wire = req.SerializeAsString();  // the views point into it
  auto r = DecodePreferredAllocationRequest(wire);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(ToStrings((*r)[0].available), (Strings{"1", "2"}));
  EXPECT_EQ(ToStrings((*r)[0].must_include), (Strings{"2"}));
  EXPECT_EQ((*r)[0].allocation_size, 2);
  EXPECT_EQ((*r)[1].allocation_size, -1);
  EXPECT_EQ(ToStrings((*r)[1].available), (Strings{"a"}));
}

TEST_F(KubeletRequestsTest, UnknownFieldsAndUnexpectedWireTypesAreSkippedLikeProtobuf) {
  std::string inner = Tag(1, 2) +
                      "\x02"
                      "17" +  // devices_ids "17"
                      Tag(2, 0) +
                      "\x96\x01" +              // unknown varint field 2
                      Tag(1, 0) + "\x05" +      // devices_ids as a varint: unknown
                      Tag(3, 5) + "abcd" +      // unknown fixed32
                      Tag(4, 1) + "abcdefgh" +  // unknown fixed64
                      Tag(5, 3) + Tag(1, 2) +
                      "\x01"
                      "x" +
                      Tag(5, 4) +  // a group, skipped
                      Tag(1, 2) +
                      "\x01"
                      "9";  // devices_ids "9"
  std::string wire = Tag(7, 2) +
                     "\x01"
                     "z" +  // unknown top-level string
                     Tag(1, 0) +
                     "\x01" +  // container_requests as a varint: unknown
                     Tag(1, 2) + char(inner.size()) + inner;
  auto generated = GeneratedAllocate(wire);
  ASSERT_TRUE(generated.has_value()) << "the input must be valid protobuf";
  EXPECT_EQ(*generated, (std::vector<Strings>{{"17", "9"}}));
  EXPECT_EQ(OursAllocate(wire), generated);
}

TEST_F(KubeletRequestsTest, EveryTruncationAgreesWithProtobuf) {
  v1beta1::PreferredAllocationRequest req;
  auto* c = req.add_container_requests();
  for (int i = 0; i < 20; ++i) c->add_available_deviceids(std::to_string(1000 + i));
  c->add_must_include_deviceids("1003");
  c->set_allocation_size(300);
  std::string wire = req.SerializeAsString();
  int failures = 0;
  for (size_t n = 0; n <= wire.size(); ++n) {
    std::string prefix = wire.substr(0, n);
    v1beta1::PreferredAllocationRequest parsed;
    bool generated_ok = parsed.ParseFromString(prefix);
    auto ours = DecodePreferredAllocationRequest(prefix);
    ASSERT_EQ(ours.ok(), generated_ok) << "prefix of " << n << " bytes";
    if (!ours.ok()) {
      ++failures;
      EXPECT_NE(ours.status().message().find("malformed PreferredAllocationRequest at byte"),
                std::string::npos)
          << ours.status().ToString();
      continue;
    }
    ASSERT_EQ(ours->size(), size_t(parsed.container_requests_size()));
    for (size_t k = 0; k < ours->size(); ++k) {
      const auto& p = parsed.container_requests(int(k));
      EXPECT_EQ(ToStrings((*ours)[k].available),
                Strings(p.available_deviceids().begin(), p.available_deviceids().end()));
      EXPECT_EQ((*ours)[k].allocation_size, p.allocation_size());
    }
  }
  EXPECT_GT(failures, int(wire.size()) / 2) << "most truncations cut a length-delimited field";
}

TEST_F(KubeletRequestsTest, MalformedInputIsRefusedWithItsPosition) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a zero tag", std::string("\x00", 1)},
      {"field number 0", Tag(0, 2) + "\x00"},
      {"an end-group tag outside a group", Tag(1, 4)},
      {"an unterminated group", Tag(9, 3) + Tag(1, 0) + "\x01"},
      {"a length past the end", Tag(1, 2) + "\x7f"},
      {"a string past its container", Tag(1, 2) + "\x02" + Tag(1, 2) +
                                          "\x05"
                                          "abcde"},
      {"a bad varint", Tag(2, 0) + std::string(11, '\xff')},
      {"a length over 2^32", Tag(1, 2) + std::string(5, '\xff') + "\x0f"},
      {"a wire type 6", std::string(1, char((1 << 3) | 6))},
      {"a tag of 6 bytes", std::string("\x8a\x80\x80\x80\x80\x00"
                                       "\x00",
                                       7)},
      {"a length of 6 bytes", Tag(1, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6)},
      {"a tag of 6 bytes inside a group",
       Tag(9, 3) + std::string("\x88\x80\x80\x80\x80\x00", 6) + "\x01" + Tag(9, 4)},
  };
  for (const auto& [what, wire] : cases) {
    EXPECT_FALSE(GeneratedAllocate(wire).has_value()) << what << ": protobuf must refuse it too";
    auto r = DecodeAllocateRequest(wire);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << what;
    EXPECT_NE(r.status().message().find("malformed AllocateRequest at byte"), std::string::npos)
        << what << ": " << r.status().ToString();
  }
}

TEST_F(KubeletRequestsTest, NestingLimitIsProtobufs) {
  // Groups nested `depth` deep in an unknown field of a container request.
  int accepted_up_to = -1;
  for (int depth = 90; depth <= 110; ++depth) {
    std::string groups;
    for (int i = 0; i < depth; ++i) groups += Tag(9, 3);
    for (int i = 0; i < depth; ++i) groups += Tag(9, 4);
    std::string inner = Tag(1, 2) +
                        "\x01"
                        "5" +
                        groups;
    std::string wire = Tag(1, 2) + Varint(inner.size()) + inner;
    bool generated = GeneratedAllocate(wire).has_value();
    EXPECT_EQ(DecodeAllocateRequest(wire).ok(), generated) << "depth " << depth;
    if (generated) accepted_up_to = depth;
  }
  EXPECT_GT(accepted_up_to, 90) << "the test must cross protobuf's limit";
  EXPECT_LT(accepted_up_to, 110) << "the test must cross protobuf's limit";
}

TEST_F(KubeletRequestsTest, InvalidUtf8IdIsReturnedAsIsWhereProtobufFailsTheMessage) {
  std::string inner = Tag(1, 2) +
                      "\x02"
                      "\xc3\x28";  // an invalid two-byte sequence
  std::string wire = Tag(1, 2) + char(inner.size()) + inner;
  EXPECT_FALSE(GeneratedAllocate(wire).has_value());
  auto r = DecodeAllocateRequest(wire);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToStrings((*r)[0]), (Strings{"\xc3\x28"}));
}

}  // namespace
}  // namespace confcom::deviceplugin
