#include "helper/request_handler.h"

#include <chrono>
#include <spdlog/spdlog.h>

#include "common/log_limiter.h"
#include "common/logging.h"

namespace confcom::helper {

namespace {

LogLimiter g_dropped_log, g_refused_log, g_failed_log;

std::string PeerText(const Peer& p) {
  std::string text = "pid " + std::to_string(p.pid) + ", uid " + std::to_string(p.uid);
  if (p.client.kind != ClientKey::Kind::kUid) text += ", " + p.client.ToString();
  return text;
}

}  // namespace

const char* OutcomeReasonName(Outcome::Reason reason) {
  switch (reason) {
    case Outcome::Reason::kAnswered: return "answered";
    case Outcome::Reason::kRefused: return "refused";
    case Outcome::Reason::kUnparseable: return "unparseable";
    case Outcome::Reason::kUnclassifiable: return "unclassifiable";
    case Outcome::Reason::kInternal: return "internal";
  }
  return "?";
}

Outcome RequestHandler::Handle(std::string_view request, const RequestContext& context) const {
  ScopedRequestId request_id(context.connection_id);
  auto start = std::chrono::steady_clock::now();
  Outcome out;
  try {
    if (context.refusal == Refusal::kNone) {
      out = service_->Handle(request);
    } else {
      std::string why =
          context.refusal == Refusal::kOverShare
              ? "this client (" + context.peer.client.ToString() +
                    ") holds more than its share of connections (--max-connections-per-client)"
              : "the helper's memory budget for requests and replies is exhausted "
                "(--max-buffered-mib)";
      out = service_->Refuse(request, aesm::AesmError::kBusy, std::move(why));
    }
  } catch (const std::exception& e) {
    // A backend that throws (e.g. bad_alloc) costs this request, not the helper.
    out = Outcome{};
    out.reason = Outcome::Reason::kInternal;
    out.detail = std::string("internal error: ") + e.what();
  }
  const std::string peer = PeerText(context.peer);
  switch (out.reason) {
    case Outcome::Reason::kAnswered:
      if (out.code == aesm::AesmError::kSuccess) {
        spdlog::debug("{} -> SUCCESS ({})", aesm::RequestKindName(out.kind), peer);
      } else {
        LimitedWarn(g_failed_log, "{} -> {} ({}) for {}: {}", aesm::RequestKindName(out.kind),
                    aesm::AesmErrorName(out.code), unsigned(out.code), peer, out.detail);
      }
      break;
    case Outcome::Reason::kRefused:
      LimitedWarn(g_refused_log, "{} refused with {} for {}: {}", aesm::RequestKindName(out.kind),
                  aesm::AesmErrorName(out.code), peer, out.detail);
      break;
    default:
      LimitedWarn(g_dropped_log, "closing without a reply ({}) for {}: {}",
                  OutcomeReasonName(out.reason), peer, out.detail);
      break;
  }
  if (metrics_ != nullptr) {
    if (out.answered()) {
      metrics_->Answered(
          out.kind, out.code,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } else {
      metrics_->Rejected(OutcomeReasonName(out.reason));
    }
  }
  return out;
}

std::optional<std::string> RequestHandler::operator()(std::string_view request,
                                                      const RequestContext& context) const {
  Outcome out = Handle(request, context);
  if (!out.answered()) return std::nullopt;
  return std::move(out.response);
}

}  // namespace confcom::helper
