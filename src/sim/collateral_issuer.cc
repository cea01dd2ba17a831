#include "sim/collateral_issuer.h"

#include <nlohmann/json.hpp>

#include "pki/crl.h"
#include "sgx/att_key_id.h"

namespace confcom::sim {

namespace {

using Json = nlohmann::ordered_json;

std::time_t Now(const CollateralOptions& o) { return o.now != 0 ? o.now : std::time(nullptr); }
std::time_t NextUpdate(const CollateralOptions& o) {
  return Now(o) + std::time_t(o.validity_days) * 24 * 3600;
}

std::string Upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Json TcbLevelJson(const TcbProfile& p, const std::string& date, const char* status, bool advisory) {
  Json comps = Json::array();
  for (uint8_t svn : p.components) comps.push_back({{"svn", svn}});
  Json level = {{"tcb", {{"sgxtcbcomponents", comps}, {"pcesvn", p.pcesvn}}},
                {"tcbDate", date},
                {"tcbStatus", status}};
  if (advisory) level["advisoryIDs"] = Json::array({kSimAdvisoryId});
  return level;
}

}  // namespace

Result<std::string> SignCollateralObject(const crypto::EcKey& key, std::string_view key_name,
                                         std::string_view object_text) {
  CONFCOM_ASSIGN_OR_RETURN(crypto::RawSignature sig, key.Sign(AsBytes(object_text)));
  return "{\"" + std::string(key_name) + "\":" + std::string(object_text) + ",\"signature\":\"" +
         ToHex(sig) + "\"}";
}

Result<verify::PckCrlBundle> MakeSimPckCrl(const SimPlatform& p, PckCa ca,
                                           const CollateralOptions& o) {
  pki::CrlSpec spec;
  spec.this_update = Now(o) - kSimBackdate;
  spec.next_update = NextUpdate(o);
  spec.extensions.push_back(SimMarkerExtension());
  if (o.revoke_pck && ca == p.info().pck_ca) {
    for (size_t i = 0; i < TcbProfiles().size(); ++i) spec.revoked.push_back(&p.pck_certificate(i));
  }
  CONFCOM_ASSIGN_OR_RETURN(auto crl, pki::IssueCrl(spec, p.ca(ca), p.ca_key(ca)));
  return verify::PckCrlBundle{crl.ToDer(), p.ca(ca).ToPem() + p.root_ca().ToPem()};
}

Result<verify::Collateral> MakeSimCollateral(const SimPlatform& p, const CollateralOptions& o) {
  std::time_t now = Now(o);
  std::time_t next = NextUpdate(o);
  std::string issue = verify::FormatRfc3339(now - kSimBackdate);
  std::string next_update = verify::FormatRfc3339(next);
  std::time_t day = now - kSimBackdate;
  std::string tcb_date = verify::FormatRfc3339(day - day % 86400);
  verify::Collateral c;

  const auto& profiles = TcbProfiles();
  Json levels = Json::array();
  for (const TcbProfile& profile : profiles) {
    bool out_of_date = profile.name == "downgraded";
    levels.push_back(
        TcbLevelJson(profile, tcb_date, out_of_date ? "OutOfDate" : "UpToDate", out_of_date));
  }
  Json tcb_info = {{"id", "SGX"},
                   {"version", 3},
                   {"issueDate", issue},
                   {"nextUpdate", next_update},
                   {"fmspc", Upper(ToHex(p.info().fmspc))},
                   {"pceId", Upper(ToHex(p.info().pce_id))},
                   {"tcbType", 0},
                   {"tcbEvaluationDataNumber", 1},
                   {"tcbLevels", levels}};
  CONFCOM_ASSIGN_OR_RETURN(c.tcb_info_json,
                           SignCollateralObject(p.tcb_signing_key(), "tcbInfo", tcb_info.dump()));

  Json qe_levels = Json::array();
  qe_levels.push_back(
      {{"tcb", {{"isvsvn", kQeIsvSvn}}}, {"tcbDate", tcb_date}, {"tcbStatus", "UpToDate"}});
  qe_levels.push_back({{"tcb", {{"isvsvn", 0}}},
                       {"tcbDate", tcb_date},
                       {"tcbStatus", "OutOfDate"},
                       {"advisoryIDs", Json::array({kSimAdvisoryId})}});
  Json qe_identity = {{"id", "QE"},
                      {"version", 2},
                      {"issueDate", issue},
                      {"nextUpdate", next_update},
                      {"tcbEvaluationDataNumber", 1},
                      {"miscselect", "00000000"},
                      {"miscselectMask", "FFFFFFFF"},
                      {"attributes", "11000000000000000000000000000000"},
                      {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
                      {"mrsigner", Upper(ToHex(sgx::kIntelQe3MrSigner))},
                      {"isvprodid", kQeIsvProdId},
                      {"tcbLevels", qe_levels}};
  CONFCOM_ASSIGN_OR_RETURN(
      c.qe_identity_json,
      SignCollateralObject(p.tcb_signing_key(), "enclaveIdentity", qe_identity.dump()));

  CONFCOM_ASSIGN_OR_RETURN(verify::PckCrlBundle pck,
                           MakeSimPckCrl(p, o.pck_crl_ca.value_or(p.info().pck_ca), o));
  c.pck_crl_der = std::move(pck.crl_der);
  c.pck_crl_issuer_chain_pem = std::move(pck.issuer_chain_pem);
  pki::CrlSpec root;
  root.this_update = now - kSimBackdate;
  root.next_update = next;
  root.extensions.push_back(SimMarkerExtension());
  CONFCOM_ASSIGN_OR_RETURN(auto root_crl, pki::IssueCrl(root, p.root_ca(), p.root_key()));
  c.root_ca_crl_der = root_crl.ToDer();
  c.tcb_signing_chain_pem = p.tcb_signing().ToPem() + p.root_ca().ToPem();
  return c;
}

}  // namespace confcom::sim
