#include "verify/verifier.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "verify/intel_root_ca.h"

namespace confcom::verify {

namespace {

constexpr char kRootSubject[] =
    "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US";

std::string Describe(const pki::Certificate& c) {
  std::string out = "'";
  out += c.SubjectCommonName();
  out += "'";
  return out;
}

bool SameCert(const pki::Certificate& a, const pki::Certificate& b) {
  return a.ToDer() == b.ToDer();
}

// "not valid at <t>: valid from <a> to <b>" or empty.
std::string OutsideWindow(std::time_t at, std::time_t from, std::time_t to) {
  if (at >= from && (to == 0 || at <= to)) return "";
  return "valid from " + FormatRfc3339(from) + " to " + (to ? FormatRfc3339(to) : "(no end)") +
         ", checked at " + FormatRfc3339(at);
}

}  // namespace

const char* QvResultName(QvResult r) {
  switch (r) {
    case QvResult::kOk: return "SGX_QL_QV_RESULT_OK";
    case QvResult::kConfigNeeded: return "SGX_QL_QV_RESULT_CONFIG_NEEDED";
    case QvResult::kOutOfDate: return "SGX_QL_QV_RESULT_OUT_OF_DATE";
    case QvResult::kOutOfDateConfigNeeded: return "SGX_QL_QV_RESULT_OUT_OF_DATE_CONFIG_NEEDED";
    case QvResult::kInvalidSignature: return "SGX_QL_QV_RESULT_INVALID_SIGNATURE";
    case QvResult::kRevoked: return "SGX_QL_QV_RESULT_REVOKED";
    case QvResult::kUnspecified: return "SGX_QL_QV_RESULT_UNSPECIFIED";
    case QvResult::kSwHardeningNeeded: return "SGX_QL_QV_RESULT_SW_HARDENING_NEEDED";
    case QvResult::kConfigAndSwHardeningNeeded:
      return "SGX_QL_QV_RESULT_CONFIG_AND_SW_HARDENING_NEEDED";
  }
  return "SGX_QL_QV_RESULT_UNKNOWN";
}

QvResult QvResultFor(TcbStatus s) {
  switch (s) {
    case TcbStatus::kUpToDate: return QvResult::kOk;
    case TcbStatus::kSWHardeningNeeded: return QvResult::kSwHardeningNeeded;
    case TcbStatus::kConfigurationNeeded: return QvResult::kConfigNeeded;
    case TcbStatus::kConfigurationAndSWHardeningNeeded:
      return QvResult::kConfigAndSwHardeningNeeded;
    case TcbStatus::kOutOfDate: return QvResult::kOutOfDate;
    case TcbStatus::kOutOfDateConfigurationNeeded: return QvResult::kOutOfDateConfigNeeded;
    case TcbStatus::kRevoked: return QvResult::kRevoked;
  }
  return QvResult::kUnspecified;
}

const char* CheckName(Check c) {
  switch (c) {
    case Check::kNone: return "none";
    case Check::kQuoteFormat: return "quote-format";
    case Check::kCollateral: return "collateral";
    case Check::kPckChain: return "pck-chain";
    case Check::kTcbSigningChain: return "tcb-signing-chain";
    case Check::kValidity: return "validity";
    case Check::kCrl: return "crl";
    case Check::kRevocation: return "revocation";
    case Check::kTcbInfo: return "tcb-info";
    case Check::kPlatformMatch: return "platform-match";
    case Check::kQeReportSignature: return "qe-report-signature";
    case Check::kQeBinding: return "qe-binding";
    case Check::kQeIdentity: return "qe-identity";
    case Check::kQuoteSignature: return "quote-signature";
    case Check::kDebug: return "debug";
    case Check::kTcbLevel: return "tcb-level";
  }
  return "unknown";
}

const pki::Certificate& IntelSgxRootCa() {
  static const pki::Certificate root = *pki::Certificate::FromPem(kIntelSgxRootCaPem);
  return root;
}

struct QuoteVerifier::PckChain {
  Status status;  // of the chain itself
  pki::Certificate leaf, intermediate;
  crypto::EcKey leaf_key;
  pki::SgxExtension ext;
  Status pck_crl_status;  // the PCK CRL against this chain's issuer
};

Result<std::shared_ptr<QuoteVerifier>> QuoteVerifier::Create(const Collateral& c,
                                                             const pki::Certificate& root) {
  std::shared_ptr<QuoteVerifier> v(new QuoteVerifier());
  v->root_ = root;
  auto with = [](Status st, const char* what) { return st.WithContext(what); };
  auto tcb = ParseTcbInfo(c.tcb_info_json);
  if (!tcb.ok()) return with(tcb.status(), "TCB Info");
  v->tcb_info_ = std::move(tcb).value();
  auto qe = ParseQeIdentity(c.qe_identity_json);
  if (!qe.ok()) return with(qe.status(), "QE Identity");
  v->qe_identity_ = std::move(qe).value();
  auto pck_crl = pki::Crl::FromDer(c.pck_crl_der);
  if (!pck_crl.ok()) return with(pck_crl.status(), "PCK CRL");
  v->pck_crl_ = std::move(pck_crl).value();
  auto root_crl = pki::Crl::FromDer(c.root_ca_crl_der);
  if (!root_crl.ok()) return with(root_crl.status(), "Root CA CRL");
  v->root_crl_ = std::move(root_crl).value();
  auto chain = pki::Certificate::ChainFromPem(c.tcb_signing_chain_pem);
  if (!chain.ok()) return with(chain.status(), "TCB signing chain");
  v->tcb_chain_ = std::move(chain).value();

  // Quote-independent checks, in QVL order; the first failure is reported by Verify().
  auto record = [&](Check check, std::string message) {
    if (v->collateral_failed_ == Check::kNone) {
      v->collateral_failed_ = check;
      v->collateral_message_ = std::move(message);
    }
  };
  const auto& tc = v->tcb_chain_;
  if (tc.size() != 2) {
    record(Check::kTcbSigningChain,
           "expected 2 certificates (TCB Signing, Root), got " + std::to_string(tc.size()));
  } else if (tc[0].SubjectCommonName() != "Intel SGX TCB Signing") {
    record(Check::kTcbSigningChain,
           "first certificate is " + Describe(tc[0]) + ", not 'Intel SGX TCB Signing'");
  } else if (!SameCert(tc[1], root)) {
    record(Check::kTcbSigningChain, "does not end at the trusted root");
  } else if (!tc[0].IsSignedBy(root)) {
    record(Check::kTcbSigningChain, "TCB Signing certificate is not signed by the trusted root");
  } else if (Status st = tc[0].CheckExtensions(); !st.ok()) {
    record(Check::kTcbSigningChain, st.message());
  }
  if (!v->root_crl_.IsSignedBy(root) || v->root_crl_.Issuer() != root.Subject()) {
    record(Check::kCrl, "Root CA CRL is not issued and signed by the trusted root");
  }
  for (const auto* crl : {&v->root_crl_, &v->pck_crl_}) {
    if (!crl->HasCrlNumber() || !crl->HasAuthorityKeyId()) {
      record(Check::kCrl,
             "CRL issued by '" + crl->Issuer() + "' lacks crlNumber or authority key id");
    }
  }
  if (tc.size() == 2) {
    auto tcb_key = tc[0].PublicKey();
    // Intel signs the compact text; QVL checks the compact re-serialisation of what it parsed,
    // so a document re-formatted on the way (spaces, newlines) still verifies there, and here.
    auto signed_by_tcb_key = [&](const SignedCollateral& doc) {
      return tcb_key.ok() && (tcb_key->Verify(AsBytes(doc.signed_text), doc.signature) ||
                              tcb_key->Verify(AsBytes(doc.compact_text), doc.signature));
    };
    if (!signed_by_tcb_key(v->tcb_info_)) {
      record(Check::kTcbInfo, "TCB Info signature does not verify with the TCB Signing key");
    } else if (!signed_by_tcb_key(v->qe_identity_)) {
      record(Check::kQeIdentity, "QE Identity signature does not verify with the TCB Signing key");
    }
  }
  if (v->tcb_info_.version != 3) {
    record(Check::kTcbInfo,
           "TCB Info version " + std::to_string(v->tcb_info_.version) + "; 3 is required");
  }
  if (v->qe_identity_.id != "QE" || v->qe_identity_.version != 2) {
    record(Check::kQeIdentity, "QE Identity id/version is " + v->qe_identity_.id + "/" +
                                   std::to_string(v->qe_identity_.version) + "; QE/2 is required");
  }
  return v;
}

std::shared_ptr<const QuoteVerifier::PckChain> QuoteVerifier::CheckPckChain(
    ByteSpan cert_data) const {
  std::string key(AsChars(cert_data));
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = chain_cache_.find(key);
    if (it != chain_cache_.end()) return it->second;
  }
  auto chain = std::make_shared<PckChain>();
  auto fail = [&](std::string message) {
    chain->status = Status::PermissionDenied(std::move(message));
  };
  auto certs = pki::Certificate::ChainFromPem(AsChars(cert_data));
  if (!certs.ok()) {
    fail("certification data: " + certs.status().message());
  } else if (certs->size() != 3) {
    fail("expected 3 certificates (PCK, PCK CA, Root), got " + std::to_string(certs->size()));
  } else {
    const auto& c = *certs;
    chain->leaf = c[0];
    chain->intermediate = c[1];
    std::optional<pki::PckCa> ca = pki::PckCaFromCommonName(c[1].SubjectCommonName());
    Status extensions = Status::Ok();
    for (const auto& cert : c) {
      if (extensions.ok()) extensions = cert.CheckExtensions();
    }
    if (c[0].SubjectCommonName() != "Intel SGX PCK Certificate") {
      fail("leaf is " + Describe(c[0]) + ", not 'Intel SGX PCK Certificate'");
    } else if (!ca) {
      fail("intermediate is " + Describe(c[1]) + ", not an Intel SGX PCK Platform/Processor CA");
    } else if (c[2].Subject() != kRootSubject || !SameCert(c[2], root_)) {
      fail("chain ends at " + Describe(c[2]) + ", which is not the trusted root");
    } else if (!c[1].IsSignedBy(root_)) {
      fail("PCK CA certificate is not signed by the trusted root");
    } else if (!c[0].IsSignedBy(c[1])) {
      fail("PCK certificate is not signed by the PCK CA");
    } else if (!extensions.ok()) {
      fail(extensions.message());
    } else if (auto key = c[0].PublicKey(); !key.ok()) {
      fail("PCK public key: " + key.status().message());
    } else if (auto ext = c[0].SgxExt(); !ext.ok()) {
      fail("PCK certificate SGX extension: " + ext.status().message());
    } else {
      chain->leaf_key = *key;
      chain->ext = *ext;
      if (pck_crl_.Issuer() != c[1].Subject()) {
        // Most often the CRL of the other PCK CA: say which one to fetch.
        chain->pck_crl_status = Status::PermissionDenied(
            "the PCK CRL is issued by '" + pck_crl_.Issuer() +
            "', not by the PCK certificate's issuer " + Describe(c[1]) +
            ": use that CA's CRL (PCCS: /pckcrl?ca=" + pki::PckCaName(*ca) + ")");
      } else if (!pck_crl_.IsSignedBy(c[1])) {
        chain->pck_crl_status =
            Status::PermissionDenied("PCK CRL is not signed by the PCK's issuer " + Describe(c[1]));
      }
    }
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (chain_cache_.size() >= 1024) chain_cache_.clear();  // bound memory on hostile input
  chain_cache_.emplace(std::move(key), chain);
  return chain;
}

Verdict QuoteVerifier::Verify(ByteSpan quote_bytes, const VerifyOptions& options) const {
  Verdict v;
  std::time_t at = options.at != 0 ? options.at : std::time(nullptr);
  auto fail = [&](Check check, QvResult result, const std::string& message) {
    v.verified = false;
    v.failed = check;
    v.result = result;
    v.message = std::string(CheckName(check)) + ": " + message;
    return v;
  };

  auto parsed = sgx::ParseQuoteV3(quote_bytes);
  if (!parsed.ok())
    return fail(Check::kQuoteFormat, QvResult::kUnspecified, parsed.status().message());
  const sgx::QuoteV3& q = parsed->quote;
  if (parsed->trailing_bytes > 0) {
    std::string what = std::to_string(parsed->trailing_bytes) +
                       " bytes after the quote's end (it is " + std::to_string(q.EncodedSize()) +
                       " bytes)";
    if (!parsed->trailing_all_zero) {
      // Intel's QVL accepts them since DCAP 1.18; confcom does not: bytes no signature covers
      // could carry data a second parser would read as part of the quote.
      return fail(Check::kQuoteFormat, QvResult::kUnspecified,
                  what +
                      ", not all zero: refused, as bytes no signature covers could smuggle "
                      "data; send only the first " +
                      std::to_string(q.EncodedSize()) + " bytes");
    }
    v.warnings.push_back(what +
                         ", all zero: ignored as padding (a buffer of the announced quote "
                         "size; Intel's QVL accepts it since DCAP 1.18, refused it up to 1.16)");
  }
  v.app_report = q.app_report;
  if (q.header.tee_type != sgx::kTeeTypeSgx) {
    return fail(Check::kQuoteFormat, QvResult::kUnspecified,
                "TEE type " + std::to_string(q.header.tee_type) + " is not SGX (0)");
  }
  if (q.cert_data_type != sgx::kCertDataPckChain) {
    return fail(Check::kQuoteFormat, QvResult::kUnspecified,
                "certification data type " + std::to_string(q.cert_data_type) +
                    "; only type 5 (PCK certificate chain) can be verified");
  }

  // 1. Chains, validity, CRLs, revocation.
  auto chain = CheckPckChain(q.cert_data);
  if (!chain->status.ok())
    return fail(Check::kPckChain, QvResult::kInvalidSignature, chain->status.message());
  v.fmspc = chain->ext.fmspc;
  if (collateral_failed_ != Check::kNone) {
    return fail(collateral_failed_, QvResult::kInvalidSignature, collateral_message_);
  }
  if (!chain->pck_crl_status.ok())
    return fail(Check::kCrl, QvResult::kInvalidSignature, chain->pck_crl_status.message());
  for (const pki::Certificate* cert :
       {&chain->leaf, &chain->intermediate, &root_, &tcb_chain_[0]}) {
    if (auto why = OutsideWindow(at, cert->NotBefore(), cert->NotAfter()); !why.empty()) {
      return fail(Check::kValidity, QvResult::kUnspecified,
                  "certificate " + Describe(*cert) + " is " + why);
    }
  }
  for (const pki::Crl* crl : {&root_crl_, &pck_crl_}) {
    if (auto why = OutsideWindow(at, crl->ThisUpdate(), crl->NextUpdate()); !why.empty()) {
      return fail(Check::kValidity, QvResult::kUnspecified,
                  "CRL of '" + crl->Issuer() + "' is " + why);
    }
  }
  if (auto why = OutsideWindow(at, tcb_info_.issue_date, tcb_info_.next_update); !why.empty()) {
    return fail(Check::kValidity, QvResult::kUnspecified, "TCB Info is " + why);
  }
  if (auto why = OutsideWindow(at, qe_identity_.issue_date, qe_identity_.next_update);
      !why.empty()) {
    return fail(Check::kValidity, QvResult::kUnspecified, "QE Identity is " + why);
  }
  if (root_crl_.Revokes(chain->intermediate) || root_crl_.Revokes(tcb_chain_[0])) {
    return fail(Check::kRevocation, QvResult::kRevoked,
                "an intermediate certificate is revoked by the Root CA CRL");
  }
  if (pck_crl_.Revokes(chain->leaf)) {
    return fail(
        Check::kRevocation, QvResult::kRevoked,
        "PCK certificate (serial " + chain->leaf.SerialHex() + ") is revoked by the PCK CRL");
  }

  // 2. The PCK's platform is the one the TCB Info describes.
  if (tcb_info_.id != "SGX") {
    return fail(Check::kTcbInfo, QvResult::kUnspecified,
                "TCB Info id '" + tcb_info_.id + "' does not match TEE type SGX");
  }
  if (chain->ext.fmspc != tcb_info_.fmspc) {
    return fail(
        Check::kPlatformMatch, QvResult::kUnspecified,
        "PCK FMSPC " + ToHex(chain->ext.fmspc) + " != TCB Info FMSPC " + ToHex(tcb_info_.fmspc));
  }
  if (chain->ext.pce_id != tcb_info_.pce_id) {
    return fail(Check::kPlatformMatch, QvResult::kUnspecified,
                "PCK PCE-ID " + ToHex(chain->ext.pce_id) + " != TCB Info PCE-ID " +
                    ToHex(tcb_info_.pce_id));
  }

  // 3. The QE report: signed by the PCK key, bound to the attestation key.
  ByteSpan qe_report_bytes = quote_bytes.subspan(sgx::kQuoteQeReportOffset, sgx::ReportBody::kSize);
  if (!chain->leaf_key.Verify(qe_report_bytes, q.qe_report_signature)) {
    return fail(Check::kQeReportSignature, QvResult::kInvalidSignature,
                "QE report signature does not verify with the PCK public key");
  }
  crypto::Sha256Digest binding = crypto::Sha256({q.attest_key, q.qe_auth_data});
  if (!std::equal(binding.begin(), binding.end(), q.qe_report.report_data.begin()) ||
      std::any_of(q.qe_report.report_data.begin() + 32, q.qe_report.report_data.end(),
                  [](uint8_t b) { return b != 0; })) {
    return fail(Check::kQeBinding, QvResult::kInvalidSignature,
                "QE report data is not SHA-256(attestation key || QE auth data) || zeros");
  }

  // 4. The QE is the one QE Identity describes.
  const sgx::ReportBody& qe = q.qe_report;
  if (qe.mr_signer != qe_identity_.mrsigner) {
    return fail(
        Check::kQeIdentity, QvResult::kUnspecified,
        "QE MRSIGNER " + ToHex(qe.mr_signer) + " != QE Identity " + ToHex(qe_identity_.mrsigner));
  }
  if (qe.isv_prod_id != qe_identity_.isvprodid) {
    return fail(Check::kQeIdentity, QvResult::kUnspecified,
                "QE ISVPRODID " + std::to_string(qe.isv_prod_id) +
                    " != " + std::to_string(qe_identity_.isvprodid));
  }
  if ((qe.misc_select & qe_identity_.miscselect_mask) != qe_identity_.miscselect) {
    return fail(Check::kQeIdentity, QvResult::kUnspecified,
                "QE MISCSELECT does not match QE Identity");
  }
  sgx::Array<16> attrs{};
  StoreLe64(attrs.data(), qe.attributes.flags);
  StoreLe64(attrs.data() + 8, qe.attributes.xfrm);
  for (size_t i = 0; i < 16; ++i) {
    if ((attrs[i] & qe_identity_.attributes_mask[i]) != qe_identity_.attributes[i]) {
      return fail(Check::kQeIdentity, QvResult::kUnspecified,
                  "QE attributes " + ToHex(attrs) + " do not match QE Identity (masked)");
    }
  }
  const QeTcbLevel* qe_level = nullptr;
  for (const auto& level : qe_identity_.levels) {
    if (level.isvsvn <= qe.isv_svn) {
      qe_level = &level;
      break;
    }
  }
  if (qe_level == nullptr) {
    return fail(Check::kQeIdentity, QvResult::kUnspecified,
                "QE ISVSVN " + std::to_string(qe.isv_svn) + " is below every QE Identity level");
  }
  v.qe_tcb_status = qe_level->status;

  // 5. The quote itself.
  auto attest_key = crypto::EcKey::FromPublicRaw(q.attest_key);
  if (!attest_key.ok() ||
      !attest_key->Verify(quote_bytes.first(sgx::kQuoteSignedSize), q.signature)) {
    return fail(Check::kQuoteSignature, QvResult::kInvalidSignature,
                "quote signature does not verify with the attestation key");
  }

  // 6. Policy: DEBUG enclaves, then the TCB level.
  if ((q.app_report.attributes.flags & sgx::kFlagDebug) && !options.allow_debug) {
    return fail(
        Check::kDebug, QvResult::kUnspecified,
        "the app enclave is a DEBUG enclave (its memory is readable by the host); allow it explicitly");
  }
  const TcbLevel* level = nullptr;
  for (const auto& l : tcb_info_.levels) {
    bool covered = l.pcesvn <= chain->ext.tcb.pcesvn;
    for (size_t i = 0; i < 16 && covered; ++i)
      covered = l.components[i] <= chain->ext.tcb.components[i];
    if (covered) {
      level = &l;
      break;
    }
  }
  if (level == nullptr) {
    return fail(Check::kTcbLevel, QvResult::kUnspecified,
                "the platform's TCB is below every TCB Info level");
  }
  v.tcb_status = level->status;
  v.tcb_date = level->tcb_date;
  TcbStatus combined = level->status;
  if (qe_level->status == TcbStatus::kRevoked) {
    combined = TcbStatus::kRevoked;
  } else if (qe_level->status == TcbStatus::kOutOfDate) {
    if (combined == TcbStatus::kUpToDate || combined == TcbStatus::kSWHardeningNeeded) {
      combined = TcbStatus::kOutOfDate;
    } else if (combined == TcbStatus::kConfigurationNeeded ||
               combined == TcbStatus::kConfigurationAndSWHardeningNeeded) {
      combined = TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  v.combined_status = combined;
  v.advisory_ids = level->advisory_ids;
  for (const auto& a : qe_level->advisory_ids) {
    if (std::find(v.advisory_ids.begin(), v.advisory_ids.end(), a) == v.advisory_ids.end()) {
      v.advisory_ids.push_back(a);
    }
  }
  v.verified = true;
  v.result = QvResultFor(combined);
  v.message = std::string("verified; TCB status ") + TcbStatusName(combined);
  return v;
}

}  // namespace confcom::verify
