// aesm_request_fuzzer: what a client can send the quote helper on its socket.
//
// The input is the byte stream of one connection: a 4-byte little-endian length and the
// serialized aesm.message.Request (fuzz/corpus/aesm_request_fuzzer holds one real framed
// request of every kind). It goes through aesm::FrameReader (limit 4 KiB, delivered in reads
// of varying sizes, as a socket would) and, when a frame completes, through
// helper::AesmService::Handle() with the simulated quoting backend (a fresh SimPlatform in a
// temporary state dir, made once).
//
// Invariants checked:
//  - FrameReader never asks for a byte past the frame, rejects zero and oversize lengths from
//    the header alone, and yields exactly the declared payload;
//  - Handle() answers iff the payload parses and carries exactly one known request; the answer
//    parses, carries exactly one response field, the one matching the request kind, whose
//    errorCode is the outcome's code;
//  - a successful GetQuoteEx returns a buffer of buf_size bytes holding a v3 quote that parses
//    and carries the request's app report body, padded with zeros;
//  - the parsed request re-serializes to bytes that parse to the same request (idempotence).
#include <cstring>
#include <memory>

#include "aesm/framing.h"
#include "aesm/protocol.h"
#include "fuzz_util.h"
#include "helper/aesm_service.h"
#include "quoting/sim_backend.h"
#include "sgx/quote_v3.h"

namespace confcom {
namespace {

using aesm::RequestKind;

constexpr uint32_t kMaxFrame = 4096;

fuzz::TempDir* g_dir = nullptr;
quoting::SimBackend* g_backend = nullptr;

// The top-level field numbers of a serialized message, or false if it is not a sequence of
// length-delimited fields (every Response field is a sub-message).
bool TopLevelFields(std::string_view bytes, std::vector<uint32_t>* fields) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= bytes.size()) return false;
      uint8_t b = uint8_t(bytes[i++]);
      *v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < bytes.size()) {
    uint64_t tag = 0, len = 0;
    if (!varint(&tag) || (tag & 7) != 2 || !varint(&len) || len > bytes.size() - i) return false;
    fields->push_back(uint32_t(tag >> 3));
    i += size_t(len);
  }
  return true;
}

// The errorCode of the response field for `kind`, or -1 if that field is absent.
int64_t ErrorCodeFor(const aesm::message::Response& r, RequestKind kind) {
#define CASE(K, F) \
  case RequestKind::K: return r.has_##F() ? int64_t(r.F().errorcode()) : -1
  switch (kind) {
    CASE(kInitQuote, initquoteres);
    CASE(kGetQuote, getquoteres);
    CASE(kGetLaunchToken, getlictokenres);
    CASE(kReportAttestationError, reporterrres);
    CASE(kGetWhiteListSize, getwhitelistsizeres);
    CASE(kGetWhiteList, getwhitelistres);
    CASE(kGetExtendedEpidGroupId, sgxgetextendedepidgroupidres);
    CASE(kSwitchExtendedEpidGroup, sgxswitchextendedepidgroupres);
    CASE(kRegister, sgxregisterres);
    CASE(kInitQuoteEx, initquoteexres);
    CASE(kGetQuoteSizeEx, getquotesizeexres);
    CASE(kGetQuoteEx, getquoteexres);
    CASE(kCheckUpdateStatus, checkupdatestatusres);
    CASE(kSelectAttKeyId, selectattkeyidres);
    CASE(kGetSupportedAttKeyIdNum, getsupportedattkeyidnumres);
    CASE(kGetSupportedAttKeyIds, getsupportedattkeyidsres);
  }
#undef CASE
  return -1;
}

// Feeds `stream` to a FrameReader in reads of 1..7 bytes (a pattern taken from the stream's
// length), checking the reader's contract. Returns the payload if a frame completed.
std::optional<std::string> Frame(std::string_view stream) {
  aesm::FrameReader reader(kMaxFrame);
  size_t pos = 0;
  size_t step = stream.size() % 7;
  bool failed = false;
  while (!reader.complete() && pos < stream.size()) {
    auto buf = reader.NextBuffer();
    FUZZ_CHECK(!buf.empty(), "an incomplete, healthy reader must want bytes");
    size_t n = std::min({buf.size(), stream.size() - pos, 1 + (step++ % 7)});
    std::memcpy(buf.data(), stream.data() + pos, n);
    pos += n;
    Status st = reader.Commit(n);
    if (!st.ok()) {
      failed = true;
      FUZZ_CHECK(pos == aesm::kFrameHeaderSize, "frame rejected after " + std::to_string(pos) +
                                                    " bytes, not from its header: " + st.message());
      FUZZ_CHECK(reader.NextBuffer().empty(), "a failed reader must want no more bytes");
      FUZZ_CHECK(!reader.Commit(0).ok(), "a failed reader must stay failed");
      break;
    }
  }
  if (stream.size() < aesm::kFrameHeaderSize) {
    FUZZ_CHECK(!reader.complete(), "complete without a header");
    return std::nullopt;
  }
  uint32_t declared = LoadLe32(reinterpret_cast<const uint8_t*>(stream.data()));
  bool valid = declared != 0 && declared <= kMaxFrame;
  FUZZ_CHECK(failed == !valid, "declared length " + std::to_string(declared) +
                                   (failed ? " was rejected" : " was accepted"));
  if (!valid) return std::nullopt;
  bool whole = stream.size() >= aesm::kFrameHeaderSize + declared;
  FUZZ_CHECK(reader.complete() == whole, "completion does not match the stream length");
  if (!whole) return std::nullopt;
  FUZZ_CHECK(pos == aesm::kFrameHeaderSize + declared, "the reader read past its frame");
  FUZZ_CHECK(reader.NextBuffer().empty(), "a complete reader must want no more bytes");
  FUZZ_CHECK(reader.declared_size() == declared, "declared_size");
  FUZZ_CHECK(reader.payload() == stream.substr(aesm::kFrameHeaderSize, declared),
             "payload differs from the stream");
  std::string payload = reader.TakePayload();
  FUZZ_CHECK(aesm::EncodeFrame(payload) == stream.substr(0, aesm::kFrameHeaderSize + declared),
             "EncodeFrame does not re-create the frame");
  return payload;
}

