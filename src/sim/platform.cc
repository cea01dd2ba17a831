#include "sim/platform.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <tuple>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/time_format.h"
#include "sgx/att_key_id.h"
#include "sgx/sim_report.h"

namespace confcom::sim {

namespace {

constexpr char kRootKeyFile[] = "root_ca.key";
// Indexed by PckCa.
constexpr const char* kCaFiles[] = {"pck_platform_ca.pem", "pck_processor_ca.pem"};
constexpr const char* kCaKeyFiles[] = {"pck_platform_ca.key", "pck_processor_ca.key"};
constexpr char kTcbSigningFile[] = "tcb_signing.pem";
constexpr char kTcbSigningKeyFile[] = "tcb_signing.key";
constexpr char kPckKeyFile[] = "pck.key";
constexpr char kAttestationKeyFile[] = "attestation.key";
constexpr int kFormatWithOneCa = 1;

constexpr char kCrlBase[] = "https://sim.confcom.invalid/sgx/certification/v4/";

std::string PckCertFile(const TcbProfile& p) { return "pck_" + p.name + ".pem"; }

std::string PathIn(const std::string& dir, const char* file) { return dir + "/" + file; }

Status WriteKey(const std::string& dir, const char* file, const crypto::EcKey& key) {
  CONFCOM_ASSIGN_OR_RETURN(std::string pem, key.PrivatePem());
  return WriteFileAtomic(PathIn(dir, file), pem, 0600);
}

Result<crypto::EcKey> ReadKey(const std::string& dir, const std::string& file) {
  std::string path = dir + "/" + file;
  CONFCOM_ASSIGN_OR_RETURN(mode_t mode, FileMode(path));
  if ((mode & 077) != 0) {
    return Status::PermissionDenied("refusing key file " + path + " with mode " + ModeString(mode) +
                                    ": group or others can access it; fix: chmod 0600 " + path +
                                    " and make the helper's user its owner (chown)");
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
  spec.not_before = now - kSimBackdate;  // tolerate clock skew between nodes
  spec.not_after = now + std::time_t(years) * 365 * 24 * 3600;
  spec.extensions.push_back(SimMarkerExtension());
  return spec;
}

}  // namespace

std::pair<std::string, Bytes> SimMarkerExtension() {
  return {kSimMarkerOid, pki::EncodeUtf8StringDer(kSimMarkerText)};
}

bool CarriesSimMarker(const pki::Certificate& cert) {
  return cert.ExtensionValue(kSimMarkerOid).has_value() ||
         cert.ExtensionValue(kLegacySimMarkerOid).has_value();
}

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
      {"upgraded",
       sgx::kSimCpuSvnUpgraded,
       {15, 15, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0},
       kPceSvn},
      {"default",
       sgx::kSimCpuSvnDefault,
       {14, 14, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0},
       kPceSvn},
      {"downgraded",
       sgx::kSimCpuSvnDowngraded,
       {12, 12, 3, 3, 1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0},
       kPceSvn},
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
  return pck_certs_[profile_index].ToPem() + pck_ca().ToPem() + root_ca_.ToPem();
}

namespace {

// An exclusive flock on "<dir>/state.lock" for as long as it lives: two processes that load the
// same state dir at once (an old and a new quote helper during a hand-over) take turns, so
// exactly one creates (or upgrades) the platform and the other then loads the finished files.
class StateLock {
 public:
  static Result<StateLock> Take(const std::string& dir) {
    std::string path = PathIn(dir, "state.lock");
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Status::FromErrno("open " + path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno("flock " + path, err);
      }
    }
    return StateLock(fd);
  }
  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<SimPlatform> SimPlatform::LoadOrCreate(const std::string& state_dir, bool* created,
                                              std::optional<PckCa> pck_ca) {
  CONFCOM_RETURN_IF_ERROR(EnsurePrivateDir(state_dir, 0700).WithContext("state dir"));
  CONFCOM_ASSIGN_OR_RETURN(StateLock lock, StateLock::Take(state_dir));
  if (created != nullptr) *created = false;
  if (PathExists(PathIn(state_dir, kPlatformFile))) {
    CONFCOM_ASSIGN_OR_RETURN(SimPlatform p, Load(state_dir));
    if (pck_ca && *pck_ca != p.info_.pck_ca) {
      return Status::InvalidArgument(
          "the simulated platform in " + state_dir + " has PCK certificates issued by the " +
          pki::PckCaName(p.info_.pck_ca) + " CA, not the " + pki::PckCaName(*pck_ca) +
          " CA; use another state dir for a platform of the other kind");
    }
    return p;
  }
  if (created != nullptr) *created = true;
  return Create(state_dir, pck_ca.value_or(PckCa::kPlatform));
}

Result<SimPlatform> SimPlatform::Create(const std::string& dir, PckCa pck_ca) {
  SimPlatform p;
  p.state_dir_ = dir;
  p.info_.created = FormatRfc3339(std::time(nullptr));
  p.info_.pck_ca = pck_ca;
  std::memcpy(p.info_.ppid.data(), kSimPpidPrefix, std::strlen(kSimPpidPrefix));
  CONFCOM_RETURN_IF_ERROR(
      crypto::RandomBytes(std::span(p.info_.ppid).subspan(std::strlen(kSimPpidPrefix))));
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(p.info_.qe_id));
  CONFCOM_RETURN_IF_ERROR(crypto::RandomBytes(p.info_.platform_instance_id));

