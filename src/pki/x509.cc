#include "pki/x509.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

namespace confcom::pki {

namespace {

std::string NameToString(const X509_NAME* name) {
  crypto::BioPtr bio = crypto::NewMemoryBio();
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_SEP_CPLUS_SPC | (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB));
  return crypto::MemoryBioText(bio.get());
}

std::time_t AsnTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace

const char* PckCaName(PckCa ca) { return ca == PckCa::kProcessor ? "processor" : "platform"; }

Result<PckCa> ParsePckCa(std::string_view name) {
  if (name == "platform") return PckCa::kPlatform;
  if (name == "processor") return PckCa::kProcessor;
  return Status::InvalidArgument("unknown PCK CA '" + std::string(name) +
                                 "' (platform or processor)");
}

const char* PckCaCommonName(PckCa ca) {
  return ca == PckCa::kProcessor ? "Intel SGX PCK Processor CA" : "Intel SGX PCK Platform CA";
}

std::optional<PckCa> PckCaFromCommonName(std::string_view cn) {
  for (PckCa ca : {PckCa::kPlatform, PckCa::kProcessor}) {
    if (cn == PckCaCommonName(ca)) return ca;
  }
  return std::nullopt;
}

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const uint8_t* p = der.data();
  X509* x = d2i_X509(nullptr, &p, long(der.size()));
  if (x == nullptr)
    return Status::InvalidArgument("not a DER certificate: " + crypto::OpenSslError());
  return Certificate(x);
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  X509* x = PEM_read_bio_X509(crypto::MemoryBioOver(pem).get(), nullptr, nullptr, nullptr);
  if (x == nullptr)
    return Status::InvalidArgument("not a PEM certificate: " + crypto::OpenSslError());
  return Certificate(x);
}

Result<std::vector<Certificate>> Certificate::ChainFromPem(std::string_view pem) {
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  std::vector<Certificate> out;
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument("PEM certificate " + std::to_string(out.size() + 1) +
                                     " has no END line");
    }
    end += kEnd.size();
    auto cert = FromPem(pem.substr(pos, end - pos));
    if (!cert.ok()) {
      return cert.status().WithContext("certificate " + std::to_string(out.size() + 1) +
                                       " of the chain");
    }
    out.push_back(std::move(cert).value());
    pos = end;
  }
  if (out.empty()) return Status::InvalidArgument("no PEM certificate found");
  return out;
}

std::string Certificate::ToPem() const {
  crypto::BioPtr bio = crypto::NewMemoryBio();
  PEM_write_bio_X509(bio.get(), x509_.get());
  return crypto::MemoryBioText(bio.get());
}

Bytes Certificate::ToDer() const {
  int len = i2d_X509(x509_.get(), nullptr);
  Bytes out(size_t(len > 0 ? len : 0));
  uint8_t* p = out.data();
  i2d_X509(x509_.get(), &p);
  return out;
}

std::string Certificate::Subject() const {
  return NameToString(X509_get_subject_name(x509_.get()));
}
std::string Certificate::Issuer() const { return NameToString(X509_get_issuer_name(x509_.get())); }

std::string Certificate::SubjectCommonName() const {
  X509_NAME* name = X509_get_subject_name(x509_.get());
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     size_t(ASN1_STRING_length(s)));
}

std::string Certificate::SerialHex() const {
  crypto::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_.get()), nullptr));
  crypto::OpenSslMemoryPtr<char> hex(BN_bn2hex(bn.get()));
  return std::string(hex.get());
}

size_t Certificate::SignatureSize() const {
  const ASN1_BIT_STRING* sig = nullptr;
  X509_get0_signature(&sig, nullptr, x509_.get());
  return sig != nullptr ? size_t(ASN1_STRING_length(sig)) : 0;
}

std::time_t Certificate::NotBefore() const { return AsnTime(X509_get0_notBefore(x509_.get())); }
std::time_t Certificate::NotAfter() const { return AsnTime(X509_get0_notAfter(x509_.get())); }

