#include "sim/platform.h"

#include <cstring>
#include <ctime>
#include <tuple>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"

namespace confcom::sim {

namespace {

constexpr char kRootKeyFile[] = "root_ca.key";
constexpr char kPlatformCaFile[] = "pck_platform_ca.pem";
constexpr char kPlatformCaKeyFile[] = "pck_platform_ca.key";
constexpr char kTcbSigningFile[] = "tcb_signing.pem";
constexpr char kTcbSigningKeyFile[] = "tcb_signing.key";
constexpr char kPckKeyFile[] = "pck.key";
constexpr char kAttestationKeyFile[] = "attestation.key";
constexpr int kFormatVersion = 1;

constexpr char kCrlBase[] = "https://sim.confcom.invalid/sgx/certification/v4/";

std::string PckCertFile(const TcbProfile& p) { return "pck_" + p.name + ".pem"; }

std::string Rfc3339(std::time_t t) {
  char buf[32];
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string PathIn(const std::string& dir, const char* file) { return dir + "/" + file; }

Status WriteKey(const std::string& dir, const char* file, const crypto::EcKey& key) {
  CONFCOM_ASSIGN_OR_RETURN(std::string pem, key.PrivatePem());
  return WriteFileAtomic(PathIn(dir, file), pem, 0600);
}

Result<crypto::EcKey> ReadKey(const std::string& dir, const std::string& file) {
  std::string path = dir + "/" + file;
  CONFCOM_ASSIGN_OR_RETURN(mode_t mode, FileMode(path));
  if ((mode & 077) != 0) {
    return Status::PermissionDenied("refusing key file " + path + " with mode " +
                                    ModeString(mode) +
                                    ": group or others can access it (chmod 600 it)");
  }
  CONFCOM_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, 64 << 10));
  auto key = crypto::EcKey::FromPrivatePem(pem);
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

Result<pki::Certificate> ReadCert(const std::string& dir, const std::string& file) {
  std::string path = dir + "/" + file;
  CONFCOM_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, 64 << 10));
  auto cert = pki::Certificate::FromPem(pem);
  if (!cert.ok()) return cert.status().WithContext(path);
  return cert;
}

Status CheckKeyMatches(const pki::Certificate& cert, const crypto::EcKey& key,
                       const std::string& what) {
  CONFCOM_ASSIGN_OR_RETURN(crypto::EcKey pub, cert.PublicKey());
  if (pub.PublicRaw() != key.PublicRaw()) {
    return Status::Corruption(what + ": certificate and key do not belong together");
  }
  return Status::Ok();
}

template <size_t N>
Status HexField(const nlohmann::json& j, const char* name, sgx::Array<N>& out) {
  if (!j.contains(name) || !j[name].is_string()) {
    return Status::Corruption(std::string("platform.json lacks \"") + name + "\"");
  }
  auto bytes = FromHexExact(j[name].get<std::string>(), N, name);
  if (!bytes.ok()) return Status::Corruption("platform.json: " + bytes.status().message());
  std::memcpy(out.data(), bytes->data(), N);
  return Status::Ok();
}

pki::CertificateSpec Spec(std::string cn, std::time_t now, int years) {
  pki::CertificateSpec spec;
  spec.common_name = std::move(cn);
  spec.not_before = now - 24 * 3600;  // tolerate clock skew between nodes
  spec.not_after = now + std::time_t(years) * 365 * 24 * 3600;
  spec.extensions.push_back({kSimMarkerOid, pki::EncodeUtf8StringDer(kSimMarkerText)});
  return spec;
}

}  // namespace

sgx::Array<32> SimQeMrEnclave() {
  static const crypto::Sha256Digest digest = crypto::Sha256(AsBytes("confcom simulated QE3"));
  return digest;
}

sgx::TargetInfo SimQeTargetInfo() {
  sgx::TargetInfo ti;
  ti.mr_enclave = SimQeMrEnclave();
  ti.attributes = kQeAttributes;
  return ti;
}

sgx::ReportBody SimQeReportBody(const sgx::Array<16>& cpu_svn) {
  sgx::ReportBody body;
  body.cpu_svn = cpu_svn;
  body.attributes = kQeAttributes;
  body.mr_enclave = SimQeMrEnclave();
  body.mr_signer = sgx::kIntelQe3MrSigner;
  body.isv_prod_id = kQeIsvProdId;
  body.isv_svn = kQeIsvSvn;
  return body;
}

const std::vector<TcbProfile>& TcbProfiles() {
  // Component SVNs of a plausible platform; "upgraded" is one step ahead, "downgraded" two
  // behind, so simulated collateral can rate them UpToDate / UpToDate / OutOfDate.
  static const std::vector<TcbProfile> profiles = {
      {"upgraded", sgx::kSimCpuSvnUpgraded, {15, 15, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0}, kPceSvn},
      {"default", sgx::kSimCpuSvnDefault, {14, 14, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0}, kPceSvn},
      {"downgraded", sgx::kSimCpuSvnDowngraded, {12, 12, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0}, kPceSvn},
  };
  return profiles;
}

