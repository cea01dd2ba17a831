#include "verify/collateral.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/time_format.h"
#include "verify/json_raw.h"

namespace confcom::verify {

namespace {

using Json = nlohmann::json;
constexpr size_t kMaxDocument = 1 << 20;

const char* const kStatusNames[] = {"UpToDate",
                                    "SWHardeningNeeded",
                                    "ConfigurationNeeded",
                                    "ConfigurationAndSWHardeningNeeded",
                                    "OutOfDate",
                                    "OutOfDateConfigurationNeeded",
                                    "Revoked"};

Status Missing(const std::string& where, const char* field, const char* type) {
  return Status::InvalidArgument(where + ": \"" + field + "\" missing or not " + type);
}

Result<std::string> GetString(const Json& j, const std::string& where, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return Missing(where, field, "a string");
  return j[field].get<std::string>();
}

Result<long> GetInt(const Json& j, const std::string& where, const char* field, long max) {
  if (!j.contains(field) || !j[field].is_number_integer())
    return Missing(where, field, "an integer");
  long v = j[field].get<long>();
  if (v < 0 || v > max) {
    return Status::InvalidArgument(where + ": \"" + field + "\" = " + std::to_string(v) +
                                   " is out of range");
  }
  return v;
}

template <size_t N>
Status GetHex(const Json& j, const std::string& where, const char* field, sgx::Array<N>& out) {
  CONFCOM_ASSIGN_OR_RETURN(std::string text, GetString(j, where, field));
  auto bytes = FromHexExact(text, N, where + " " + field);
  if (!bytes.ok()) return bytes.status();
  std::memcpy(out.data(), bytes->data(), N);
  return Status::Ok();
}

Result<std::time_t> GetTime(const Json& j, const std::string& where, const char* field) {
  CONFCOM_ASSIGN_OR_RETURN(std::string text, GetString(j, where, field));
  auto t = ParseRfc3339(text);
  if (!t.ok()) return t.status().WithContext(where + " " + field);
  return t;
}

Result<std::vector<std::string>> GetAdvisories(const Json& level, const std::string& where) {
  std::vector<std::string> out;
  if (!level.contains("advisoryIDs")) return out;
  if (!level["advisoryIDs"].is_array()) return Missing(where, "advisoryIDs", "an array");
  for (const auto& a : level["advisoryIDs"]) {
    if (!a.is_string()) return Missing(where, "advisoryIDs", "an array of strings");
    out.push_back(a.get<std::string>());
  }
  return out;
}

// Splits {"<object_key>":{…},"signature":"<hex>"}, reads the fields every signed collateral
// object has into `out`, and returns the object for the caller to read the rest from.
Result<Json> ParseSigned(std::string_view document, const char* object_key, SignedCollateral* out) {
  if (document.size() > kMaxDocument)
    return Status::InvalidArgument("collateral document larger than 1 MiB");
  Json doc = Json::parse(document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument(std::string(object_key) + " document is not a JSON object");
  }
  if (Status st = RefuseDuplicateMembers(document); !st.ok()) {
    return st.WithContext(std::string(object_key) + " document");
  }
  CONFCOM_ASSIGN_OR_RETURN(std::string_view raw, RawMemberText(document, object_key));
  out->signed_text = std::string(raw);
  CONFCOM_ASSIGN_OR_RETURN(out->compact_text, CompactJson(raw));
  // The fields come from the very text the signature covers, never from a re-read document.
  Json j = Json::parse(out->signed_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Missing("document", object_key, "an object");
  CONFCOM_ASSIGN_OR_RETURN(std::string sig_hex, GetString(doc, "document", "signature"));
  auto sig = FromHexExact(sig_hex, 64, std::string(object_key) + " signature");
  if (!sig.ok()) return sig.status();
  out->signature = std::move(sig).value();

  const std::string where = object_key;
  CONFCOM_ASSIGN_OR_RETURN(out->id, GetString(j, where, "id"));
  CONFCOM_ASSIGN_OR_RETURN(long version, GetInt(j, where, "version", 100));
  out->version = int(version);
  CONFCOM_ASSIGN_OR_RETURN(out->issue_date, GetTime(j, where, "issueDate"));
  CONFCOM_ASSIGN_OR_RETURN(out->next_update, GetTime(j, where, "nextUpdate"));
  CONFCOM_ASSIGN_OR_RETURN(out->tcb_evaluation_data_number,
                           GetInt(j, where, "tcbEvaluationDataNumber", 1L << 31));
  return j;
}

}  // namespace

const char* TcbStatusName(TcbStatus s) { return kStatusNames[int(s)]; }

Result<TcbStatus> ParseTcbStatus(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (name == kStatusNames[i]) return TcbStatus(i);
  }
  return Status::InvalidArgument("unknown tcbStatus \"" + std::string(name) + "\"");
}

Result<std::time_t> ParseRfc3339(std::string_view text) {
  struct tm tm {};
  std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return Status::InvalidArgument("not an RFC 3339 time: \"" + s + "\"");
  if (*end == '.') {
    ++end;
    while (*end >= '0' && *end <= '9') ++end;
  }
  if (std::strcmp(end, "Z") != 0 && std::strcmp(end, "+00:00") != 0) {
    return Status::InvalidArgument("time is not in UTC: \"" + s + "\"");
  }
  return timegm(&tm);
}

std::string FormatRfc3339(std::time_t t) { return confcom::FormatRfc3339(t); }

Result<TcbInfo> ParseTcbInfo(std::string_view document) {
  TcbInfo t;
  CONFCOM_ASSIGN_OR_RETURN(const Json j, ParseSigned(document, "tcbInfo", &t));
  const std::string where = "tcbInfo";
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "fmspc", t.fmspc));
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "pceId", t.pce_id));
  CONFCOM_ASSIGN_OR_RETURN(long tcb_type, GetInt(j, where, "tcbType", 255));
  t.tcb_type = int(tcb_type);
  if (!j.contains("tcbLevels") || !j["tcbLevels"].is_array() || j["tcbLevels"].empty()) {
    return Missing(where, "tcbLevels", "a non-empty array");
  }
  for (const auto& lj : j["tcbLevels"]) {
    std::string lw = "tcbInfo level " + std::to_string(t.levels.size());
    if (!lj.is_object() || !lj.contains("tcb") || !lj["tcb"].is_object()) {
      return Missing(lw, "tcb", "an object");
    }
    const Json& tcb = lj["tcb"];
    TcbLevel level;
    if (!tcb.contains("sgxtcbcomponents") || !tcb["sgxtcbcomponents"].is_array() ||
        tcb["sgxtcbcomponents"].size() != 16) {
      return Missing(lw, "sgxtcbcomponents", "an array of 16");
    }
    for (size_t i = 0; i < 16; ++i) {
      CONFCOM_ASSIGN_OR_RETURN(long svn, GetInt(tcb["sgxtcbcomponents"][i], lw, "svn", 255));
      level.components[i] = uint8_t(svn);
    }
    CONFCOM_ASSIGN_OR_RETURN(long pcesvn, GetInt(tcb, lw, "pcesvn", 65535));
    level.pcesvn = uint16_t(pcesvn);
    CONFCOM_ASSIGN_OR_RETURN(level.tcb_date, GetString(lj, lw, "tcbDate"));
    CONFCOM_ASSIGN_OR_RETURN(std::string status, GetString(lj, lw, "tcbStatus"));
    CONFCOM_ASSIGN_OR_RETURN(level.status, ParseTcbStatus(status));
    CONFCOM_ASSIGN_OR_RETURN(level.advisory_ids, GetAdvisories(lj, lw));
    t.levels.push_back(std::move(level));
  }
  return t;
}