Result<crypto::EcKey> Certificate::PublicKey() const {
  EVP_PKEY* pkey = X509_get0_pubkey(x509_.get());
  if (pkey == nullptr) return Status::InvalidArgument("certificate has no usable public key");
  return crypto::EcKey::FromEvp(pkey);
}

bool Certificate::IsSignedBy(const Certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.x509());
  bool ok = key != nullptr && X509_verify(x509_.get(), key) == 1;
  ERR_clear_error();
  return ok;
}

std::optional<Bytes> Certificate::ExtensionValue(const std::string& oid) const {
  crypto::Asn1ObjectPtr obj(OBJ_txt2obj(oid.c_str(), 1));
  if (obj == nullptr) return std::nullopt;
  int idx = X509_get_ext_by_OBJ(x509_.get(), obj.get(), -1);
  if (idx < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x509_.get(), idx));
  return Bytes(data->data, data->data + data->length);
}

Status Certificate::CheckExtensions() const {
  std::vector<std::string> seen;
  for (int i = 0; i < X509_get_ext_count(x509_.get()); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x509_.get(), i);
    std::string oid = OidText(X509_EXTENSION_get_object(ext));
    if (std::find(seen.begin(), seen.end(), oid) != seen.end()) {
      return Status::InvalidArgument("certificate '" + SubjectCommonName() + "' has extension " +
                                     oid + " more than once (RFC 5280 4.2)");
    }
    seen.push_back(oid);
    if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext)) {
      return Status::InvalidArgument("certificate '" + SubjectCommonName() +
                                     "' has the critical extension " + oid +
                                     ", which this verifier does not process (RFC 5280 4.2)");
    }
  }
  return Status::Ok();
}

Result<SgxExtension> Certificate::SgxExt() const {
  auto der = ExtensionValue(kSgxExtensionOid);
  if (!der)
    return Status::NotFound("certificate has no SGX extension (" + std::string(kSgxExtensionOid) +
                            ")");
  // With two, which one counts would depend on the parser.
  crypto::Asn1ObjectPtr obj(OBJ_txt2obj(kSgxExtensionOid, 1));
  int first = X509_get_ext_by_OBJ(x509_.get(), obj.get(), -1);
  int second = X509_get_ext_by_OBJ(x509_.get(), obj.get(), first);
  if (second >= 0) return Status::InvalidArgument("certificate has more than one SGX extension");
  return DecodeSgxExtension(*der);
}

Bytes EncodeUtf8StringDer(std::string_view text) {
  crypto::Asn1StringPtr s(ASN1_UTF8STRING_new());
  ASN1_STRING_set(s.get(), text.data(), int(text.size()));
  int len = i2d_ASN1_UTF8STRING(s.get(), nullptr);
  Bytes out(size_t(len > 0 ? len : 0));
  uint8_t* p = out.data();
  i2d_ASN1_UTF8STRING(s.get(), &p);
  return out;
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return n > 0 ? std::string(buf, size_t(std::min(n, int(sizeof buf) - 1))) : std::string();
}

Result<ExtensionPtr> MakeExtension(const std::string& oid, ByteSpan der) {
  crypto::Asn1ObjectPtr obj(OBJ_txt2obj(oid.c_str(), 1));
  if (obj == nullptr) return Status::InvalidArgument("bad extension OID " + oid);
  crypto::Asn1StringPtr value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), der.data(), int(der.size()));
  ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, value.get()));
  if (ext == nullptr) return Status::Internal("extension " + oid + ": " + crypto::OpenSslError());
  return ext;
}

namespace {

Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr) {
    return Status::Internal(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value + ": " +
                            crypto::OpenSslError());
  }
  X509_add_ext(cert, ext.get(), -1);
  return Status::Ok();
}

