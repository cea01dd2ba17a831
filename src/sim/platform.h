// The simulated SGX platform: the identities and the Intel-style PKI a real platform gets from
// Intel, made up here and kept in a state directory.
//
// On first use, LoadOrCreate() generates in the state dir (0700; files 0600, each written
// atomically): Root CA, PCK Platform CA, TCB Signing and PCK certificates (one PCK certificate
// per simulated CPUSVN, as a real platform has one per TCB level), their keys, the attestation
// key, and platform.json — written last, so a directory without it is an unfinished creation
// that is redone from scratch. Later uses load the same material, so quotes keep verifying
// across restarts. Key files readable by group or others are refused.
//
// Everything is marked as simulated where no verifier compares it: the FMSPC spells "SIMULA",
// the PPID starts with "confcom-sim", and every certificate carries a non-critical extension
// (kSimMarkerOid) saying so. Subject names are Intel's (verifiers compare them); the keys are
// ours, so a verifier that trusts Intel's real root rejects every simulated quote.
#pragma once

#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "pki/x509.h"
#include "sgx/types.h"

namespace confcom::sim {

inline constexpr char kSimMarkerOid[] = "2.25.154015207595401883203836527248793858455";
inline constexpr char kSimMarkerText[] =
    "confcom SIMULATED SGX platform: no security, for development and testing only";

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

// A simulated TCB level: the SDK's CPUSVN and the TCB components a PCK certificate for it has.
struct TcbProfile {
  std::string name;  // "upgraded", "default", "downgraded"
  sgx::Array<16> cpusvn{};
  std::array<uint8_t, 16> components{};
  uint16_t pcesvn = kPceSvn;
};
// Best first.
const std::vector<TcbProfile>& TcbProfiles();
const TcbProfile& DefaultTcbProfile();
// The profile for a CPUSVN, or nullptr.
const TcbProfile* FindTcbProfile(const sgx::Array<16>& cpusvn);
const TcbProfile* FindTcbProfile(std::string_view name);

struct PlatformInfo {
  sgx::Array<16> ppid{};
  sgx::Array<6> fmspc = kSimFmspc;
  sgx::Array<2> pce_id = kPceId;
  sgx::Array<16> qe_id{};
  sgx::Array<16> platform_instance_id{};
  std::string created;  // RFC 3339
};

class SimPlatform {
 public:
  // `created` (optional) is set to whether this call generated the platform.
  static Result<SimPlatform> LoadOrCreate(const std::string& state_dir, bool* created = nullptr);
  // Loads an existing platform; NotFound if the directory holds none.
  static Result<SimPlatform> Load(const std::string& state_dir);

  const std::string& state_dir() const { return state_dir_; }
  const PlatformInfo& info() const { return info_; }
  const crypto::EcKey& attestation_key() const { return attestation_key_; }
  const crypto::EcKey& pck_key() const { return pck_key_; }
  const crypto::EcKey& root_key() const { return root_key_; }
  const crypto::EcKey& platform_ca_key() const { return platform_ca_key_; }
  const crypto::EcKey& tcb_signing_key() const { return tcb_signing_key_; }
  const pki::Certificate& root_ca() const { return root_ca_; }
  const pki::Certificate& platform_ca() const { return platform_ca_; }
  const pki::Certificate& tcb_signing() const { return tcb_signing_; }
  // The PCK certificate for a profile (index into TcbProfiles()).
  const pki::Certificate& pck_certificate(size_t profile_index) const { return pck_certs_[profile_index]; }
  // PEM chain: PCK leaf, Platform CA, Root CA.
  std::string PckChainPem(size_t profile_index) const;

  // File names inside the state dir.
  static constexpr char kPlatformFile[] = "platform.json";
  static constexpr char kRootCaFile[] = "root_ca.pem";

 private:
  SimPlatform() = default;
  static Result<SimPlatform> Create(const std::string& state_dir);

  std::string state_dir_;
  PlatformInfo info_;
  crypto::EcKey attestation_key_, pck_key_, root_key_, platform_ca_key_, tcb_signing_key_;
  pki::Certificate root_ca_, platform_ca_, tcb_signing_;
  std::vector<pki::Certificate> pck_certs_;
};

}  // namespace confcom::sim