Result<QeIdentity> ParseQeIdentity(std::string_view document) {
  QeIdentity q;
  CONFCOM_ASSIGN_OR_RETURN(const Json j, ParseSigned(document, "enclaveIdentity", &q));
  const std::string where = "enclaveIdentity";
  sgx::Array<4> misc{}, misc_mask{};
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "miscselect", misc));
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "miscselectMask", misc_mask));
  // Intel writes miscselect as the big-endian hex of the 32-bit value.
  q.miscselect =
      uint32_t(misc[0]) << 24 | uint32_t(misc[1]) << 16 | uint32_t(misc[2]) << 8 | misc[3];
  q.miscselect_mask = uint32_t(misc_mask[0]) << 24 | uint32_t(misc_mask[1]) << 16 |
                      uint32_t(misc_mask[2]) << 8 | misc_mask[3];
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "attributes", q.attributes));
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "attributesMask", q.attributes_mask));
  CONFCOM_RETURN_IF_ERROR(GetHex(j, where, "mrsigner", q.mrsigner));
  CONFCOM_ASSIGN_OR_RETURN(long prod, GetInt(j, where, "isvprodid", 65535));
  q.isvprodid = uint16_t(prod);
  if (!j.contains("tcbLevels") || !j["tcbLevels"].is_array() || j["tcbLevels"].empty()) {
    return Missing(where, "tcbLevels", "a non-empty array");
  }
  for (const auto& lj : j["tcbLevels"]) {
    std::string lw = "enclaveIdentity level " + std::to_string(q.levels.size());
    if (!lj.is_object() || !lj.contains("tcb") || !lj["tcb"].is_object())
      return Missing(lw, "tcb", "an object");
    QeTcbLevel level;
    CONFCOM_ASSIGN_OR_RETURN(long isvsvn, GetInt(lj["tcb"], lw, "isvsvn", 65535));
    level.isvsvn = uint16_t(isvsvn);
    CONFCOM_ASSIGN_OR_RETURN(level.tcb_date, GetString(lj, lw, "tcbDate"));
    CONFCOM_ASSIGN_OR_RETURN(std::string status, GetString(lj, lw, "tcbStatus"));
    CONFCOM_ASSIGN_OR_RETURN(level.status, ParseTcbStatus(status));
    CONFCOM_ASSIGN_OR_RETURN(level.advisory_ids, GetAdvisories(lj, lw));
    q.levels.push_back(std::move(level));
  }
  return q;
}

