#include "aesm/framing.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/bytes.h"

namespace confcom::aesm {
namespace {

// Feeds `data` to a reader `chunk` bytes at a time; returns the reader's first error.
Status Feed(FrameReader& reader, std::string_view data, size_t chunk) {
  size_t off = 0;
  while (off < data.size() && !reader.complete()) {
    auto buf = reader.NextBuffer();
    if (buf.empty()) return Status::Internal("reader asked for nothing");
    size_t n = std::min({chunk, buf.size(), data.size() - off});
    std::memcpy(buf.data(), data.data() + off, n);
    off += n;
    CONFCOM_RETURN_IF_ERROR(reader.Commit(n));
  }
  return Status::Ok();
}

TEST(FramingTest, EncodeIsLittleEndianLengthThenPayload) {
  std::string frame = EncodeFrame("abc");
  ASSERT_EQ(frame.size(), 7u);
  EXPECT_EQ(frame.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  EXPECT_EQ(frame.substr(4), "abc");
}

TEST(FramingTest, ReaderAssemblesFromOneByteReads) {
  std::string payload(300, 'p');
  std::string frame = EncodeFrame(payload);
  FrameReader reader(1024);
  ASSERT_TRUE(Feed(reader, frame, 1).ok());
  ASSERT_TRUE(reader.complete());
  EXPECT_EQ(reader.payload(), payload);
}

TEST(FramingTest, ReaderNeverAsksForBytesPastTheFrame) {
  FrameReader reader(1024);
  std::string two = EncodeFrame("first") + EncodeFrame("second");
  ASSERT_TRUE(Feed(reader, two, 1000).ok());
  ASSERT_TRUE(reader.complete());
  EXPECT_EQ(reader.payload(), "first");
  EXPECT_TRUE(reader.NextBuffer().empty());
}

TEST(FramingTest, ZeroLengthIsRejected) {
  FrameReader reader(1024);
  Status st = Feed(reader, std::string(4, '\0'), 4);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("zero-length"), std::string::npos);
}

TEST(FramingTest, OversizeIsRejectedFromTheHeaderAlone) {
  FrameReader reader(1024);
  uint8_t header[4];
  StoreLe32(header, 1025);
  Status st = Feed(reader, std::string(reinterpret_cast<char*>(header), 4), 4);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("1025"), std::string::npos);
  EXPECT_TRUE(reader.NextBuffer().empty()) << "a rejected frame must not ask for its body";
  EXPECT_FALSE(reader.complete());
  // Exactly at the limit is fine.
  FrameReader at_limit(4);
  EXPECT_TRUE(Feed(at_limit, EncodeFrame("1234"), 2).ok());
  EXPECT_TRUE(at_limit.complete());
}

class SocketPairTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(SocketPairTest, WriteThenReadFrame) {
  std::string payload(100000, 'q');
  std::thread writer([&] {
    EXPECT_TRUE(WriteFrame(fds_[0], payload, Clock::now() + std::chrono::seconds(5)).ok());
  });
  auto got = ReadFrame(fds_[1], 1 << 20, Clock::now() + std::chrono::seconds(5));
  writer.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, payload);
}

TEST_F(SocketPairTest, ReadTimesOutOnSilence) {
  auto start = Clock::now();
  auto got = ReadFrame(fds_[1], 1024, start + std::chrono::milliseconds(100));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(100));
}

TEST_F(SocketPairTest, PeerClosingMidFrameIsAnError) {
  std::string half = EncodeFrame("0123456789").substr(0, 8);
  ASSERT_EQ(::write(fds_[0], half.data(), half.size()), ssize_t(half.size()));
  ::close(fds_[0]);
  fds_[0] = -1;
  auto got = ReadFrame(fds_[1], 1024, Clock::now() + std::chrono::seconds(5));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kIoError);
  EXPECT_NE(got.status().message().find("mid-frame"), std::string::npos);
}

}  // namespace
}  // namespace confcom::aesm