// subjectAltName with one dNSName per name, built as values (not OpenSSL's "DNS:a,DNS:b"
// text), so no name can add entries of its own.
Status AddDnsNames(X509* cert, const std::vector<std::string>& dns_names) {
  crypto::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return Status::Internal("subjectAltName: out of memory");
  for (const std::string& n : dns_names) {
    crypto::Asn1StringPtr ia5(ASN1_IA5STRING_new());
    crypto::GeneralNamePtr gn(GENERAL_NAME_new());
    if (ia5 == nullptr || gn == nullptr ||
        ASN1_STRING_set(ia5.get(), n.data(), int(n.size())) != 1) {
      return Status::Internal("subjectAltName: out of memory");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0)
      return Status::Internal("subjectAltName: out of memory");
    (void)gn.release();  // the stack owns it
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_APPEND) != 1) {
    return Status::Internal("subjectAltName: " + crypto::OpenSslError());
  }
  return Status::Ok();
}

Status AddRawExtension(X509* cert, const std::string& oid, ByteSpan der) {
  CONFCOM_ASSIGN_OR_RETURN(ExtensionPtr ext, MakeExtension(oid, der));
  X509_add_ext(cert, ext.get(), -1);
  return Status::Ok();
}

}  // namespace

CertificateSpec TlsCaSpec(std::string common_name, std::time_t not_before, std::time_t not_after) {
  CertificateSpec spec;
  spec.common_name = std::move(common_name);
  spec.subject = SubjectStyle::kCommonNameOnly;
  spec.is_ca = true;
  spec.path_len = 0;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

CertificateSpec TlsServerSpec(const std::vector<std::string>& dns_names, std::time_t not_before,
                              std::time_t not_after) {
  CertificateSpec spec;
  spec.common_name = dns_names.empty() ? std::string() : dns_names.front();
  spec.subject = SubjectStyle::kCommonNameOnly;
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "serverAuth";
  spec.dns_names = dns_names;
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

Result<Certificate> IssueCertificate(const CertificateSpec& spec, const crypto::EcKey& subject_key,
                                     const Certificate* issuer, const crypto::EcKey& issuer_key) {
  Certificate cert = Certificate::Adopt(X509_new());
  X509* x = cert.x509();
  X509_set_version(x, X509_VERSION_3);
  // A random positive serial of exactly 16 bytes (top byte 0x01..0x7f), so certificates of
  // one kind have predictable encoded lengths.
  uint8_t serial[16];
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(serial));
  serial[0] = uint8_t((serial[0] & 0x7f) | 0x01);
  crypto::BignumPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x));

  X509_NAME* name = X509_get_subject_name(x);
  auto add = [&](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  };
  add("CN", spec.common_name);
  if (spec.subject == SubjectStyle::kIntel) {
    add("O", kIntelOrganization);
    add("L", kIntelLocality);
    add("ST", kIntelState);
    add("C", kIntelCountry);
  }
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->x509()) : name);
  ASN1_TIME_set(X509_getm_notBefore(x), spec.not_before);
  ASN1_TIME_set(X509_getm_notAfter(x), spec.not_after);
  X509_set_pubkey(x, subject_key.evp());

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->x509() : x, x, nullptr, nullptr, 0);
  std::string bc = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_len >= 0) bc += ",pathlen:" + std::to_string(spec.path_len);
  CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_subject_key_identifier, "hash"));
  CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_authority_key_identifier, "keyid:always"));
  CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_basic_constraints, bc));
  if (!spec.key_usage.empty()) {
    CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_key_usage, spec.key_usage));
  }
  if (!spec.extended_key_usage.empty()) {
    CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_ext_key_usage, spec.extended_key_usage));
  }
  if (!spec.dns_names.empty()) CONFCOM_RETURN_IF_ERROR(AddDnsNames(x, spec.dns_names));
  if (!spec.crl_distribution_point.empty()) {
    CONFCOM_RETURN_IF_ERROR(AddConfExtension(x, &ctx, NID_crl_distribution_points,
                                             "URI:" + spec.crl_distribution_point));
  }
  for (const auto& [oid, der] : spec.extensions) {
    CONFCOM_RETURN_IF_ERROR(AddRawExtension(x, oid, der));
  }
  if (X509_sign(x, issuer_key.evp(), EVP_sha256()) <= 0) {
    return Status::Internal("signing certificate '" + spec.common_name +
                            "': " + crypto::OpenSslError());
  }
  return cert;
}

}  // namespace confcom::pki