  CONFCOM_ASSIGN_OR_RETURN(p.root_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.tcb_signing_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.pck_key_, crypto::EcKey::Generate());
  CONFCOM_ASSIGN_OR_RETURN(p.attestation_key_, crypto::EcKey::Generate());
  // The PCK CA keys are generated by IssueAndWrite().
  CONFCOM_RETURN_IF_ERROR(p.IssueAndWrite());
  return p;
}

Status SimPlatform::IssueAndWrite() {
  const std::string& dir = state_dir_;
  std::time_t now = std::time(nullptr);
  for (auto& key : ca_keys_) {
    if (key.evp() == nullptr) {
      CONFCOM_ASSIGN_OR_RETURN(key, crypto::EcKey::Generate());
    }
  }

  auto root = Spec("Intel SGX Root CA", now, 25);
  root.is_ca = true;
  root.path_len = 1;
  root.key_usage = "critical,keyCertSign,cRLSign";
  root.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
  CONFCOM_ASSIGN_OR_RETURN(root_ca_, pki::IssueCertificate(root, root_key_, nullptr, root_key_));

  for (PckCa which : {PckCa::kPlatform, PckCa::kProcessor}) {
    auto ca = Spec(pki::PckCaCommonName(which), now, 25);
    ca.is_ca = true;
    ca.path_len = 0;
    ca.key_usage = "critical,keyCertSign,cRLSign";
    ca.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
    CONFCOM_ASSIGN_OR_RETURN(cas_[size_t(which)],
                             pki::IssueCertificate(ca, ca_key(which), &root_ca_, root_key_));
  }

  auto tcb = Spec("Intel SGX TCB Signing", now, 7);
  tcb.key_usage = "critical,digitalSignature,nonRepudiation";
  tcb.crl_distribution_point = std::string(kCrlBase) + "rootcacrl";
  CONFCOM_ASSIGN_OR_RETURN(tcb_signing_,
                           pki::IssueCertificate(tcb, tcb_signing_key_, &root_ca_, root_key_));

  pck_certs_.clear();
  for (const TcbProfile& profile : TcbProfiles()) {
    pki::SgxExtension ext;
    ext.ppid = info_.ppid;
    ext.tcb.components = profile.components;
    ext.tcb.pcesvn = profile.pcesvn;
    ext.tcb.cpusvn = profile.CertifiedCpuSvn();
    ext.pce_id = info_.pce_id;
    ext.fmspc = info_.fmspc;
    ext.sgx_type = 0;
    if (info_.pck_ca == PckCa::kPlatform) {  // Processor-CA certificates have neither
      ext.platform_instance_id = info_.platform_instance_id;
      ext.configuration = pki::SgxPlatformConfiguration{};
    }
    CONFCOM_ASSIGN_OR_RETURN(Bytes ext_der, pki::EncodeSgxExtension(ext));
    auto leaf = Spec("Intel SGX PCK Certificate", now, 7);
    leaf.key_usage = "critical,digitalSignature,nonRepudiation";
    leaf.crl_distribution_point =
        std::string(kCrlBase) + "pckcrl?ca=" + pki::PckCaName(info_.pck_ca) + "&encoding=der";
    leaf.extensions.insert(leaf.extensions.begin(), {pki::kSgxExtensionOid, ext_der});
    // All PCK certificates get the same encoded length, so every quote has exactly the size
    // GetQuoteSizeEx announces (apps hash that many bytes to check the QE report). Only the
    // DER size of the ECDSA signature varies (serials have a fixed size): reissue until it is
    // the most common one, 71 bytes (half of all signatures).
    pki::Certificate cert;
    for (int attempt = 0;; ++attempt) {
      CONFCOM_ASSIGN_OR_RETURN(cert,
                               pki::IssueCertificate(leaf, pck_key_, &pck_ca(), pck_ca_key()));
      if (cert.SignatureSize() == 71) break;
      if (attempt == 100) return Status::Internal("could not issue equal-length PCK certificates");
    }
    pck_certs_.push_back(std::move(cert));
  }

  // Everything but platform.json first; platform.json last marks the platform complete.
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kRootKeyFile, root_key_));
  for (PckCa which : {PckCa::kPlatform, PckCa::kProcessor}) {
    CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kCaKeyFiles[size_t(which)], ca_key(which)));
    CONFCOM_RETURN_IF_ERROR(
        WriteFileAtomic(PathIn(dir, kCaFiles[size_t(which)]), ca(which).ToPem()));
  }
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kTcbSigningKeyFile, tcb_signing_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kPckKeyFile, pck_key_));
  CONFCOM_RETURN_IF_ERROR(WriteKey(dir, kAttestationKeyFile, attestation_key_));
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kRootCaFile), root_ca_.ToPem()));
  CONFCOM_RETURN_IF_ERROR(WriteFileAtomic(PathIn(dir, kTcbSigningFile), tcb_signing_.ToPem()));
  for (size_t i = 0; i < TcbProfiles().size(); ++i) {
    CONFCOM_RETURN_IF_ERROR(
        WriteFileAtomic(dir + "/" + PckCertFile(TcbProfiles()[i]), pck_certs_[i].ToPem()));
  }
  nlohmann::json j = {
      {"format", kFormatVersion},
      {"simulated", true},
      {"note", kSimMarkerText},
      {"ppid", ToHex(info_.ppid)},
      {"fmspc", ToHex(info_.fmspc)},
      {"pce_id", ToHex(info_.pce_id)},
      {"qe_id", ToHex(info_.qe_id)},
      {"platform_instance_id", ToHex(info_.platform_instance_id)},
      {"pck_ca", pki::PckCaName(info_.pck_ca)},
      {"created", info_.created},
  };
  return WriteFileAtomic(PathIn(dir, kPlatformFile), j.dump(2) + "\n");
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
  int format = j.value("format", 0);
  if (format != kFormatVersion && format != kFormatWithOneCa) {
    return Status::Corruption(PathIn(dir, kPlatformFile) + " has format " + std::to_string(format) +
                              ", which this confcom does not know (it knows 1 and 2)");
  }
  CONFCOM_RETURN_IF_ERROR(HexField(j, "ppid", p.info_.ppid));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "fmspc", p.info_.fmspc));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "pce_id", p.info_.pce_id));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "qe_id", p.info_.qe_id));
  CONFCOM_RETURN_IF_ERROR(HexField(j, "platform_instance_id", p.info_.platform_instance_id));
  p.info_.created = j.value("created", "");
  if (format == kFormatVersion) {
    auto ca = pki::ParsePckCa(j.value("pck_ca", ""));
    if (!ca.ok())
      return Status::Corruption(PathIn(dir, kPlatformFile) + ": " + ca.status().message());
    p.info_.pck_ca = *ca;
  }

  // The keys are what must never change: say so instead of suggesting a new platform.
  auto context = [&](Status st) {
    // A key others may read is intact: fixing its mode is the remedy, and removing the state
    // dir (a new platform, a new root) would be the worst one.
    if (st.code() == Status::Code::kPermissionDenied) {
      return st.WithContext(
          "simulated platform in " + dir +
          " (its keys are intact: fix the file's mode and owner; do not remove the state dir, "
          "which would create a new platform with a new root)");
    }
    return st.WithContext(
        "simulated platform in " + dir +
        " is damaged (restore it from a backup; only a new, empty --state-dir "
        "creates a new platform, with a new root that verifiers must trust again)");
  };
