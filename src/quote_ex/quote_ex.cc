// libsgx_quote_ex.so.1: Intel's out-of-proc quote API over the AESM socket.
//
// Each call opens one connection, sends one request, reads one reply, as Intel's client
// does; parameter checks, what is copied back and the error mapping follow Intel's client
// (docs/aesm-protocol.md). The socket path is Intel's compiled-in
// /var/run/aesmd/aesm.socket unless $CONFCOM_AESM_SOCKET names another (a confcom extension).
// Set CONFCOM_QUOTE_EX_DEBUG=1 to print why a call failed on stderr.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "aesm/client.h"
#include "quote_ex/error_map.h"
#include "quote_ex/sgx_uae_quote_ex.h"

namespace {

using confcom::Status;
using confcom::quote_ex::Call;
using confcom::quote_ex::MapAesmError;
using confcom::quote_ex::MapTransportError;
namespace msg = confcom::aesm::message;

static_assert(sizeof(sgx_target_info_t) == 512);
static_assert(sizeof(sgx_report_body_t) == 384);
static_assert(sizeof(sgx_report_t) == 432);
static_assert(sizeof(sgx_ql_att_key_id_t) == 158);
static_assert(sizeof(sgx_att_key_id_ext_t) == 256);
static_assert(sizeof(sgx_att_key_id_t) == 256);
static_assert(sizeof(sgx_qe_report_info_t) == 960);

constexpr uint32_t kTimeoutMs = 15000;

void Debug(const char* call, const std::string& why) {
  const char* env = std::getenv("CONFCOM_QUOTE_EX_DEBUG");
  if (env != nullptr && *env != '\0' && *env != '0') {
    std::fprintf(stderr, "libsgx_quote_ex: %s: %s\n", call, why.c_str());
  }
}

// Sends `request`; on success stores the reply in `response`. Returns the sgx_status_t of a
// transport failure, or SGX_SUCCESS.
sgx_status_t Exchange(const char* call, const msg::Request& request, msg::Response* response) {
  confcom::aesm::ClientOptions options;
  options.socket_path = confcom::aesm::SocketPathFromEnv();
  options.timeout = std::chrono::milliseconds(kTimeoutMs);
  options.max_frame_size = 16u << 20;  // replies carry the whole quote buffer
  auto reply = confcom::aesm::Call(options, request);
  if (!reply.ok()) {
    Debug(call, reply.status().ToString());
    return MapTransportError(reply.status());
  }
  *response = std::move(reply).value();
  return SGX_SUCCESS;
}

// The reply must carry the sub-message matching the request (Intel's client would crash
// without it; we report UNEXPECTED instead).
sgx_status_t Finish(const char* call, Call kind, bool has_field, uint32_t error_code) {
  if (!has_field) {
    Debug(call, "reply lacks the matching response message");
    return SGX_ERROR_UNEXPECTED;
  }
  sgx_status_t status = MapAesmError(kind, error_code);
  if (status != SGX_SUCCESS) {
    Debug(call, "service answered errorCode " + std::to_string(error_code));
  }
  return status;
}

template <typename T>
bool CopyIfFits(const std::string& from, T* to, size_t capacity) {
  if (from.size() > capacity) return false;
  std::memcpy(to, from.data(), from.size());
  return true;
}

}  // namespace

