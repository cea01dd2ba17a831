#include "deviceplugin/framework/kubelet_requests.h"

namespace confcom::deviceplugin {

namespace {

using detail::kLengthDelimited;
using detail::TooLarge;
using Reader = detail::WireReader;
constexpr uint32_t kVarint = detail::WireFormatLite::WIRETYPE_VARINT;

}  // namespace

bool detail::TooLarge(std::string_view wire) { return wire.size() > size_t(INT32_MAX); }

Result<AllocateIds> DecodeAllocateRequest(std::string_view wire) {
  AllocateIds out;
  Status st = WalkAllocateRequest(
      wire,
      [&](size_t) {
        out.emplace_back();
        return true;
      },
      [&](size_t k, std::string_view id) {
        out[k].push_back(id);
        return true;
      });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<PreferredIds>> DecodePreferredAllocationRequest(std::string_view wire) {
  if (TooLarge(wire)) {
    return Status::InvalidArgument("PreferredAllocationRequest larger than 2 GiB");
  }
  Reader r(wire);
  std::vector<PreferredIds> out;
  bool ok = r.Fields([&](int field, uint32_t type, bool* failed) {
    if (field != 1 || type != kLengthDelimited) return false;  // container_requests = 1
    PreferredIds& c = out.emplace_back();
    *failed = !r.SubMessage([&] {
      return r.Fields([&](int f, uint32_t t, bool* bad) {
        if ((f == 1 || f == 2) && t == kLengthDelimited) {
          *bad = !r.ReadView(&(f == 1 ? c.available : c.must_include).emplace_back());
          return true;
        }
        if (f == 3 && t == kVarint) {  // int32: a 64-bit varint truncated, as protobuf does
          uint64_t v;
          *bad = !r.in().ReadVarint64(&v);
          c.allocation_size = int32_t(uint32_t(v));
          return true;
        }
        return false;
      });
    });
    return true;
  });
  if (!ok) return r.Malformed("PreferredAllocationRequest");
  return out;
}

}  // namespace confcom::deviceplugin
