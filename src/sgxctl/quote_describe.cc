#include "sgxctl/quote_describe.h"

#include <ctime>

#include "common/time_format.h"
#include "pki/x509.h"
#include "sim/platform.h"

namespace confcom::sgxctl {

using Json = nlohmann::ordered_json;

namespace {

Json FlagNames(uint64_t flags) {
  Json names = Json::array();
  const std::pair<uint64_t, const char*> known[] = {{sgx::kFlagInitted, "INITTED"},
                                                    {sgx::kFlagDebug, "DEBUG"},
                                                    {sgx::kFlagMode64Bit, "MODE64BIT"},
                                                    {sgx::kFlagProvisionKey, "PROVISION_KEY"},
                                                    {sgx::kFlagEinitTokenKey, "EINITTOKEN_KEY"}};
  for (auto [bit, name] : known) {
    if (flags & bit) names.push_back(name);
  }
  return names;
}

Json DescribeCert(const pki::Certificate& cert) {
  Json c;
  c["subject"] = cert.Subject();
  c["issuer"] = cert.Issuer();
  c["serial"] = cert.SerialHex();
  c["not_before"] = FormatRfc3339(cert.NotBefore());
  c["not_after"] = FormatRfc3339(cert.NotAfter());
  c["simulated"] = sim::CarriesSimMarker(cert);
  if (auto ext = cert.SgxExt(); ext.ok()) {
    Json e;
    e["ppid"] = ToHex(ext->ppid);
    Json comps = Json::array();
    for (uint8_t v : ext->tcb.components) comps.push_back(v);
    e["tcb_components"] = comps;
    e["pcesvn"] = ext->tcb.pcesvn;
    e["cpusvn"] = ToHex(ext->tcb.cpusvn);
    e["pce_id"] = ToHex(ext->pce_id);
    e["fmspc"] = ToHex(ext->fmspc);
    e["sgx_type"] = ext->sgx_type == 0 ? "Standard" : ext->sgx_type == 1 ? "Scalable" : "unknown";
    if (ext->platform_instance_id) e["platform_instance_id"] = ToHex(*ext->platform_instance_id);
    if (ext->configuration) {
      e["configuration"] = {{"dynamic_platform", ext->configuration->dynamic_platform},
                            {"cached_keys", ext->configuration->cached_keys},
                            {"smt_enabled", ext->configuration->smt_enabled}};
    }
    c["sgx_extension"] = e;
  } else if (ext.status().code() != Status::Code::kNotFound) {
    c["sgx_extension_error"] = ext.status().message();
  }
  return c;
}

}  // namespace

Json DescribeReportBody(const sgx::ReportBody& b) {
  Json j;
  j["cpu_svn"] = ToHex(b.cpu_svn);
  j["misc_select"] = b.misc_select;
  j["isv_ext_prod_id"] = ToHex(b.isv_ext_prod_id);
  j["attributes"] = {{"flags", b.attributes.flags},
                     {"flag_names", FlagNames(b.attributes.flags)},
                     {"xfrm", b.attributes.xfrm}};
  j["mr_enclave"] = ToHex(b.mr_enclave);
  j["mr_signer"] = ToHex(b.mr_signer);
  j["config_id"] = ToHex(b.config_id);
  j["isv_prod_id"] = b.isv_prod_id;
  j["isv_svn"] = b.isv_svn;
  j["config_svn"] = b.config_svn;
  j["isv_family_id"] = ToHex(b.isv_family_id);
  j["report_data"] = ToHex(b.report_data);
  return j;
}

Json DescribeQuote(const sgx::ParsedQuote& parsed) {
  const sgx::QuoteV3& q = parsed.quote;
  Json j;
  j["size"] = q.EncodedSize();
  Json h;
  h["version"] = q.header.version;
  h["att_key_type"] = q.header.att_key_type;
  h["att_key_type_name"] = q.header.att_key_type == 2 ? "ECDSA-256-with-P-256" : "unknown";
  h["tee_type"] = q.header.tee_type;
  h["qe_svn"] = q.header.qe_svn;
  h["pce_svn"] = q.header.pce_svn;
  h["qe_vendor_id"] = ToHex(q.header.qe_vendor_id);
  h["qe_vendor"] = q.header.qe_vendor_id == sgx::kIntelQeVendorId ? "Intel" : "unknown";
  h["user_data"] = ToHex(q.header.user_data);
  h["qe_id"] = ToHex(ByteSpan(q.header.user_data).first(16));
  j["header"] = h;
  j["app_report"] = DescribeReportBody(q.app_report);
  Json s;
  s["signature_data_size"] = q.SignatureDataSize();
  s["quote_signature"] = ToHex(q.signature);
  s["attestation_public_key"] = ToHex(q.attest_key);
  s["qe_report"] = DescribeReportBody(q.qe_report);
  s["qe_report_signature"] = ToHex(q.qe_report_signature);
  s["qe_auth_data"] = ToHex(q.qe_auth_data);
  Json cert;
  cert["type"] = q.cert_data_type;
  cert["type_name"] = sgx::CertDataTypeName(q.cert_data_type);
  cert["size"] = q.cert_data.size();
  if (q.cert_data_type == sgx::kCertDataPckChain) {
    auto chain = pki::Certificate::ChainFromPem(AsChars(q.cert_data));
    if (chain.ok()) {
      Json certs = Json::array();
      for (const auto& c : *chain) certs.push_back(DescribeCert(c));
      cert["certificates"] = certs;
    } else {
      cert["error"] = chain.status().message();
    }
  }
  s["certification_data"] = cert;
  j["signature_data"] = s;
  bool simulated = false;
  if (cert.contains("certificates")) {
    for (const auto& c : cert["certificates"]) simulated = simulated || c["simulated"].get<bool>();
  }
  j["simulated_platform"] = simulated;
  if (parsed.trailing_bytes > 0) {
    j["trailing_bytes"] = parsed.trailing_bytes;
    j["trailing_bytes_all_zero"] = parsed.trailing_all_zero;
  }
  return j;
}

std::string RenderText(const Json& j, int indent) {
  std::string out;
  std::string pad(size_t(indent) * 2, ' ');
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Json& v = it.value();
    std::string key = j.is_array() ? "-" : it.key() + ":";
    if (v.is_object()) {
      out += pad + key + "\n" + RenderText(v, indent + 1);
    } else if (v.is_array() && !v.empty() && v.front().is_object()) {
      out += pad + key + "\n";
      int n = 0;
      for (const auto& item : v) {
        out += pad + "  [" + std::to_string(n++) + "]\n" + RenderText(item, indent + 2);
      }
    } else if (v.is_string()) {
      out += pad + key + " " + v.get<std::string>() + "\n";
    } else {
      out += pad + key + " " + v.dump() + "\n";
    }
  }
  return out;
}

}  // namespace confcom::sgxctl