void CheckGetQuoteEx(const aesm::message::Request& req, const aesm::message::Response& res) {
  const auto& in = req.getquoteexreq();
  const auto& out = res.getquoteexres();
  if (out.errorcode() != 0) return;
  FUZZ_CHECK(out.quote().size() <= in.buf_size(), "quote larger than buf_size");
  auto parsed = sgx::ParseQuoteV3(AsBytes(out.quote()));
  FUZZ_CHECK(parsed.ok(), "our own quote does not parse: " + parsed.status().message());
  FUZZ_CHECK(parsed->trailing_bytes == 0, "the reply carries bytes after the quote");
  auto report = sgx::Report::Decode(AsBytes(in.report()));
  FUZZ_CHECK(report.ok(), "a quoted report does not decode");
  FUZZ_CHECK(parsed->quote.app_report == report->body, "quote carries another app report");
  if (in.has_qe_report_info()) {
    FUZZ_CHECK(out.qe_report_info().size() == sgx::QeReportInfo::kSize, "qe_report_info size");
  }
}

int Initialize() {
  fuzz::QuietLogs();
  g_dir = new fuzz::TempDir();
  auto platform = sim::SimPlatform::LoadOrCreate(g_dir->File("state"));
  if (!platform.ok()) {
    std::fprintf(stderr, "sim platform: %s\n", platform.status().ToString().c_str());
    std::abort();
  }
  auto backend = quoting::SimBackend::Create(std::move(platform).value());
  if (!backend.ok()) {
    std::fprintf(stderr, "sim backend: %s\n", backend.status().ToString().c_str());
    std::abort();
  }
  g_backend = std::move(backend).value().release();
  std::atexit([] {
    delete g_backend;
    delete g_dir;
  });
  return 0;
}

int TestOneInput(const uint8_t* data, size_t size) {
  std::string_view stream = fuzz::AsView(data, size);
  auto payload = Frame(stream);
  if (!payload) return 0;

  helper::AesmService service(g_backend);
  helper::Outcome out = service.Handle(*payload);

  aesm::message::Request req;
  bool parses = req.ParseFromString(*payload);
  auto kind = parses ? aesm::Classify(req) : Result<RequestKind>(Status::InvalidArgument("x"));
  FUZZ_CHECK(out.answered() == (parses && kind.ok()), "answered=" + std::to_string(out.answered()) +
                                                          " but parses=" + std::to_string(parses) +
                                                          " detail: " + out.detail);
  if (parses) {
    std::string again;
    FUZZ_CHECK(req.SerializeToString(&again), "a parsed request does not serialize");
    aesm::message::Request req2;
    FUZZ_CHECK(req2.ParseFromString(again), "a re-serialized request does not parse");
    FUZZ_CHECK(req2.SerializeAsString() == again, "request serialization is not idempotent");
  }
  if (!out.answered()) {
    FUZZ_CHECK(out.response.empty(), "a response without an answer");
    FUZZ_CHECK(!out.detail.empty(), "a dropped request must say why");
    return 0;
  }
  FUZZ_CHECK(out.kind == *kind, "outcome kind differs from Classify()");
  FUZZ_CHECK(out.response.size() <= helper::kMaxReplySize, "response over the reply limit");

  aesm::message::Response res;
  FUZZ_CHECK(res.ParseFromString(out.response), "our response does not parse");
  std::vector<uint32_t> fields;
  FUZZ_CHECK(TopLevelFields(out.response, &fields), "response is not a list of sub-messages");
  FUZZ_CHECK(
      fields.size() == 1 && fields[0] == uint32_t(out.kind),
      "response must carry exactly the field of request kind " + std::to_string(int(out.kind)));
  int64_t code = ErrorCodeFor(res, out.kind);
  FUZZ_CHECK(code == int64_t(out.code), "errorCode " + std::to_string(code) + " != outcome code " +
                                            std::to_string(int(out.code)));
  FUZZ_CHECK((out.code == aesm::AesmError::kSuccess) == out.detail.empty(),
             "a failure must say why, a success must not: " + out.detail);
  if (out.kind == RequestKind::kGetQuoteEx) CheckGetQuoteEx(req, res);
  return 0;
}

}  // namespace
}  // namespace confcom

extern "C" int LLVMFuzzerInitialize(int*, char***) { return confcom::Initialize(); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return confcom::TestOneInput(data, size);
}
