// How Intel's client turns AESM replies and transport failures into sgx_status_t: a common
// table, then per-call overrides for codes the common table leaves UNEXPECTED
// (docs/aesm-protocol.md has both tables). Pure functions: safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "aesm/protocol.h"
#include "common/status.h"

namespace confcom::quote_ex {

enum class Call {
  kSelectAttKeyId,
  kInitQuoteEx,
  kGetQuoteSizeEx,
  kGetQuoteEx,
  kGetSupportedAttKeyIdNum,
  kGetSupportedAttKeyIds
};

// errorCode of a response -> sgx_status_t, as the named call returns it.
uint32_t MapAesmError(Call call, uint32_t aesm_error);
// A failed exchange (no usable reply) -> sgx_status_t: SERVICE_UNAVAILABLE when nothing
// answers, SERVICE_TIMEOUT for a timeout, INVALID_PARAMETER for a request that cannot be
// sent, UNEXPECTED otherwise.
uint32_t MapTransportError(const Status& status);

}  // namespace confcom::quote_ex

namespace confcom::quote_ex {
// "SGX_ERROR_SERVICE_UNAVAILABLE" etc.; "SGX_ERROR_0x...." for codes we do not name.
std::string SgxStatusName(uint32_t status);
}  // namespace confcom::quote_ex
