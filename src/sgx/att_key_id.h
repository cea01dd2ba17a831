// Attestation key ids (sgx_att_key_id_ext_t, 256 bytes) and the select-list format.
//
// A key id's meaningful part is its 158-byte base (sgx_ql_att_key_id_t); a server picks the
// quoting provider by comparing bases, ignoring spid/att_key_type/reserved. All functions here
// are pure: safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "sgx/types.h"

namespace confcom::sgx {

inline constexpr size_t kAttKeyIdSize = 256;
inline constexpr size_t kAttKeyIdBaseSize = 158;
inline constexpr size_t kAttKeyIdListHeaderSize = 8;
inline constexpr uint32_t kMaxAttKeyIdsInList = 10;

inline constexpr uint32_t kAlgorithmEpid = 0;
inline constexpr uint32_t kAlgorithmEcdsaP256 = 2;
inline constexpr uint32_t kAlgorithmEcdsaP384 = 3;

using AttKeyId = Array<kAttKeyIdSize>;

// Intel's QE3 signer (MRSIGNER of the quoting enclave).
inline constexpr Array<32> kIntelQe3MrSigner = {
    0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
    0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};

// DCAP's default ECDSA P-256 key id: id 0, version 0, mrsigner_length 32, QE3 mrsigner,
// prod_id 1, algorithm 2, the rest zero.
AttKeyId EcdsaP256AttKeyId();

// Decoded base fields, for display.
struct AttKeyIdFields {
  uint16_t id = 0;
  uint16_t version = 0;
  uint16_t mrsigner_length = 0;
  Array<48> mrsigner{};
  uint32_t prod_id = 0;
  uint32_t algorithm_id = 0;
};
AttKeyIdFields DecodeAttKeyId(const AttKeyId& key);
// One line for logs: "ECDSA-P256 (algorithm 2, mrsigner <hex>, prod_id 1)".
std::string DescribeAttKeyId(const AttKeyId& key);

// True when the 158-byte bases are equal. Both must be at least kAttKeyIdBaseSize long.
bool SameKeyBase(ByteSpan a, ByteSpan b);

// Parses {u16 id=0, u16 version=0, u32 n<=10} followed by exactly n key ids. InvalidArgument
// naming what is wrong (length, header, count).
Result<std::vector<AttKeyId>> ParseAttKeyIdList(ByteSpan list);
// The inverse of ParseAttKeyIdList().
Bytes EncodeAttKeyIdList(const std::vector<AttKeyId>& keys);

}  // namespace confcom::sgx
