#include "verify/quote_platform.h"

#include "sgx/quote_v3.h"

namespace confcom::verify {

Result<QuotePlatform> ReadQuotePlatform(ByteSpan quote) {
  auto parsed = sgx::ParseQuoteV3(quote);
  if (!parsed.ok()) return parsed.status().WithContext("quote");
  const sgx::QuoteV3& q = parsed->quote;
  if (q.cert_data_type != sgx::kCertDataPckChain) {
    return Status::InvalidArgument(
        "quote: certification data type " + std::to_string(q.cert_data_type) + " (" +
        sgx::CertDataTypeName(q.cert_data_type) +
        ") is not the PCK certificate chain (5): the platform's FMSPC cannot be read");
  }
  if (q.cert_data.size() > kMaxPckChainPem) {
    return Status::InvalidArgument("quote: the PCK certificate chain is " +
                                   std::to_string(q.cert_data.size()) + " bytes, over the " +
                                   std::to_string(kMaxPckChainPem) + " a PCK chain takes");
  }
  auto chain = pki::Certificate::ChainFromPem(AsChars(q.cert_data));
  if (!chain.ok()) return chain.status().WithContext("quote: PCK certificate chain");
  if (chain->size() < 2) {
    return Status::InvalidArgument(
        "quote: the PCK certificate chain holds 1 certificate; the PCK certificate and its CA "
        "are needed");
  }
  QuotePlatform p;
  p.pck_certificate = (*chain)[0];
  p.pck_ca_certificate = (*chain)[1];
  auto ext = p.pck_certificate.SgxExt();
  if (!ext.ok()) {
    return Status::InvalidArgument("quote: cannot read the FMSPC from the PCK certificate (" +
                                   p.pck_certificate.Subject() + "): " + ext.status().message());
  }
  p.fmspc = ext->fmspc;
  std::string issuer = p.pck_ca_certificate.SubjectCommonName();
  auto ca = pki::PckCaFromCommonName(issuer);
  if (!ca) {
    return Status::InvalidArgument("quote: the PCK certificate's CA is '" + issuer +
                                   "', not Intel's Processor or Platform CA");
  }
  p.ca = *ca;
  return p;
}

}  // namespace confcom::verify