#define CONFCOM_LOAD(lhs, expr)                \
  do {                                         \
    auto _r = (expr);                          \
    if (!_r.ok()) return context(_r.status()); \
    lhs = std::move(_r).value();               \
  } while (0)
  CONFCOM_LOAD(p.root_key_, ReadKey(dir, kRootKeyFile));
  CONFCOM_LOAD(p.ca_keys_[size_t(PckCa::kPlatform)],
               ReadKey(dir, kCaKeyFiles[size_t(PckCa::kPlatform)]));
  CONFCOM_LOAD(p.tcb_signing_key_, ReadKey(dir, kTcbSigningKeyFile));
  CONFCOM_LOAD(p.pck_key_, ReadKey(dir, kPckKeyFile));
  CONFCOM_LOAD(p.attestation_key_, ReadKey(dir, kAttestationKeyFile));
  if (format == kFormatWithOneCa) return Upgrade(dir, p);
  CONFCOM_LOAD(p.ca_keys_[size_t(PckCa::kProcessor)],
               ReadKey(dir, kCaKeyFiles[size_t(PckCa::kProcessor)]));
  CONFCOM_LOAD(p.root_ca_, ReadCert(dir, kRootCaFile));
  for (PckCa which : {PckCa::kPlatform, PckCa::kProcessor}) {
    CONFCOM_LOAD(p.cas_[size_t(which)], ReadCert(dir, kCaFiles[size_t(which)]));
  }
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
        std::tuple{&p.cas_[0], &p.ca_keys_[0], kCaFiles[0]},
        std::tuple{&p.cas_[1], &p.ca_keys_[1], kCaFiles[1]},
        std::tuple{&p.tcb_signing_, &p.tcb_signing_key_, kTcbSigningFile}}) {
    if (Status st = CheckKeyMatches(*cert, *key, name); !st.ok()) return context(st);
  }
  return p;
}

Result<SimPlatform> SimPlatform::Upgrade(const std::string& dir, SimPlatform p) {
  // Format 1 had the Platform CA only; its key, read by Load(), is kept.
  p.info_.pck_ca = PckCa::kPlatform;
  CONFCOM_RETURN_IF_ERROR(
      p.IssueAndWrite().WithContext("upgrading the simulated platform in " + dir));
  return p;
}

}  // namespace confcom::sim
