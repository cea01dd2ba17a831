#include "quote_ex/error_map.h"

#include <gtest/gtest.h>

#include "quote_ex/sgx_uae_quote_ex.h"

namespace confcom::quote_ex {
namespace {

TEST(ErrorMapTest, CommonTableFromTheSpec) {
  for (Call c : {Call::kSelectAttKeyId, Call::kInitQuoteEx, Call::kGetQuoteSizeEx,
                 Call::kGetQuoteEx, Call::kGetSupportedAttKeyIdNum, Call::kGetSupportedAttKeyIds}) {
    EXPECT_EQ(MapAesmError(c, 0), SGX_SUCCESS);
    EXPECT_EQ(MapAesmError(c, 1), SGX_ERROR_UNEXPECTED);
    EXPECT_EQ(MapAesmError(c, 3), SGX_ERROR_INVALID_PARAMETER);
    EXPECT_EQ(MapAesmError(c, 30), SGX_ERROR_SERVICE_UNAVAILABLE);
    EXPECT_EQ(MapAesmError(c, 48), SGX_ERROR_SERVICE_UNAVAILABLE);
    EXPECT_EQ(MapAesmError(c, 18), SGX_ERROR_BUSY);
    EXPECT_EQ(MapAesmError(c, 21), SGX_ERROR_OUT_OF_MEMORY);
    EXPECT_EQ(MapAesmError(c, 2), SGX_ERROR_NO_DEVICE);
    EXPECT_EQ(MapAesmError(c, 12), SGX_ERROR_NETWORK_FAILURE);
    EXPECT_EQ(MapAesmError(c, 9999), SGX_ERROR_UNEXPECTED);
  }
}

TEST(ErrorMapTest, PerCallOverrides) {
  EXPECT_EQ(MapAesmError(Call::kSelectAttKeyId, 38), SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  EXPECT_EQ(MapAesmError(Call::kInitQuoteEx, 38), SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  EXPECT_EQ(MapAesmError(Call::kInitQuoteEx, 50), SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE);
  EXPECT_EQ(MapAesmError(Call::kInitQuoteEx, 44), SGX_ERROR_PLATFORM_CERT_UNAVAILABLE);
  EXPECT_EQ(MapAesmError(Call::kInitQuoteEx, 29), SGX_ERROR_OUT_OF_EPC);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteSizeEx, 42), SGX_ERROR_ATT_KEY_UNINITIALIZED);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteSizeEx, 43), SGX_ERROR_UNEXPECTED);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteEx, 47), SGX_ERROR_MAC_MISMATCH);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteEx, 45), SGX_ERROR_MAC_MISMATCH);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteEx, 38), SGX_ERROR_UNSUPPORTED_ATT_KEY_ID);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteEx, 29), SGX_ERROR_OUT_OF_EPC);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteEx, 49), SGX_ERROR_UNEXPECTED);
  // Overrides apply only to the calls that have them.
  EXPECT_EQ(MapAesmError(Call::kGetSupportedAttKeyIdNum, 38), SGX_ERROR_UNEXPECTED);
  EXPECT_EQ(MapAesmError(Call::kGetQuoteSizeEx, 47), SGX_ERROR_UNEXPECTED);
  EXPECT_EQ(MapAesmError(Call::kSelectAttKeyId, 29), SGX_ERROR_UNEXPECTED);
}

TEST(ErrorMapTest, TransportFailures) {
  EXPECT_EQ(MapTransportError(Status::Unavailable("cannot connect")),
            SGX_ERROR_SERVICE_UNAVAILABLE);
  EXPECT_EQ(MapTransportError(Status::DeadlineExceeded("slow")), SGX_ERROR_SERVICE_TIMEOUT);
  EXPECT_EQ(MapTransportError(Status::IoError("closed")), SGX_ERROR_UNEXPECTED);
  EXPECT_EQ(MapTransportError(Status::Corruption("bad reply")), SGX_ERROR_UNEXPECTED);
}

TEST(ErrorMapTest, Names) {
  EXPECT_EQ(SgxStatusName(SGX_ERROR_MAC_MISMATCH), "SGX_ERROR_MAC_MISMATCH");
  EXPECT_EQ(SgxStatusName(0x1234), "SGX_ERROR_0x1234");
}

}  // namespace
}  // namespace confcom::quote_ex
