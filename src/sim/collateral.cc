#include "sim/collateral.h"

#include <nlohmann/json.hpp>

#include "pki/crl.h"
#include "sgx/att_key_id.h"

namespace confcom::sim {

namespace {

using Json = nlohmann::ordered_json;

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

Result<verify::Collateral> MakeSimCollateral(const SimPlatform& p, const CollateralOptions& o) {
  std::time_t now = o.now != 0 ? o.now : std::time(nullptr);
  std::time_t next = now + std::time_t(o.validity_days) * 24 * 3600;
  std::string issue = verify::FormatRfc3339(now);
  std::string next_update = verify::FormatRfc3339(next);
  std::string tcb_date = verify::FormatRfc3339(now - now % 86400);
  verify::Collateral c;

  const auto& profiles = TcbProfiles();
  Json levels = Json::array();
  for (const TcbProfile& profile : profiles) {
    bool out_of_date = profile.name == "downgraded";
    levels.push_back(TcbLevelJson(profile, tcb_date, out_of_date ? "OutOfDate" : "UpToDate", out_of_date));
  }
  Json tcb_info = {{"id", "SGX"},
                   {"version", 3},
                   {"issueDate", issue},
                   {"nextUpdate", next_update},
                   {"fmspc", ToHex(p.info().fmspc)},
                   {"pceId", ToHex(p.info().pce_id)},
                   {"tcbType", 0},
                   {"tcbEvaluationDataNumber", 1},
                   {"tcbLevels", levels}};
  CONFCOM_ASSIGN_OR_RETURN(c.tcb_info_json, SignCollateralObject(p.tcb_signing_key(), "tcbInfo", tcb_info.dump()));

  Json qe_levels = Json::array();
  qe_levels.push_back({{"tcb", {{"isvsvn", kQeIsvSvn}}}, {"tcbDate", tcb_date}, {"tcbStatus", "UpToDate"}});
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
  CONFCOM_ASSIGN_OR_RETURN(c.qe_identity_json,
                           SignCollateralObject(p.tcb_signing_key(), "enclaveIdentity", qe_identity.dump()));

  pki::CrlSpec pck;
  pck.this_update = now;
  pck.next_update = next;
  if (o.revoke_pck) {
    for (size_t i = 0; i < profiles.size(); ++i) pck.revoked.push_back(&p.pck_certificate(i));
  }
  CONFCOM_ASSIGN_OR_RETURN(auto pck_crl, pki::IssueCrl(pck, p.platform_ca(), p.platform_ca_key()));
  c.pck_crl_der = pck_crl.ToDer();
  pki::CrlSpec root;
  root.this_update = now;
  root.next_update = next;
  CONFCOM_ASSIGN_OR_RETURN(auto root_crl, pki::IssueCrl(root, p.root_ca(), p.root_key()));
  c.root_ca_crl_der = root_crl.ToDer();
  c.tcb_signing_chain_pem = p.tcb_signing().ToPem() + p.root_ca().ToPem();
  c.pck_crl_issuer_chain_pem = p.platform_ca().ToPem() + p.root_ca().ToPem();
  return c;
}

}  // namespace confcom::sim