const TcbProfile& DefaultTcbProfile() { return TcbProfiles()[1]; }

const TcbProfile* FindTcbProfile(const sgx::Array<16>& cpusvn) {
  for (const auto& p : TcbProfiles()) {
    if (p.cpusvn == cpusvn) return &p;
  }
  return nullptr;
}

const TcbProfile* FindTcbProfile(std::string_view name) {
  for (const auto& p : TcbProfiles()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string SimPlatform::PckChainPem(size_t profile_index) const {
  return pck_certs_[profile_index].ToPem() + platform_ca_.ToPem() + root_ca_.ToPem();
}

Result<SimPlatform> SimPlatform::LoadOrCreate(const std::string& state_dir, bool* created) {
  CONFCOM_RETURN_IF_ERROR(EnsurePrivateDir(state_dir, 0700).WithContext("state dir"));
  if (created != nullptr) *created = false;
  if (PathExists(PathIn(state_dir, kPlatformFile))) return Load(state_dir);
  if (created != nullptr) *created = true;
  return Create(state_dir);
}

Result<SimPlatform> SimPlatform::Create(const std::string& dir) {
  SimPlatform p;
  p.state_dir_ = dir;
  std::time_t now = std::time(nullptr);
  p.info_.created = Rfc3339(now);
  std::memcpy(p.info_.ppid.data(), kSimPpidPrefix, std::strlen(kSimPpidPrefix));
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(
      std::span(p.info_.ppid).subspan(std::strlen(kSimPpidPrefix))));
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(p.info_.qe_id));
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(p.info_.platform_instance_id));

  CONFCOM_ASSIGN_OR_RETURN(p.root_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.platform_ca_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.tcb_signing_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.pck_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.attestation_key_, crypto::EcKey::Generate());

  auto root = Spec("Intel SGX Root CA", now, 25);
  root.is_ca = true;
  root.path_len = 1;
  root.key_usage = "critical,keyCertSign,cRLSign";
  root.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
  CONFCOM_ASSIGN_OR_RETURN(p.root_ca_, pki::IssueCertificate(root, p.root_key_, nullptr, p.root_key_));

  auto platform_ca = Spec("Intel SGX PCK Platform CA", now, 25);
  platform_ca.is_ca = true;
  platform_ca.path_len = 0;
  platform_ca.key_usage = "critical,keyCertSign,cRLSign";
  platform_ca.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
  CONFCOM_ASSIGN_OR_RETURN(p.platform_ca_, pki::IssueCertificate(platform_ca, p.platform_ca_key_,
                                                                 &p.root_ca_, p.root_key_));

  auto tcb = Spec("Intel SGX TCB Signing", now, 7);
  tcb.key_usage = "critical,digitalSignature,nonRepudiation";
  tcb.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
  CONFCOM_ASSIGN_OR_RETURN(p.tcb_signing_, pki::IssueCertificate(tcb, p.tcb_signing_key_,
                                                                 &p.root_ca_, p.root_key_));

  for (const TcbProfile& profile : TcbProfiles()) {
    pki::SgxExtension ext;
    ext.ppid = p.info_.ppid;
    ext.tcb.components = profile.components;
    ext.tcb.pcesvn = profile.pcesvn;
    ext.tcb.cpusvn = profile.cpusvn;
    ext.pce_id = p.info_.pce_id;
    ext.fmspc = p.info_.fmspc;
    ext.sgx_type = 0;
    ext.platform_instance_id = p.info_.platform_instance_id;
    ext.configuration = pki::SgxPlatformConfiguration{};
    CONFCOM_ASSIGN_OR_RETURN(Bytes ext_der, pki::EncodeSgxExtension(ext));
    auto leaf = Spec("Intel SGX PCK Certificate", now, 7);
    leaf.key_usage = "critical,digitalSignature,nonRepudiation";
    leaf.crl_distribution_point = std::string(kCrlBase) + "pckcrl?ca=platform&encoding=der";
    leaf.extensions.insert(leaf.extensions.begin(), {pki::kSgxExtensionOid, ext_der});
    // All PCK certificates get the same encoded length, so every quote has exactly the size
    // GetQuoteSizeEx announces (apps hash that many bytes to check the QE report). Only the
    // DER size of the ECDSA signature varies (serials have a fixed size): reissue until it is
    // the most common one, 71 bytes (half of all signatures).
    pki::Certificate cert;
    for (int attempt = 0;; ++attempt) {
      CONFCOM_ASSIGN_OR_RETURN(cert, pki::IssueCertificate(leaf, p.pck_key_, &p.platform_ca_,
                                                           p.platform_ca_key_));
      if (cert.SignatureSize() == 71) break;
      if (attempt == 100) return Status::Internal("could not issue equal-length PCK certificates");
    }
    p.pck_certs_.push_back(std::move(cert));
  }

  // Everything but platform.json first; platform.json last marks the platform complete.
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kRootKeyFile, p.root_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kPlatformCaKeyFile, p.platform_ca_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kTcbSigningKeyFile, p.tcb_signing_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kPckKeyFile, p.pck_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kAttestationKeyFile, p.attestation_key_));
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kRootCaFile), p.root_ca_.ToPem()));
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kPlatformCaFile), p.platform_ca_.ToPem()));
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kTcbSigningFile), p.tcb_signing_.ToPem()));
  for (size_t i = 0; i < TcbProfiles().size(); ++i) {
    CONFCOM_RETURN_IF_ERROR(
        WriteFileAtomic(dir + "/" + PckCertFile(TcbProfiles()[i]), p.pck_certs_[i].ToPem()));
  }
  nlohmann::json j = {
      {"format", kFormatVersion},
      {"simulated", true},
      {"note", kSimMarkerText},
      {"ppid", ToHex(p.info_.ppid)},
      {"fmspc", ToHex(p.info_.fmspc)},
      {"pce_id", ToHex(p.info_.pce_id)},
      {"qe_id", ToHex(p.info_.qe_id)},
      {"platform_instance_id", ToHex(p.info_.platform_instance_id)},
      {"created", p.info_.created},
  };
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kPlatformFile), j.dump(2) + "\n"));
  return p;
}

