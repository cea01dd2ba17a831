// The AESM request dispatcher: one serialized aesm.message.Request in, one serialized Response
// out, answering like Intel's aesmd on its ECDSA (quote_ex) path.
//
// Every request kind Intel defines is answered in its own response field with an errorCode
// (Intel's client reads that field unchecked); EPID, launch-token, white-list and platform
// service requests get SERVICE_UNAVAILABLE. A request that does not parse or names no (or
// several) known messages gets no reply. No reply exceeds kMaxReplySize, whatever buf_size.
// The protocol, the padding of quotes and every error code: docs/aesm-protocol.md.
#pragma once

#include <string>
#include <string_view>

#include "aesm/aesm.pb.h"
#include "aesm/framing.h"
#include "aesm/protocol.h"
#include "quoting/backend.h"

namespace confcom::helper {

// The largest serialized Response the service ever returns. A DCAP quote with its PCK
// certificate chain is ~5 KiB (a simulated one ~4.7 KiB); 64 KiB leaves room for long chains
// and is the frame size Intel-compatible clients accept (aesm/framing.h).
inline constexpr size_t kMaxReplySize = aesm::kDefaultMaxFrameSize;

struct Outcome {
  // What became of a request. The first two are answered (a Response in `response`); the
  // others close the connection without a reply.
  enum class Reason {
    kAnswered,        // handled; `code` says how it went
    kRefused,         // not handled: answered with `code` (BUSY) in the matching field
    kUnparseable,     // not an aesm.message.Request
    kUnclassifiable,  // no known sub-message, or more than one
    kInternal,        // the response could not be serialized
  };
  Reason reason = Reason::kUnparseable;
  bool answered() const { return reason == Reason::kAnswered || reason == Reason::kRefused; }
  aesm::RequestKind kind{};
  aesm::AesmError code = aesm::AesmError::kSuccess;
  std::string detail;    // why the request failed, for the log
  std::string response;  // serialized Response, when answered
};

// Thread-safe if the backend is: the service keeps no state of its own.
class AesmService {
 public:
  // `backend` is not owned and must outlive the service.
  explicit AesmService(quoting::QuotingBackend* backend) : backend_(backend) {}

  // Parses, classifies and answers one request. Never fails as a call: the Outcome says what
  // became of the request (kAnswered with the backend's `code`, including errors such as
  // SERVICE_UNAVAILABLE; kUnparseable or kUnclassifiable, no reply; kInternal, no reply). A
  // response over kMaxReplySize is replaced by UNEXPECTED in the same field.
  Outcome Handle(std::string_view request_bytes) const;
  // Answers a well-formed request with `code` (e.g. BUSY) in its own response field without
  // asking the backend, so the client's library reports that code; `detail` is for the log.
  // Returns reason kRefused; malformed requests get the same outcome as from Handle().
  Outcome Refuse(std::string_view request_bytes, aesm::AesmError code, std::string detail) const;
  // The typed core of Handle(), for tests: returns the Response for `request` (of `kind`, as
  // aesm::Classify found it) and sets `code` (kSuccess or the error) and, on error, `detail`.
  aesm::message::Response Dispatch(const aesm::message::Request& request, aesm::RequestKind kind,
                                   aesm::AesmError* code, std::string* detail) const;

 private:
  quoting::QuotingBackend* backend_;
};

}  // namespace confcom::helper
