#include "attest/token/claims.h"

#include <fmt/format.h>

#include <algorithm>

namespace confcom::attest {
namespace {

using nlohmann::json;

constexpr uint64_t kFlagKss = 0x80;  // SGX_FLAGS_KSS: the enclave uses key separation and sharing

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

Status CompareHash(std::string_view what, std::string_view field, ByteSpan data,
                   ByteSpan expected32) {
  crypto::Sha256Digest digest = crypto::Sha256(data);
  if (ConstantTimeEqual(digest, expected32)) return Status::Ok();
  return Status::InvalidArgument(fmt::format("{}: SHA-256 {} of its {} bytes is not {}[0..32) {}",
                                             what, ToHex(digest), data.size(), field,
                                             ToHex(expected32)));
}

}  // namespace

Status CheckRuntimeData(const sgx::ReportBody& report, ByteSpan runtime_data) {
  return CompareHash("runtimeData", "REPORTDATA", runtime_data,
                     ByteSpan(report.report_data.data(), 32));
}

Status CheckInitTimeData(const sgx::ReportBody& report, ByteSpan init_time_data) {
  return CompareHash("initTimeData", "CONFIGID", init_time_data,
                     ByteSpan(report.config_id.data(), 32));
}

Result<json> BuildSgxClaims(const SgxClaimsInput& in) {
  if (in.issuer.empty() || in.issuer.back() == '/') {
    return Status::InvalidArgument("claims: issuer must be a URL without a trailing '/'");
  }
  std::array<uint8_t, 32> jti{};
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(jti));
  const sgx::ReportBody& r = in.report;
  const auto iat = static_cast<int64_t>(in.now);

  json c = json::object();
  c["iss"] = in.issuer;
  c["iat"] = iat;
  c["nbf"] = iat;
  c["exp"] = iat + in.lifetime.count();
  c["jti"] = ToHex(jti);  // MAA: 64 lower-case hex digits
  if (in.nonce.has_value()) c["nonce"] = *in.nonce;
  c["x-ms-ver"] = "1.0";
  c["x-ms-attestation-type"] = "sgx";
  c["x-ms-policy-hash"] = in.policy_hash;
  c["x-ms-sgx-is-debuggable"] = (r.attributes.flags & sgx::kFlagDebug) != 0;
  c["x-ms-sgx-mrenclave"] = ToHex(r.mr_enclave);
  c["x-ms-sgx-mrsigner"] = ToHex(r.mr_signer);
  c["x-ms-sgx-product-id"] = r.isv_prod_id;
  c["x-ms-sgx-svn"] = r.isv_svn;
  c["x-ms-sgx-report-data"] = ToHex(r.report_data);
  c["x-ms-sgx-collateral"] = {
      {"qeidcertshash", ToHex(in.collateral.qe_id_certs)},
      {"qeidcrlhash", ToHex(in.collateral.qe_id_crl)},
      {"qeidhash", ToHex(in.collateral.qe_id)},
      {"quotehash", ToHex(in.collateral.quote)},
      {"tcbinfocertshash", ToHex(in.collateral.tcb_info_certs)},
      {"tcbinfocrlhash", ToHex(in.collateral.tcb_info_crl)},
      {"tcbinfohash", ToHex(in.collateral.tcb_info)},
  };
  if (in.runtime_data.has_value()) {
    if (in.runtime_data->type == DataType::kJson) {
      c["x-ms-runtime"] = in.runtime_data->json;
    } else {
      c["x-ms-sgx-ehd"] = Base64UrlEncode(in.runtime_data->data);
    }
  }
  if (in.init_time_data.has_value() && in.init_time_data->type == DataType::kJson) {
    c["x-ms-inittime"] = in.init_time_data->json;
  }
  // KSS claims only for KSS enclaves (MAA: "do not appear if the SGX enclave is not
  // configured with Key Separation and Sharing Support").
  bool kss = (r.attributes.flags & kFlagKss) != 0 || !AllZero(r.config_id) || r.config_svn != 0 ||
             !AllZero(r.isv_ext_prod_id) || !AllZero(r.isv_family_id);
  if (kss) {
    c["x-ms-sgx-config-id"] = ToHex(r.config_id);
    c["x-ms-sgx-config-svn"] = r.config_svn;
    c["x-ms-sgx-isv-extended-product-id"] = ToHex(r.isv_ext_prod_id);
    c["x-ms-sgx-isv-family-id"] = ToHex(r.isv_family_id);
  }
  if (!in.tcb_status.empty()) c[kTcbStatusClaim] = in.tcb_status;
  c[kSimulatedRootClaim] = in.simulated_root;

  if (!in.policy_claims.is_object()) {
    return Status::InvalidArgument("claims: the policy's claims must be a JSON object");
  }
  for (const auto& [name, value] : in.policy_claims.items()) {
    if (c.contains(name)) {
      return Status::InvalidArgument(
          fmt::format("claims: the policy issues \"{}\", which the service sets itself", name));
    }
    c[name] = value;
  }
  return c;
}

}  // namespace confcom::attest
