#include "helper/aesm_service.h"

#include <algorithm>
#include <cstring>

#include "sgx/att_key_id.h"

namespace confcom::helper {

namespace {

// A padded quote stays this far below kMaxReplySize: room for qe_report_info (960 bytes) and
// the fields' tags, so padding never turns a reply into an oversize UNEXPECTED.
constexpr size_t kMaxQuotePadding = kMaxReplySize - 2048;

using aesm::AesmError;
using aesm::RequestKind;
using aesm::message::Request;
using aesm::message::Response;

constexpr char kNoEpid[] =
    "this service provides ECDSA (DCAP) quotes through the quote_ex API only; EPID, launch "
    "tokens, white lists and platform services are not available";

// Checks a request's key id: present, 256 bytes, and one the backend supports.
quoting::QuoteError CheckKeyId(const quoting::QuotingBackend& backend, bool has,
                               const std::string& key_id, sgx::AttKeyId* out) {
  if (!has || key_id.size() != sgx::kAttKeyIdSize) {
    return {AesmError::kParameter, "att_key_id must be " + std::to_string(sgx::kAttKeyIdSize) +
                                       " bytes, got " +
                                       (has ? std::to_string(key_id.size()) : "none")};
  }
  std::memcpy(out->data(), key_id.data(), sgx::kAttKeyIdSize);
  for (const auto& supported : backend.SupportedKeyIds()) {
    if (sgx::SameKeyBase(supported, *out)) return {};
  }
  return {AesmError::kUnsupportedAttKeyId,
          "unsupported attestation key id: " + sgx::DescribeAttKeyId(*out)};
}

}  // namespace

namespace {

// Parses and classifies; on failure fills `out` (reason and detail) and returns false.
bool Parse(std::string_view bytes, Request* request, Outcome* out) {
  if (!request->ParseFromArray(bytes.data(), int(bytes.size()))) {
    out->reason = Outcome::Reason::kUnparseable;
    out->detail = "request does not parse as aesm.message.Request (" +
                  std::to_string(bytes.size()) + " bytes)";
    return false;
  }
  auto kind = aesm::Classify(*request);
  if (!kind.ok()) {
    out->reason = Outcome::Reason::kUnclassifiable;
    out->detail = kind.status().message();
    return false;
  }
  out->kind = *kind;
  return true;
}

// Sets `code` in the response field that matches `kind` (every response message starts with
// errorCode, and Intel's client reads that field unchecked).
void SetErrorField(Response* res, RequestKind kind, AesmError code) {
  uint32_t c = uint32_t(code);
  switch (kind) {
    case RequestKind::kInitQuote: res->mutable_initquoteres()->set_errorcode(c); break;
    case RequestKind::kGetQuote: res->mutable_getquoteres()->set_errorcode(c); break;
    case RequestKind::kGetLaunchToken: res->mutable_getlictokenres()->set_errorcode(c); break;
    case RequestKind::kReportAttestationError: res->mutable_reporterrres()->set_errorcode(c); break;
    case RequestKind::kGetWhiteListSize:
      res->mutable_getwhitelistsizeres()->set_errorcode(c);
      break;
    case RequestKind::kGetWhiteList: res->mutable_getwhitelistres()->set_errorcode(c); break;
    case RequestKind::kGetExtendedEpidGroupId:
      res->mutable_sgxgetextendedepidgroupidres()->set_errorcode(c);
      break;
    case RequestKind::kSwitchExtendedEpidGroup:
      res->mutable_sgxswitchextendedepidgroupres()->set_errorcode(c);
      break;
    case RequestKind::kRegister: res->mutable_sgxregisterres()->set_errorcode(c); break;
    case RequestKind::kInitQuoteEx: res->mutable_initquoteexres()->set_errorcode(c); break;
    case RequestKind::kGetQuoteSizeEx: res->mutable_getquotesizeexres()->set_errorcode(c); break;
    case RequestKind::kGetQuoteEx: res->mutable_getquoteexres()->set_errorcode(c); break;
    case RequestKind::kCheckUpdateStatus:
      res->mutable_checkupdatestatusres()->set_errorcode(c);
      break;
    case RequestKind::kSelectAttKeyId: res->mutable_selectattkeyidres()->set_errorcode(c); break;
    case RequestKind::kGetSupportedAttKeyIdNum:
      res->mutable_getsupportedattkeyidnumres()->set_errorcode(c);
      break;
    case RequestKind::kGetSupportedAttKeyIds:
      res->mutable_getsupportedattkeyidsres()->set_errorcode(c);
      break;
  }
}

// Serializes `response` into out->response, or an UNEXPECTED error in its place when it
// would exceed kMaxReplySize.
void Finish(const Response& response, Outcome::Reason reason, Outcome* out) {
  if (!response.SerializeToString(&out->response)) {
    out->reason = Outcome::Reason::kInternal;
    out->detail = "internal error: response misses a required field";
    out->response.clear();
    return;
  }
  if (out->response.size() > kMaxReplySize) {
    out->detail = "response of " + std::to_string(out->response.size()) + " bytes exceeds the " +
                  std::to_string(kMaxReplySize) + "-byte reply limit";
    out->code = AesmError::kUnexpected;
    Response small;
    SetErrorField(&small, out->kind, out->code);
    out->response = small.SerializeAsString();
  }
  out->reason = reason;
}

}  // namespace

Outcome AesmService::Handle(std::string_view request_bytes) const {
  Outcome out;
  Request request;
  if (!Parse(request_bytes, &request, &out)) return out;
  Response response = Dispatch(request, out.kind, &out.code, &out.detail);
  Finish(response, Outcome::Reason::kAnswered, &out);
  return out;
}

Outcome AesmService::Refuse(std::string_view request_bytes, AesmError code,
                            std::string detail) const {
  Outcome out;
  Request request;
  if (!Parse(request_bytes, &request, &out)) return out;
  Response response;
  SetErrorField(&response, out.kind, code);
  out.code = code;
  out.detail = std::move(detail);
  Finish(response, Outcome::Reason::kRefused, &out);
  return out;
}

Response AesmService::Dispatch(const Request& req, RequestKind kind, AesmError* code,
                               std::string* detail) const {
  Response res;
  auto fail = [&](quoting::QuoteError e) {
    *code = e.code;
    *detail = std::move(e.message);
    return uint32_t(e.code);
  };
  auto unavailable = [&]() { return fail({AesmError::kServiceUnavailable, kNoEpid}); };
  *code = AesmError::kSuccess;
  const quoting::QuotingBackend& backend = *backend_;

  switch (kind) {
    case RequestKind::kInitQuote: res.mutable_initquoteres()->set_errorcode(unavailable()); break;
    case RequestKind::kGetQuote: res.mutable_getquoteres()->set_errorcode(unavailable()); break;
    case RequestKind::kGetLaunchToken:
      res.mutable_getlictokenres()->set_errorcode(unavailable());
      break;
    case RequestKind::kReportAttestationError:
      res.mutable_reporterrres()->set_errorcode(unavailable());
      break;
    case RequestKind::kGetWhiteListSize:
      res.mutable_getwhitelistsizeres()->set_errorcode(unavailable());
      break;
    case RequestKind::kGetWhiteList:
      res.mutable_getwhitelistres()->set_errorcode(unavailable());
      break;
    case RequestKind::kGetExtendedEpidGroupId:
      res.mutable_sgxgetextendedepidgroupidres()->set_errorcode(unavailable());
      break;
    case RequestKind::kSwitchExtendedEpidGroup:
      res.mutable_sgxswitchextendedepidgroupres()->set_errorcode(unavailable());
      break;
    case RequestKind::kRegister: res.mutable_sgxregisterres()->set_errorcode(unavailable()); break;
    case RequestKind::kCheckUpdateStatus:
      res.mutable_checkupdatestatusres()->set_errorcode(unavailable());
      break;

    case RequestKind::kGetSupportedAttKeyIdNum: {
      auto* r = res.mutable_getsupportedattkeyidnumres();
      r->set_att_key_id_num(uint32_t(backend.SupportedKeyIds().size()));
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
    case RequestKind::kGetSupportedAttKeyIds: {
      auto* r = res.mutable_getsupportedattkeyidsres();
      auto ids = backend.SupportedKeyIds();
      uint32_t want = uint32_t(ids.size() * sgx::kAttKeyIdSize);
      if (req.getsupportedattkeyidsreq().buf_size() != want) {
        r->set_errorcode(
            fail({AesmError::kParameter,
                  "buf_size " + std::to_string(req.getsupportedattkeyidsreq().buf_size()) +
                      " must equal " + std::to_string(ids.size()) + " x 256"}));
        break;
      }
      std::string all;
      for (const auto& id : ids) all.append(reinterpret_cast<const char*>(id.data()), id.size());
      r->set_att_key_ids(all);
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
    case RequestKind::kSelectAttKeyId: {
      auto* r = res.mutable_selectattkeyidres();
      const auto& sel = req.selectattkeyidreq();
      auto ids = backend.SupportedKeyIds();
      if (!sel.has_att_key_id_list() || sel.att_key_id_list().empty()) {
        // No preference: the platform's default key.
        r->set_selected_att_key_id(std::string(ids.front().begin(), ids.front().end()));
        r->set_errorcode(uint32_t(AesmError::kSuccess));
        break;
      }
      auto list = sgx::ParseAttKeyIdList(AsBytes(sel.att_key_id_list()));
      if (!list.ok()) {
        r->set_errorcode(fail({AesmError::kParameter, list.status().message()}));
        break;
      }
      const sgx::AttKeyId* chosen = nullptr;
      for (const auto& wanted : *list) {
        for (const auto& id : ids) {
          if (sgx::SameKeyBase(id, wanted)) chosen = &wanted;
        }
        if (chosen != nullptr) break;
      }
      if (chosen == nullptr) {
        r->set_errorcode(fail(
            {AesmError::kUnsupportedAttKeyId, "none of the " + std::to_string(list->size()) +
                                                  " requested key ids is supported (first: " +
                                                  sgx::DescribeAttKeyId(list->front()) + ")"}));
        break;
      }
      r->set_selected_att_key_id(std::string(chosen->begin(), chosen->end()));
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
    case RequestKind::kInitQuoteEx: {
      auto* r = res.mutable_initquoteexres();
      const auto& in = req.initquoteexreq();
      sgx::AttKeyId key{};
      if (auto e = CheckKeyId(backend, in.has_att_key_id(), in.att_key_id(), &key); !e.ok()) {
        r->set_errorcode(fail(std::move(e)));
        break;
      }
      auto info = backend_->Init(key);
      if (!info.ok()) {
        r->set_errorcode(fail(info.error()));
        break;
      }
      auto ti = info->qe_target_info.Encode();
      r->set_target_info(std::string(ti.begin(), ti.end()));
      r->set_pub_key_id_size(info->pub_key_id.size());
      if (in.b_pub_key_id()) {
        if (in.buf_size() < info->pub_key_id.size()) {
          r->set_errorcode(
              fail({AesmError::kParameter, "pub_key_id buffer of " + std::to_string(in.buf_size()) +
                                               " bytes is smaller than " +
                                               std::to_string(info->pub_key_id.size())}));
          break;
        }
        r->set_pub_key_id(std::string(info->pub_key_id.begin(), info->pub_key_id.end()));
      }
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
    case RequestKind::kGetQuoteSizeEx: {
      auto* r = res.mutable_getquotesizeexres();
      const auto& in = req.getquotesizeexreq();
      sgx::AttKeyId key{};
      if (auto e = CheckKeyId(backend, in.has_att_key_id(), in.att_key_id(), &key); !e.ok()) {
        r->set_errorcode(fail(std::move(e)));
        break;
      }
      auto size = backend_->QuoteSize(key);
      if (!size.ok()) {
        r->set_errorcode(fail(size.error()));
        break;
      }
      r->set_quote_size(*size);
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
    case RequestKind::kGetQuoteEx: {
      auto* r = res.mutable_getquoteexres();
      const auto& in = req.getquoteexreq();
      // Like aesmd, hand qe_report_info back whenever it came, filled in on success.
      if (in.has_qe_report_info()) r->set_qe_report_info(in.qe_report_info());
      sgx::AttKeyId key{};
      if (in.report().size() != sgx::Report::kSize) {
        r->set_errorcode(fail({AesmError::kParameter, "report must be 432 bytes, got " +
                                                          std::to_string(in.report().size())}));
        break;
      }
      if (auto e = CheckKeyId(backend, in.has_att_key_id(), in.att_key_id(), &key); !e.ok()) {
        r->set_errorcode(fail(std::move(e)));
        break;
      }
      std::optional<sgx::QeReportInfo> qe_info;
      if (in.has_qe_report_info()) {
        auto decoded = sgx::QeReportInfo::Decode(AsBytes(in.qe_report_info()));
        if (!decoded.ok()) {
          r->set_errorcode(fail({AesmError::kParameter, decoded.status().message()}));
          break;
        }
        qe_info = *decoded;
      }
      auto quote = backend_->Quote(AsBytes(in.report()), key, qe_info ? &*qe_info : nullptr);
      if (!quote.ok()) {
        r->set_errorcode(fail(quote.error()));
        break;
      }
      if (quote->size() > in.buf_size()) {
        r->set_errorcode(fail({AesmError::kParameter,
                               "quote buffer of " + std::to_string(in.buf_size()) +
                                   " bytes is too small for the " + std::to_string(quote->size()) +
                                   "-byte quote (ask GetQuoteSizeEx)"}));
        break;
      }
      // aesmd pads the quote with zeros to buf_size and Intel's client copies quote().size()
      // bytes, so apps that size their buffer with GetQuoteSizeEx find its tail zeroed. We pad
      // only up to the size the backend announced for this key (never what the client names,
      // which would let it size our replies), within kMaxQuotePadding.
      // (Asked only when the buffer has room beyond the quote; if the backend cannot say now,
      // e.g. BUSY, the quote goes unpadded: Intel's client still copies it correctly.)
      std::string padded(AsChars(*quote));
      if (padded.size() < in.buf_size()) {
        if (auto announced = backend_->QuoteSize(key); announced.ok()) {
          size_t target = std::min<size_t>({in.buf_size(), *announced, kMaxQuotePadding});
          if (target > padded.size()) padded.resize(target, '\0');
        }
      }
      r->set_quote(std::move(padded));
      if (qe_info) {
        auto encoded = qe_info->Encode();
        r->set_qe_report_info(std::string(encoded.begin(), encoded.end()));
      }
      r->set_errorcode(uint32_t(AesmError::kSuccess));
      break;
    }
  }
  return res;
}

}  // namespace confcom::helper
