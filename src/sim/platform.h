// The simulated SGX platform: the identities and the Intel-style PKI a real platform gets from
// Intel (Root CA, Processor and Platform PCK CAs, TCB Signing, one PCK certificate per TCB
// profile), made up here and kept in a state directory so quotes keep verifying across
// restarts. Subject names are Intel's, the keys ours, and everything carries a "simulated"
// marker, so a verifier that trusts Intel's real root rejects every simulated quote.
// The state dir's files, its creation, locking and format-1 upgrade, the PKI and the markers:
// docs/simulation.md, "confcom's simulated platform".
#pragma once

#include <ctime>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "pki/x509.h"
#include "sgx/types.h"

namespace confcom::sim {

// Under IANA's enterprise number for documentation (RFC 5612): every arc fits 16 bits, so
// every X.509 parser accepts it (docs/simulation.md says why this arc).
inline constexpr char kSimMarkerOid[] = "1.3.6.1.4.1.32473.5353.1";
// The marker of format-1 state dirs, still recognised in quotes made before the upgrade.
inline constexpr char kLegacySimMarkerOid[] = "2.25.154015207595401883203836527248793858455";
inline constexpr char kSimMarkerText[] =
    "confcom SIMULATED SGX platform: no security, for development and testing only";

// The marker extension every simulated certificate and CRL carries: {kSimMarkerOid,
// UTF8String kSimMarkerText}, non-critical.
std::pair<std::string, Bytes> SimMarkerExtension();
// Whether a certificate carries the marker (kSimMarkerOid, or the legacy kLegacySimMarkerOid).
bool CarriesSimMarker(const pki::Certificate& cert);

// Simulated certificates, CRLs and collateral start this long before they are made, so a
// verifier whose clock is behind the helper's still accepts fresh ones.
inline constexpr std::time_t kSimBackdate = 24 * 3600;

using pki::PckCa;

// The simulated quoting enclave (QE3) and PCE.
inline constexpr uint16_t kQeIsvProdId = 1;
inline constexpr uint16_t kQeIsvSvn = 8;
inline constexpr uint16_t kPceSvn = 13;
inline constexpr sgx::Array<2> kPceId = {0x00, 0x00};
inline constexpr sgx::Array<6> kSimFmspc = {'S', 'I', 'M', 'U', 'L', 'A'};
inline constexpr char kSimPpidPrefix[] = "confcom-sim";  // 11 of the PPID's 16 bytes
// QE3's attributes: INITTED | MODE64BIT | PROVISION_KEY, xfrm x87|SSE.
inline constexpr sgx::Attributes kQeAttributes = {0x15, 0x3};
// The simulated QE's MRENCLAVE: SHA-256("confcom simulated QE3").
sgx::Array<32> SimQeMrEnclave();
// What the simulated QE publishes for app enclaves to target their reports at.
sgx::TargetInfo SimQeTargetInfo();
// The QE's own report body (QE report in a quote, or for qe_report_info), without report_data.
sgx::ReportBody SimQeReportBody(const sgx::Array<16>& cpu_svn);

// A simulated TCB level. `cpusvn` is the SDK's simulated CPUSVN an app report carries (the
// platform's raw TCB), which selects the level; `components` are the SVNs of the TCB its PCK
// certificate certifies. As on Intel's TCB type 0, that certificate's CPUSVN field holds the
// same 16 bytes as its components (CertifiedCpuSvn()), so verifiers that read either agree.
struct TcbProfile {
  std::string name;  // "upgraded", "default", "downgraded"
  sgx::Array<16> cpusvn{};
  std::array<uint8_t, 16> components{};
  uint16_t pcesvn = kPceSvn;
  sgx::Array<16> CertifiedCpuSvn() const { return components; }
};
// The three profiles, best first ("upgraded", "default", "downgraded"); a static table.
const std::vector<TcbProfile>& TcbProfiles();
// "default": the profile of the SDK's default simulated CPUSVN, and the one a report with an
// unknown CPUSVN is quoted under.
const TcbProfile& DefaultTcbProfile();
// The profile for a CPUSVN or a name, or nullptr when none matches.
const TcbProfile* FindTcbProfile(const sgx::Array<16>& cpusvn);
const TcbProfile* FindTcbProfile(std::string_view name);

struct PlatformInfo {
  sgx::Array<16> ppid{};
  sgx::Array<6> fmspc = kSimFmspc;
  sgx::Array<2> pce_id = kPceId;
  sgx::Array<16> qe_id{};
  sgx::Array<16> platform_instance_id{};
  PckCa pck_ca = PckCa::kPlatform;  // the issuer of the PCK certificates
  std::string created;              // RFC 3339
};

// A loaded platform: immutable, so its const methods are safe from any thread. Processes that
// share a state dir are kept apart by an exclusive flock on "<state dir>/state.lock".
class SimPlatform {
 public:
  // Loads the platform in `state_dir`, creating (or upgrading a format-1 dir) under the lock;
  // nothing is ever re-keyed. `created` (optional) is set to whether this call generated the
  // platform. `pck_ca`: the PCK issuer of a new platform (default Platform). Errors:
  // InvalidArgument for an existing platform issued by the other CA (its certificates cannot
  // change issuer); Load()'s errors; the file system's when creating.
  static Result<SimPlatform> LoadOrCreate(const std::string& state_dir, bool* created = nullptr,
                                          std::optional<PckCa> pck_ca = std::nullopt);
  // Loads an existing platform. Errors: NotFound if the directory holds none; PermissionDenied
  // for a key file readable by others (the keys are intact: fix the mode); Corruption for a
  // damaged platform (a certificate not matching its key, an unknown format, …).
  static Result<SimPlatform> Load(const std::string& state_dir);

