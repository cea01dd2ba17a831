// Which platform made a quote, as a PCCS indexes collateral: the FMSPC from the SGX extension of
// the PCK certificate in the quote's certification data, and the PCK CA (the `ca` of /pckcrl)
// from the common name of that certificate's issuer. Read only: nothing here is verified.
// Pure functions: safe from any thread.
#pragma once

#include "common/bytes.h"
#include "common/status.h"
#include "pki/x509.h"
#include "sgx/types.h"

namespace confcom::verify {

// Certification data over this is refused before OpenSSL parses it: Intel's PCK chain is about
// 3.5 KiB of PEM (three certificates of ~1.2 KiB), so 16 KiB leaves room to spare.
inline constexpr size_t kMaxPckChainPem = 16 << 10;

struct QuotePlatform {
  sgx::Array<6> fmspc{};
  pki::PckCa ca = pki::PckCa::kPlatform;
  pki::Certificate pck_certificate;     // the leaf
  pki::Certificate pck_ca_certificate;  // its issuer, as the quote carries it
};

// Reads the platform of a DCAP v3 quote. Errors: InvalidArgument saying what cannot be read (the
// quote, certification data that is not a PCK chain or is over kMaxPckChainPem, the leaf's SGX
// extension, an issuer that is not Intel's Platform or Processor CA).
Result<QuotePlatform> ReadQuotePlatform(ByteSpan quote);

}  // namespace confcom::verify