Result<Collateral> LoadCollateralDir(const std::string& dir) {
  Collateral c;
  auto read = [&](const char* name, size_t max) -> Result<std::string> {
    auto r = ReadFile(dir + "/" + name, max);
    if (!r.ok()) return r.status().WithContext("collateral");
    return r;
  };
  CONFCOM_ASSIGN_OR_RETURN(c.tcb_info_json, read(kTcbInfoFile, kMaxDocument));
  CONFCOM_ASSIGN_OR_RETURN(c.qe_identity_json, read(kQeIdentityFile, kMaxDocument));
  CONFCOM_ASSIGN_OR_RETURN(std::string pck_crl, read(kPckCrlFile, kMaxDocument));
  CONFCOM_ASSIGN_OR_RETURN(std::string root_crl, read(kRootCaCrlFile, kMaxDocument));
  c.pck_crl_der.assign(pck_crl.begin(), pck_crl.end());
  c.root_ca_crl_der.assign(root_crl.begin(), root_crl.end());
  CONFCOM_ASSIGN_OR_RETURN(c.tcb_signing_chain_pem, read(kTcbSigningChainFile, 64 << 10));
  CONFCOM_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain_pem, read(kPckCrlIssuerChainFile, 64 << 10));
  return c;
}

Status WriteCollateralDir(const Collateral& c, const std::string& root_ca_pem,
                          const std::string& dir) {
  CONFCOM_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  auto write = [&](const char* name, std::string_view data) {
    return WriteFileAtomic(dir + "/" + name, data, 0644);  // public material
  };
  CONFCOM_RETURN_IF_ERROR(write(kTcbInfoFile, c.tcb_info_json));
  CONFCOM_RETURN_IF_ERROR(write(kQeIdentityFile, c.qe_identity_json));
  CONFCOM_RETURN_IF_ERROR(write(kPckCrlFile, AsChars(c.pck_crl_der)));
  CONFCOM_RETURN_IF_ERROR(write(kRootCaCrlFile, AsChars(c.root_ca_crl_der)));
  CONFCOM_RETURN_IF_ERROR(write(kTcbSigningChainFile, c.tcb_signing_chain_pem));
  CONFCOM_RETURN_IF_ERROR(write(kPckCrlIssuerChainFile, c.pck_crl_issuer_chain_pem));
  if (!root_ca_pem.empty()) CONFCOM_RETURN_IF_ERROR(write(kRootCaFile, root_ca_pem));
  return Status::Ok();
}

}  // namespace confcom::verify
