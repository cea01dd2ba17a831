#include "sgxctl/error_advice.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace confcom::sgxctl {

const std::vector<ErrorAdvice>& AllErrorAdvice() {
  static const std::vector<ErrorAdvice> table = {
      {0x2006, "SGX_ERROR_NO_DEVICE",
       "the SGX device (/dev/sgx_enclave) cannot be opened: no SGX on the node, or the container did not get the device",
       "request sgx.intel.com/epc: the webhook adds sgx.intel.com/enclave, which gives the container the device (legacy layout: request kubernetes.azure.com/sgx_epc_mem_in_MiB); run `sgxctl doctor` on the node"},
      {0x3001, "SGX_ERROR_MAC_MISMATCH",
       "the app's report was not made for the helper's quoting enclave target info",
       "get the target info from sgx_init_quote_ex in the same process and make the report for it; use one mode (in-proc or out-of-proc)"},
      {0x4001, "SGX_ERROR_SERVICE_UNAVAILABLE",
       "no AESM service answers on the socket (/var/run/aesmd/aesm.socket)",
       "check the sgx-quote-helper pod on the node is Ready and the app container has /var/run/aesmd (the device plugin mounts it read-only with the enclave device when the quote-helper component is on; the webhook adds SGX_AESM_ADDR=1 to a pod annotated sgx.intel.com/quote-provider: aesmd; legacy layout: a hostPath mount); `sgxctl ping`"},
      {0x4002, "SGX_ERROR_SERVICE_TIMEOUT", "the AESM service did not answer in time",
       "look at the helper's log and load (confcom_quote_helper_* metrics); retry"},
      {0x4004, "SGX_ERROR_SERVICE_INVALID_PRIVILEGE",
       "enclave not authorized to run, e.g. the provisioning enclave in a process that cannot open /dev/sgx_provision",
       "give the quote helper /dev/sgx_provision: request sgx.intel.com/provision (legacy layout: kubernetes.azure.com/sgx_provision), and run it with the device's group (sgx_prv) in supplementalGroups"},
      {0x400A, "SGX_ERROR_BUSY",
       "the quote service is temporarily busy (queue full or this client over its share)",
       "retry with backoff; see the helper log for which limit refused it"},
      {0x8001, "SGX_ERROR_UNSUPPORTED_ATT_KEY_ID",
       "the platform's quoting does not support the requested attestation key",
       "ask for ECDSA P-256 (sgx_select_att_key_id's default); EPID is not served"},
      {0x8002, "SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE",
       "the attestation key could not be generated and certified",
       "check the PCE can run (/dev/sgx_provision access) and the quote provider reaches the PCCS (`sgxctl doctor`)"},
      {0x8005, "SGX_ERROR_PLATFORM_CERT_UNAVAILABLE",
       "the PCK certificate for the platform is not available",
       "register the platform with the PCCS, or use Azure's cache on Azure (deploy/components/quote-helper brings its config)"},
      {0xB003, "SGX_QCNL_NETWORK_ERROR",
       "the quote provider's network library failed to fetch from the PCCS",
       "check pccs_url in /etc/sgx_default_qcnl.conf answers from the node (`sgxctl doctor`)"},
      {0xB004, "SGX_QCNL_NETWORK_PROXY_FAIL", "the proxy's name could not be resolved",
       "fix https_proxy/HTTPS_PROXY in the helper's environment, or remove it"},
      {0xB005, "SGX_QCNL_NETWORK_HOST_FAIL", "the PCCS host name in pccs_url could not be resolved",
       "check the name in /etc/sgx_default_qcnl.conf and the pod's DNS"},
      {0xB006, "SGX_QCNL_NETWORK_COULDNT_CONNECT",
       "connect() to the PCCS (or proxy) failed: nothing listens, or a firewall drops it",
       "check host and port of pccs_url; from the node, `sgxctl doctor` reports whether it answers"},
      {0xB009, "SGX_QCNL_NETWORK_OPERATION_TIMEDOUT", "the request to the PCCS timed out",
       "check the network path to the PCCS and its load; raise retry_times/retry_delay in the QCNL config"},
      {0xB00A, "SGX_QCNL_NETWORK_HTTPS_ERROR",
       "the TLS handshake with the PCCS failed (often a self-signed PCCS certificate)",
       "give the PCCS a certificate the node trusts, or (test only) set \"use_secure_cert\": false"},
      {0xB010, "SGX_QCNL_ERROR_STATUS_PLATFORM_UNKNOWN", "the PCCS does not know this platform",
       "register the platform with the PCCS (Intel's PCK ID retrieval tool), or use Azure's cache on Azure"},
      {0xB030, "SGX_QCNL_INVALID_CONFIG", "/etc/sgx_default_qcnl.conf is not valid",
       "fix the file (JSON; keys are case-sensitive); `sgxctl doctor` names the problem"},
      {0xE00B, "SGX_QL_UNSUPPORTED_ATT_KEY_ID",
       "the quoting enclave does not support the requested attestation key id",
       "ask for ECDSA P-256 (the default of sgx_select_att_key_id)"},
      {0xE00E, "SGX_QL_PLATFORM_LIB_UNAVAILABLE",
       "no quote provider library (libdcap_quoteprov.so.1) was found",
       "use the -dcap helper image, which carries Intel's quote provider (libsgx-dcap-default-qpl)"},
      {0xE011, "SGX_QL_NO_PLATFORM_CERT_DATA",
       "the quote provider has no PCK certificate data for this platform",
       "register the platform with the PCCS, or point pccs_url at a cache that has it (Azure: deploy/components/quote-helper brings its config)"},
      {0xE012, "SGX_QL_OUT_OF_EPC", "not enough EPC to load the quoting enclaves",
       "raise the helper's EPC request or free EPC on the node"},
      {0xE016, "SGX_QL_ENCLAVE_LOAD_ERROR",
       "the quoting or provisioning enclave could not be loaded",
       "check the enclave device and /dev/sgx_provision are present and openable (`sgxctl doctor`)"},
      {0xE019, "SGX_QL_NETWORK_ERROR",
       "network error while the quote provider fetched the PCK certificates",
       "check pccs_url in /etc/sgx_default_qcnl.conf answers from the node (`sgxctl doctor`); proxy and TLS settings"},
      {0xE01A, "SGX_QL_MESSAGE_ERROR",
       "the PCCS's answer with the PCK certificates could not be used",
       "check the PCCS's log and that pccs_url names the right API version path (/sgx/certification/v4/)"},
      {0xE035, "SGX_QL_ERROR_INVALID_PRIVILEGE", "not enough privilege to perform the operation",
       "check the helper's user can open the SGX devices (`sgxctl doctor`)"},
      {0xE03F, "SGX_QL_NO_DEVICE", "no SGX device",
       "run on an SGX node with the device from the device plugin (request sgx.intel.com/epc; the webhook adds sgx.intel.com/enclave)"},
      {0xE040, "SGX_QL_SERVICE_UNAVAILABLE", "the out-of-process quote service did not answer",
       "check the sgx-quote-helper pod and the /var/run/aesmd mount"},
      {0xE041, "SGX_QL_NETWORK_FAILURE",
       "network connection or proxy setting issue (out-of-process)",
       "check the PCCS is reachable from the helper (`sgxctl doctor`)"},
      {0xE043, "SGX_QL_ERROR_BUSY", "the quote service is temporarily not available",
       "retry with backoff"},
      {0xE044, "SGX_QL_UNKNOWN_MESSAGE_RESPONSE",
       "the collateral cache (PCCS or Azure's cache) answered with an unexpected error",
       "check the PCCS's log: an Intel PCS API key missing, the PCCS not synchronised, or a wrong API version in pccs_url"},
      {0xE047, "SGX_QL_PLATFORM_UNKNOWN", "the cache does not know this platform",
       "register the platform with the PCCS, or use Azure's cache on Azure"},
      {0xE049, "SGX_QL_CERTS_UNAVAILABLE", "certificates are not available for this platform",
       "register the platform with the PCCS; check the PCCS reaches Intel's PCS"},
  };
  return table;
}

const ErrorAdvice* FindErrorAdvice(uint32_t code) {
  for (const auto& a : AllErrorAdvice()) {
    if (a.code == code) return &a;
  }
  return nullptr;
}

Result<uint32_t> ParseErrorCode(const std::string& text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return char(std::toupper(c)); });
  for (const auto& a : AllErrorAdvice()) {
    if (upper == a.name) return a.code;
  }
  std::string hex = upper.rfind("0X", 0) == 0 ? upper.substr(2) : upper;
  if (hex.empty() || hex.size() > 8 ||
      !std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); })) {
    return Status::InvalidArgument("'" + text +
                                   "' is not an error code (hex, e.g. 0xe019) or a known name");
  }
  return uint32_t(std::stoul(hex, nullptr, 16));
}

std::string RenderErrorAdvice(const ErrorAdvice& a) {
  return fmt::format("0x{:04X} {}\n  cause: {}\n  fix:   {}\n", a.code, a.name, a.cause, a.fix);
}

}  // namespace confcom::sgxctl
