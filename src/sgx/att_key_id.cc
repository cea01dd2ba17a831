#include "sgx/att_key_id.h"

#include <algorithm>
#include <cstring>

namespace confcom::sgx {

// Offsets inside sgx_ql_att_key_id_t.
namespace {
constexpr size_t kIdOff = 0, kVersionOff = 2, kMrSignerLenOff = 4, kMrSignerOff = 6,
                 kProdIdOff = 54, kAlgorithmOff = 154;
}  // namespace

AttKeyId EcdsaP256AttKeyId() {
  AttKeyId k{};
  StoreLe16(k.data() + kIdOff, 0);
  StoreLe16(k.data() + kVersionOff, 0);
  StoreLe16(k.data() + kMrSignerLenOff, 32);
  std::memcpy(k.data() + kMrSignerOff, kIntelQe3MrSigner.data(), 32);
  StoreLe32(k.data() + kProdIdOff, 1);
  StoreLe32(k.data() + kAlgorithmOff, kAlgorithmEcdsaP256);
  return k;
}

AttKeyIdFields DecodeAttKeyId(const AttKeyId& k) {
  AttKeyIdFields f;
  f.id = LoadLe16(k.data() + kIdOff);
  f.version = LoadLe16(k.data() + kVersionOff);
  f.mrsigner_length = LoadLe16(k.data() + kMrSignerLenOff);
  std::memcpy(f.mrsigner.data(), k.data() + kMrSignerOff, 48);
  f.prod_id = LoadLe32(k.data() + kProdIdOff);
  f.algorithm_id = LoadLe32(k.data() + kAlgorithmOff);
  return f;
}

std::string DescribeAttKeyId(const AttKeyId& key) {
  AttKeyIdFields f = DecodeAttKeyId(key);
  const char* alg = f.algorithm_id == kAlgorithmEpid        ? "EPID"
                    : f.algorithm_id == kAlgorithmEcdsaP256 ? "ECDSA-P256"
                    : f.algorithm_id == kAlgorithmEcdsaP384 ? "ECDSA-P384"
                                                            : "unknown-algorithm";
  size_t len = std::min<size_t>(f.mrsigner_length, 48);
  return std::string(alg) + " (algorithm " + std::to_string(f.algorithm_id) + ", mrsigner " +
         ToHex({f.mrsigner.data(), len}) + ", prod_id " + std::to_string(f.prod_id) + ")";
}

bool SameKeyBase(ByteSpan a, ByteSpan b) {
  return a.size() >= kAttKeyIdBaseSize && b.size() >= kAttKeyIdBaseSize &&
         std::memcmp(a.data(), b.data(), kAttKeyIdBaseSize) == 0;
}

Result<std::vector<AttKeyId>> ParseAttKeyIdList(ByteSpan list) {
  if (list.size() < kAttKeyIdListHeaderSize) {
    return Status::InvalidArgument("key id list is " + std::to_string(list.size()) +
                                   " bytes, shorter than its 8-byte header");
  }
  uint16_t id = LoadLe16(list.data());
  uint16_t version = LoadLe16(list.data() + 2);
  uint32_t n = LoadLe32(list.data() + 4);
  if (id != 0 || version != 0) {
    return Status::InvalidArgument("key id list header has id " + std::to_string(id) + " version " +
                                   std::to_string(version) + "; both must be 0");
  }
  if (n == 0 || n > kMaxAttKeyIdsInList) {
    return Status::InvalidArgument("key id list declares " + std::to_string(n) +
                                   " ids; 1 to 10 are allowed");
  }
  size_t want = kAttKeyIdListHeaderSize + size_t(n) * kAttKeyIdSize;
  if (list.size() != want) {
    return Status::InvalidArgument("key id list of " + std::to_string(n) + " ids must be " +
                                   std::to_string(want) + " bytes, got " +
                                   std::to_string(list.size()));
  }
  std::vector<AttKeyId> out(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::memcpy(out[i].data(), list.data() + kAttKeyIdListHeaderSize + i * kAttKeyIdSize,
                kAttKeyIdSize);
  }
  return out;
}

Bytes EncodeAttKeyIdList(const std::vector<AttKeyId>& keys) {
  Bytes out(kAttKeyIdListHeaderSize + keys.size() * kAttKeyIdSize, 0);
  StoreLe32(out.data() + 4, uint32_t(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) {
    std::memcpy(out.data() + kAttKeyIdListHeaderSize + i * kAttKeyIdSize, keys[i].data(),
                kAttKeyIdSize);
  }
  return out;
}

}  // namespace confcom::sgx
