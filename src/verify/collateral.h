// DCAP collateral: the files a verifier needs besides the quote, and their parsed forms.
//
// Collateral is the raw bundle (as a PCCS serves it or `sgxctl collateral` writes it);
// ParseTcbInfo / ParseQeIdentity parse Intel's JSON ({"tcbInfo":{…},"signature":"…"} and
// {"enclaveIdentity":{…},"signature":"…"}), keeping the exact signed object text.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "sgx/types.h"

namespace confcom::verify {

// TCB statuses, as Intel names them in collateral.
enum class TcbStatus {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
};
// "UpToDate", "OutOfDate", …, as in the documents; pure.
const char* TcbStatusName(TcbStatus s);
// The status Intel's name stands for; InvalidArgument for an unknown name.
Result<TcbStatus> ParseTcbStatus(std::string_view name);

struct TcbLevel {
  std::array<uint8_t, 16> components{};
  uint16_t pcesvn = 0;
  std::string tcb_date;
  TcbStatus status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
};

// What TCB Info and QE Identity documents share: the object's identity, validity window and
// the signature over its exact text.
struct SignedCollateral {
  std::string id;  // "SGX", "QE"
  int version = 0;
  std::time_t issue_date = 0;
  std::time_t next_update = 0;
  long tcb_evaluation_data_number = 0;
  std::string signed_text;   // the exact "tcbInfo" / "enclaveIdentity" object text
  std::string compact_text;  // its compact re-serialisation, which Intel's QVL checks
  Bytes signature;           // raw r‖s
};

struct TcbInfo : SignedCollateral {
  sgx::Array<6> fmspc{};
  sgx::Array<2> pce_id{};
  int tcb_type = 0;
  std::vector<TcbLevel> levels;  // best first
};

struct QeTcbLevel {
  uint16_t isvsvn = 0;
  std::string tcb_date;
  TcbStatus status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
};

struct QeIdentity : SignedCollateral {
  uint32_t miscselect = 0;
  uint32_t miscselect_mask = 0;
  sgx::Array<16> attributes{};
  sgx::Array<16> attributes_mask{};
  sgx::Array<32> mrsigner{};
  uint16_t isvprodid = 0;
  std::vector<QeTcbLevel> levels;  // best first
};

// The parsed document, keeping the exact signed text. Errors: InvalidArgument for a document
// over 1 MiB, one in which any object has a member twice, or a field missing, mistyped or out
// of range (the message names the field). Signatures are not checked here (QuoteVerifier does).
Result<TcbInfo> ParseTcbInfo(std::string_view document);
Result<QeIdentity> ParseQeIdentity(std::string_view document);
// "2026-11-22T17:20:58Z" -> time_t (UTC). Fractions of a second are accepted and ignored;
// InvalidArgument for other text or a time not in UTC.
Result<std::time_t> ParseRfc3339(std::string_view text);
// confcom::FormatRfc3339 (common/time_format.h), here beside its parser.
std::string FormatRfc3339(std::time_t t);

// The collateral bundle, as files or PCCS responses.
struct Collateral {
  std::string tcb_info_json;             // tcb_info.json
  std::string qe_identity_json;          // qe_identity.json
  Bytes pck_crl_der;                     // pck_crl.der
  Bytes root_ca_crl_der;                 // root_ca_crl.der
  std::string tcb_signing_chain_pem;     // tcb_signing_chain.pem: TCB Signing, Root
  std::string pck_crl_issuer_chain_pem;  // pck_crl_issuer_chain.pem: Platform CA, Root
};

// A PCK CRL with its issuer chain (PCK CA, Root), as a PCCS serves it for one `ca=` value.
struct PckCrlBundle {
  Bytes crl_der;
  std::string issuer_chain_pem;
};

inline constexpr char kTcbInfoFile[] = "tcb_info.json";
inline constexpr char kQeIdentityFile[] = "qe_identity.json";
inline constexpr char kPckCrlFile[] = "pck_crl.der";
inline constexpr char kRootCaCrlFile[] = "root_ca_crl.der";
inline constexpr char kTcbSigningChainFile[] = "tcb_signing_chain.pem";
inline constexpr char kPckCrlIssuerChainFile[] = "pck_crl_issuer_chain.pem";
inline constexpr char kRootCaFile[] = "root_ca.pem";

// Reads the six files above from `dir` (each bounded). Errors: ReadFile's (NotFound, …), with
// "collateral" as context.
Result<Collateral> LoadCollateralDir(const std::string& dir);
// Writes the bundle (and the root certificate, if given) as files named for what they are,
// each atomically, mode 0644 (public material). Errors: MakeDirs' or WriteFileAtomic's.
Status WriteCollateralDir(const Collateral& c, const std::string& root_ca_pem,
                          const std::string& dir);

}  // namespace confcom::verify
