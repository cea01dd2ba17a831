// The AESM request dispatcher: one serialized aesm.message.Request in, one serialized Response
// out, answering like Intel's aesmd on its ECDSA (quote_ex) path.
//
// Every request kind Intel defines gets its own response field with an errorCode (Intel's
// client dereferences that field unchecked, so a reply without it would crash the app);
// EPID, launch-token, white-list and platform-service requests get SERVICE_UNAVAILABLE, as
// aesmd answers on a platform without those services. A request that does not parse or
// carries no (or more than one) known message gets no reply at all: the caller closes the
// connection, as aesmd does. Thread-safe if the backend is.
//
// Replies are small by design. aesmd answers GetQuoteEx with the client's whole buffer
// (buf_size bytes: the quote, then zeros), so a client could make it build a reply as large as
// any buf_size it names. Intel's client copies quote().size() bytes into its buffer (it checks
// quote().size() <= buf_size). We pad the quote with zeros only up to the smallest of buf_size
// and the size the backend announces (GetQuoteSizeEx), so an app whose buffer came from
// GetQuoteSizeEx finds its tail zeroed as with aesmd even when the real quote is shorter, and
// a large buf_size costs nothing. No reply exceeds kMaxReplySize whatever a client asks for; a
// quote (or any response) that would is answered with UNEXPECTED instead.
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
  std::string detail;     // why the request failed, for the log
  std::string response;   // serialized Response, when answered
};

class AesmService {
 public:
  explicit AesmService(quoting::QuotingBackend* backend) : backend_(backend) {}

  Outcome Handle(std::string_view request_bytes) const;
  // Answers a well-formed request with `code` (e.g. BUSY) in its own response field without
  // asking the backend, so the client's library reports that code; `detail` is for the log.
  // Malformed requests get the same outcome as from Handle().
  Outcome Refuse(std::string_view request_bytes, aesm::AesmError code, std::string detail) const;
  // The typed core of Handle(), for tests.
  aesm::message::Response Dispatch(const aesm::message::Request& request, aesm::RequestKind kind,
                                   aesm::AesmError* code, std::string* detail) const;

 private:
  quoting::QuotingBackend* backend_;
};

}  // namespace confcom::helper