  const std::string& state_dir() const { return state_dir_; }
  const PlatformInfo& info() const { return info_; }
  const crypto::EcKey& attestation_key() const { return attestation_key_; }
  const crypto::EcKey& pck_key() const { return pck_key_; }
  const crypto::EcKey& root_key() const { return root_key_; }
  const crypto::EcKey& tcb_signing_key() const { return tcb_signing_key_; }
  const pki::Certificate& root_ca() const { return root_ca_; }
  const pki::Certificate& tcb_signing() const { return tcb_signing_; }
  // Either PCK CA, and its key; pck_ca() is the one that issued this platform's PCK certificates.
  const pki::Certificate& ca(PckCa which) const { return cas_[size_t(which)]; }
  const crypto::EcKey& ca_key(PckCa which) const { return ca_keys_[size_t(which)]; }
  const pki::Certificate& pck_ca() const { return ca(info_.pck_ca); }
  const crypto::EcKey& pck_ca_key() const { return ca_key(info_.pck_ca); }
  // The PCK certificate for a profile (index into TcbProfiles()).
  const pki::Certificate& pck_certificate(size_t profile_index) const {
    return pck_certs_[profile_index];
  }
  // PEM chain: PCK leaf, its PCK CA, Root CA. `profile_index` must be < TcbProfiles().size().
  std::string PckChainPem(size_t profile_index) const;

  // File names inside the state dir.
  static constexpr char kPlatformFile[] = "platform.json";
  static constexpr int kFormatVersion = 2;
  static constexpr char kRootCaFile[] = "root_ca.pem";

 private:
  SimPlatform() = default;
  static Result<SimPlatform> Create(const std::string& state_dir, PckCa pck_ca);
  // Reissues every certificate of a format-1 state dir with its own keys (see above).
  static Result<SimPlatform> Upgrade(const std::string& state_dir, SimPlatform loaded);
  // Issues every certificate from the keys (generating the Processor CA key if absent) and
  // writes the state dir, platform.json last.
  Status IssueAndWrite();

  std::string state_dir_;
  PlatformInfo info_;
  crypto::EcKey attestation_key_, pck_key_, root_key_, tcb_signing_key_;
  std::array<crypto::EcKey, 2> ca_keys_;  // indexed by PckCa
  pki::Certificate root_ca_, tcb_signing_;
  std::array<pki::Certificate, 2> cas_;
  std::vector<pki::Certificate> pck_certs_;
};

}  // namespace confcom::sim
