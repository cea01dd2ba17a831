#include "sgxctl/commands/common.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "aesm/client.h"
#include "sgxctl/error_advice.h"
#include "quote_ex/error_map.h"
#include "sgx/att_key_id.h"

namespace confcom::sgxctl {

int Fail(const std::string& message) {
  std::fprintf(stderr, "sgxctl: %s\n", message.c_str());
  return 1;
}

int FailCall(const char* call, sgx_status_t st, const std::string& socket) {
  std::string hint;
  if (st == SGX_ERROR_SERVICE_UNAVAILABLE) {
    hint = " (is sgx-quote-helper running and serving " + socket + "?)";
  } else if (st == SGX_ERROR_MAC_MISMATCH) {
    hint = " (the report was not made for the helper's quoting enclave target info)";
  }
  Fail(std::string(call) + " failed: " + quote_ex::SgxStatusName(st) + hint);
  // The code's one-line fix (sgxctl/error_advice.h), as `sgxctl explain` prints it.
  if (const ErrorAdvice* advice = FindErrorAdvice(uint32_t(st))) {
    std::fprintf(stderr, "sgxctl: fix: %s\n", advice->fix);
  }
  return 1;
}

void AddSocketFlag(CLI::App& sub, std::string& socket) {
  sub.add_option("--socket", socket,
                 "AESM socket (default: $CONFCOM_AESM_SOCKET or /var/run/aesmd/aesm.socket)");
}

void UseSocket(const std::string& socket) {
  if (!socket.empty()) ::setenv(aesm::kSocketPathEnv, socket.c_str(), 1);
}

std::string EffectiveSocket() { return aesm::SocketPathFromEnv(); }

Status PingHelper(const std::string& socket) {
  uint32_t n = 0;
  if (sgx_status_t s = sgx_get_supported_att_key_id_num(&n); s) {
    return Status::Unavailable("sgx_get_supported_att_key_id_num: " + quote_ex::SgxStatusName(s) +
                               " (" + socket + ")");
  }
  if (n == 0 || n > 64)
    return Status::Corruption("the service reports " + std::to_string(n) + " key ids");
  std::vector<sgx_att_key_id_ext_t> ids(n);
  if (sgx_status_t s = sgx_get_supported_att_key_ids(ids.data(), n); s) {
    return Status::Unavailable("sgx_get_supported_att_key_ids: " + quote_ex::SgxStatusName(s));
  }
  sgx::AttKeyId want = sgx::EcdsaP256AttKeyId();
  for (const auto& id : ids) {
    if (sgx::SameKeyBase({reinterpret_cast<const uint8_t*>(&id), sizeof id}, want))
      return Status::Ok();
  }
  return Status::Unsupported(socket + " answers but offers no ECDSA P-256 attestation key");
}

}  // namespace confcom::sgxctl