Result<SimPlatform> SimPlatform::Load(const std::string& dir) {
  SimPlatform p;
  p.state_dir_ = dir;
  auto text = ReadFile(PathIn(dir, kPlatformFile), 64 << 10);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("no simulated platform in " + dir + " (no " + kPlatformFile + ")");
    }
    return text.status();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption(PathIn(dir, kPlatformFile) + " is not a JSON object");
  }
  if (j.value("format", 0) != kFormatVersion) {
    return Status::Corruption(PathIn(dir, kPlatformFile) + " has an unknown format version");
  }
  CONFCOM_RETURN_IF_ERROR(HexField(j, "ppid", p.info_.ppid));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "fmspc", p.info_.fmspc));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "pce_id", p.info_.pce_id));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "qe_id", p.info_.qe_id));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "platform_instance_id", p.info_.platform_instance_id));
  p.info_.created = j.value("created", "");

  auto context = [&](Status st) {
    return st.WithContext("simulated platform in " + dir +
                          " is damaged (remove the directory to create a new one)");
  };
#define CONFCOM_LOAD(lhs, expr)              \
  do {                                       \
    auto _r = (expr);                        \
    if (!_r.ok()) return context(_r.status()); \
    lhs = std::move(_r).value();             \
  } while (0)
  CONFCOM_LOAD(p.root_key_, ReadKey(dir, kRootKeyFile));
  CONFCOM_LOAD(p.platform_ca_key_, ReadKey(dir, kPlatformCaKeyFile));
  CONFCOM_LOAD(p.tcb_signing_key_, ReadKey(dir, kTcbSigningKeyFile));
  CONFCOM_LOAD(p.pck_key_, ReadKey(dir, kPckKeyFile));
  CONFCOM_LOAD(p.attestation_key_, ReadKey(dir, kAttestationKeyFile));
  CONFCOM_LOAD(p.root_ca_, ReadCert(dir, kRootCaFile));
  CONFCOM_LOAD(p.platform_ca_, ReadCert(dir, kPlatformCaFile));
  CONFCOM_LOAD(p.tcb_signing_, ReadCert(dir, kTcbSigningFile));
  for (const TcbProfile& profile : TcbProfiles()) {
    pki::Certificate cert;
    CONFCOM_LOAD(cert, ReadCert(dir, PckCertFile(profile)));
    if (Status st = CheckKeyMatches(cert, p.pck_key_, PckCertFile(profile)); !st.ok()) {
      return context(st);
    }
    p.pck_certs_.push_back(std::move(cert));
  }
#undef CONFCOM_LOAD
  for (auto [cert, key, name] :
       {std::tuple{&p.root_ca_, &p.root_key_, kRootCaFile},
        std::tuple{&p.platform_ca_, &p.platform_ca_key_, kPlatformCaFile},
        std::tuple{&p.tcb_signing_, &p.tcb_signing_key_, kTcbSigningFile}}) {
    if (Status st = CheckKeyMatches(*cert, *key, name); !st.ok()) return context(st);
  }
  return p;
}

}  // namespace confcom::sim