extern "C" {

sgx_status_t sgx_select_att_key_id(const uint8_t* p_att_key_id_list, uint32_t att_key_id_list_size,
                                   sgx_att_key_id_t* p_selected_key_id) {
  if ((p_att_key_id_list == nullptr && att_key_id_list_size != 0) || p_selected_key_id == nullptr) {
    return SGX_ERROR_INVALID_PARAMETER;
  }
  msg::Request req;
  auto* r = req.mutable_selectattkeyidreq();
  if (p_att_key_id_list != nullptr && att_key_id_list_size != 0) {
    r->set_att_key_id_list(p_att_key_id_list, att_key_id_list_size);
  }
  r->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  sgx_status_t st = Finish(__func__, Call::kSelectAttKeyId, res.has_selectattkeyidres(),
                           res.selectattkeyidres().errorcode());
  if (st != SGX_SUCCESS) return st;
  if (!CopyIfFits(res.selectattkeyidres().selected_att_key_id(), p_selected_key_id,
                  sizeof *p_selected_key_id)) {
    return SGX_ERROR_UNEXPECTED;
  }
  return SGX_SUCCESS;
}

sgx_status_t sgx_init_quote_ex(const sgx_att_key_id_t* p_att_key_id,
                               sgx_target_info_t* p_qe_target_info, size_t* p_pub_key_id_size,
                               uint8_t* p_pub_key_id) {
  if (p_pub_key_id_size == nullptr || p_qe_target_info == nullptr || p_att_key_id == nullptr ||
      (p_pub_key_id != nullptr && (*p_pub_key_id_size == 0 || *p_pub_key_id_size >= UINT32_MAX))) {
    return SGX_ERROR_INVALID_PARAMETER;
  }
  msg::Request req;
  auto* r = req.mutable_initquoteexreq();
  r->set_att_key_id(p_att_key_id, sizeof *p_att_key_id);
  r->set_b_pub_key_id(p_pub_key_id != nullptr);
  if (*p_pub_key_id_size != 0) r->set_buf_size(*p_pub_key_id_size);
  r->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  const auto& out = res.initquoteexres();
  sgx_status_t st = Finish(__func__, Call::kInitQuoteEx, res.has_initquoteexres(), out.errorcode());
  if (st != SGX_SUCCESS) return st;
  if (!CopyIfFits(out.target_info(), p_qe_target_info, sizeof *p_qe_target_info)) {
    return SGX_ERROR_UNEXPECTED;
  }
  size_t buf_size = *p_pub_key_id_size;
  *p_pub_key_id_size = size_t(out.pub_key_id_size());
  if (p_pub_key_id != nullptr && out.pub_key_id().size() == out.pub_key_id_size() &&
      !CopyIfFits(out.pub_key_id(), p_pub_key_id, buf_size)) {
    return SGX_ERROR_UNEXPECTED;
  }
  return SGX_SUCCESS;
}

sgx_status_t sgx_get_quote_size_ex(const sgx_att_key_id_t* p_att_key_id, uint32_t* p_quote_size) {
  if (p_quote_size == nullptr) return SGX_ERROR_INVALID_PARAMETER;
  msg::Request req;
  auto* r = req.mutable_getquotesizeexreq();
  if (p_att_key_id != nullptr) r->set_att_key_id(p_att_key_id, sizeof *p_att_key_id);
  r->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  sgx_status_t st = Finish(__func__, Call::kGetQuoteSizeEx, res.has_getquotesizeexres(),
                           res.getquotesizeexres().errorcode());
  if (st != SGX_SUCCESS) return st;
  *p_quote_size = res.getquotesizeexres().quote_size();
  return SGX_SUCCESS;
}

sgx_status_t sgx_get_quote_ex(const sgx_report_t* p_app_report,
                              const sgx_att_key_id_t* p_att_key_id,
                              sgx_qe_report_info_t* p_qe_report_info, uint8_t* p_quote,
                              uint32_t quote_size) {
  if (p_app_report == nullptr || p_att_key_id == nullptr || p_quote == nullptr || quote_size == 0) {
    return SGX_ERROR_INVALID_PARAMETER;
  }
  msg::Request req;
  auto* r = req.mutable_getquoteexreq();
  r->set_report(p_app_report, sizeof *p_app_report);
  r->set_att_key_id(p_att_key_id, sizeof *p_att_key_id);
  if (p_qe_report_info != nullptr)
    r->set_qe_report_info(p_qe_report_info, sizeof *p_qe_report_info);
  r->set_buf_size(quote_size);
  r->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  const auto& out = res.getquoteexres();
  sgx_status_t st = Finish(__func__, Call::kGetQuoteEx, res.has_getquoteexres(), out.errorcode());
  if (st != SGX_SUCCESS) return st;
  if (!CopyIfFits(out.quote(), p_quote, quote_size)) return SGX_ERROR_UNEXPECTED;
  if (p_qe_report_info != nullptr &&
      !CopyIfFits(out.qe_report_info(), p_qe_report_info, sizeof *p_qe_report_info)) {
    return SGX_ERROR_UNEXPECTED;
  }
  return SGX_SUCCESS;
}

sgx_status_t sgx_get_supported_att_key_id_num(uint32_t* p_att_key_id_num) {
  if (p_att_key_id_num == nullptr) return SGX_ERROR_INVALID_PARAMETER;
  msg::Request req;
  req.mutable_getsupportedattkeyidnumreq()->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  sgx_status_t st =
      Finish(__func__, Call::kGetSupportedAttKeyIdNum, res.has_getsupportedattkeyidnumres(),
             res.getsupportedattkeyidnumres().errorcode());
  if (st != SGX_SUCCESS) return st;
  *p_att_key_id_num = res.getsupportedattkeyidnumres().att_key_id_num();
  return SGX_SUCCESS;
}

sgx_status_t sgx_get_supported_att_key_ids(sgx_att_key_id_ext_t* p_att_key_id_list,
                                           uint32_t att_key_id_num) {
  if (p_att_key_id_list == nullptr || att_key_id_num == 0 ||
      att_key_id_num > UINT32_MAX / sizeof(sgx_att_key_id_ext_t)) {
    return SGX_ERROR_INVALID_PARAMETER;
  }
  uint32_t buf_size = att_key_id_num * uint32_t(sizeof(sgx_att_key_id_ext_t));
  msg::Request req;
  auto* r = req.mutable_getsupportedattkeyidsreq();
  r->set_buf_size(buf_size);
  r->set_timeout(kTimeoutMs);
  msg::Response res;
  if (sgx_status_t st = Exchange(__func__, req, &res); st != SGX_SUCCESS) return st;
  sgx_status_t st =
      Finish(__func__, Call::kGetSupportedAttKeyIds, res.has_getsupportedattkeyidsres(),
             res.getsupportedattkeyidsres().errorcode());
  if (st != SGX_SUCCESS) return st;
  if (!CopyIfFits(res.getsupportedattkeyidsres().att_key_ids(), p_att_key_id_list, buf_size)) {
    return SGX_ERROR_UNEXPECTED;
  }
  return SGX_SUCCESS;
}

}  // extern "C"
