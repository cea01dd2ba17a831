// The AESM request dispatcher: one serialized aesm.message.Request in, one serialized Response
// out, answering like Intel's aesmd on its ECDSA (quote_ex) path.
//
// Every request kind Intel defines gets its own response field with an errorCode (Intel's
// client dereferences that field unchecked, so a reply without it would crash the app);
// EPID, launch-token, white-list and platform-service requests get SERVICE_UNAVAILABLE, as
// aesmd answers on a platform without those services. A request that does not parse or
// carries no (or more than one) known message gets no reply at all: the caller closes the
// connection, as aesmd does. Thread-safe if the backend is.
#pragma once

#include <string>
#include <string_view>

#include "aesm/aesm.pb.h"
#include "aesm/protocol.h"
#include "quoting/backend.h"

namespace confcom::helper {

// The largest quote buffer a client may ask us to fill (Intel's client sends the size it got
// from GetQuoteSizeEx, ~5 KiB; apps that round up get plenty of room).
inline constexpr uint32_t kMaxQuoteBufferSize = 1 << 20;

struct Outcome {
  bool answered = false;  // false: close the connection without a reply
  aesm::RequestKind kind{};
  aesm::AesmError code = aesm::AesmError::kSuccess;
  std::string detail;     // why the request failed, for the log
  std::string response;   // serialized Response, when answered
};

class AesmService {
 public:
  explicit AesmService(quoting::QuotingBackend* backend) : backend_(backend) {}

  Outcome Handle(std::string_view request_bytes) const;
  // The typed core of Handle(), for tests.
  aesm::message::Response Dispatch(const aesm::message::Request& request, aesm::RequestKind kind,
                                   aesm::AesmError* code, std::string* detail) const;

 private:
  quoting::QuotingBackend* backend_;
};

}  // namespace confcom::helper
