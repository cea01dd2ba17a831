// Zero-copy decoders for the two kubelet requests that carry lists of device IDs:
// v1beta1.AllocateRequest and v1beta1.PreferredAllocationRequest. They return views into the
// caller's buffer, which must outlive the result (the generated parser's heap string per ID
// made up most of a 10,240-ID Allocate: ~0.5 ms against ~25 us here). They accept exactly what
// the generated parser accepts, except that an ID that is not UTF-8 is returned as is (it then
// matches no device); anything malformed is an InvalidArgument naming the byte. Why and how in
// full: docs/device-plugin.md, "Reading kubelet's requests". Pure functions: thread-safe.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace confcom::deviceplugin {

// In the header only because WalkAllocateRequest is a template (its callbacks are inlined into
// the per-ID loop); not part of the contract.
namespace detail {

using google::protobuf::internal::WireFormatLite;

// Protobuf's default nesting limit for parsing (sub-messages and groups together).
inline constexpr int kRecursionLimit = 100;

// A CodedInputStream over `wire` that can hand out views of its bytes.
class WireReader {
 public:
  explicit WireReader(std::string_view wire)
      : wire_(wire), in_(reinterpret_cast<const uint8_t*>(wire.data()), int(wire.size())) {}

  google::protobuf::io::CodedInputStream& in() { return in_; }
  int position() const { return in_.CurrentPosition(); }

  // Reads a length prefix no longer than what is left of the buffer (a nested limit past
  // the end of the buffer is caught when the sub-message ends early). Protobuf's parser takes
  // tags and lengths of at most 5 bytes; CodedInputStream alone would take 10.
  bool ReadLength(uint32_t* len) {
    int start = position();
    return in_.ReadVarint32(len) && position() - start <= 5 &&
           *len <= wire_.size() - size_t(position());
  }
  bool ReadView(std::string_view* out) {
    uint32_t len;
    if (!ReadLength(&len)) return false;
    *out = wire_.substr(size_t(position()), len);
    return in_.Skip(int(len));  // fails past the current limit
  }

  // Calls on_field(field_number, wire_type, &failed) for each field up to the current limit;
  // it returns true once it consumed a field it knows (setting `failed` if that went wrong),
  // false to have the field skipped as unknown. Returns false on malformed input.
  template <typename OnField>
  bool Fields(OnField on_field) {
    for (;;) {
      uint32_t tag;
      if (!ReadTag(&tag)) return false;
      if (tag == 0) return true;  // the end of this message
      if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_END_GROUP) {
        return false;  // outside a group
      }
      bool failed = false;
      if (on_field(WireFormatLite::GetTagFieldNumber(tag), WireFormatLite::GetTagWireType(tag),
                   &failed)) {
        if (failed) return false;
        continue;
      }
      if (!SkipField(tag)) return false;
    }
  }

  // Runs `body` over the length-delimited sub-message that starts here.
  template <typename Body>
  bool SubMessage(Body body) {
    uint32_t len;
    if (!ReadLength(&len) || --depth_ < 0) return false;
    auto limit = in_.PushLimit(int(len));
    bool ok = body();
    in_.PopLimit(limit);
    ++depth_;
    return ok;
  }

  Status Malformed(const char* what) const {
    return Status::InvalidArgument(std::string("malformed ") + what + " at byte " +
                                   std::to_string(position()) + " of " +
                                   std::to_string(wire_.size()));
  }

 private:
  // Sets *tag to the next tag, or to 0 at the end of the message (the current limit). False
  // for a zero tag, field number 0, a bad or over-long varint: protobuf fails on each.
  bool ReadTag(uint32_t* tag) {
    int start = position();
    *tag = in_.ReadTag();
    // ReadTag gives 0 at the limit (a legitimate end), for a zero tag and for a bad varint.
    if (*tag == 0) return in_.ConsumedEntireMessage();
    return position() - start <= 5 && WireFormatLite::GetTagFieldNumber(*tag) != 0;
  }

  // Skips an unknown field as protobuf's parser does (CodedInputStream's own SkipField reads
  // over-long tags inside groups, which protobuf refuses).
  bool SkipField(uint32_t tag) {
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t ignored;
        return in_.ReadVarint64(&ignored);
      }
      case WireFormatLite::WIRETYPE_FIXED64: return in_.Skip(8);
      case WireFormatLite::WIRETYPE_FIXED32: return in_.Skip(4);
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t len;
        return ReadLength(&len) && in_.Skip(int(len));
      }
      case WireFormatLite::WIRETYPE_START_GROUP: {
        if (--depth_ < 0) return false;
        for (;;) {
          uint32_t inner;
          if (!ReadTag(&inner) || inner == 0) return false;  // unterminated
          if (WireFormatLite::GetTagWireType(inner) == WireFormatLite::WIRETYPE_END_GROUP) {
            ++depth_;
            return WireFormatLite::GetTagFieldNumber(inner) ==
                   WireFormatLite::GetTagFieldNumber(tag);
          }
          if (!SkipField(inner)) return false;
        }
      }
      default: return false;
    }
  }

  std::string_view wire_;
  google::protobuf::io::CodedInputStream in_;
  int depth_ = kRecursionLimit;  // sub-messages and groups still allowed, as in protobuf
};

inline constexpr uint32_t kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
bool TooLarge(std::string_view wire);

}  // namespace detail

// Walks an AllocateRequest in wire order: on_container(k) before the IDs of the k-th
// ContainerAllocateRequest (k from 0), then on_id(k, id) for each of its devices_ids. A callback
// returning false stops the walk, and the result is Ok: the caller knows why it stopped.
// Malformed input is an InvalidArgument, possibly after some callbacks ran.
template <typename OnContainer, typename OnId>
Status WalkAllocateRequest(std::string_view wire, OnContainer on_container, OnId on_id) {
  if (detail::TooLarge(wire)) return Status::InvalidArgument("AllocateRequest larger than 2 GiB");
  detail::WireReader r(wire);
  size_t containers = 0;
  bool stopped = false;
  bool ok = r.Fields([&](int field, uint32_t type, bool* failed) {
    if (field != 1 || type != detail::kLengthDelimited) return false;  // container_requests = 1
    size_t k = containers++;
    if (!stopped && !on_container(k)) stopped = true;
    *failed = !r.SubMessage([&] {
      return r.Fields([&](int f, uint32_t t, bool* bad) {
        if (f != 1 || t != detail::kLengthDelimited) return false;  // devices_ids = 1
        std::string_view id;
        *bad = !r.ReadView(&id);
        if (!*bad && !stopped && !on_id(k, id)) stopped = true;
        return true;
      });
    });
    return true;
  });
  if (!ok) return r.Malformed("AllocateRequest");
  return Status::Ok();
}

// One entry per ContainerAllocateRequest: its devices_ids (field 1).
using AllocateIds = std::vector<std::vector<std::string_view>>;
// Every container's IDs, as views into `wire`. Errors: InvalidArgument when `wire` is
// malformed (saying at which byte) or larger than 2 GiB.
Result<AllocateIds> DecodeAllocateRequest(std::string_view wire);

// A ContainerPreferredAllocationRequest.
struct PreferredIds {
  std::vector<std::string_view> available;     // available_deviceIDs = 1
  std::vector<std::string_view> must_include;  // must_include_deviceIDs = 2
  int32_t allocation_size = 0;                 // allocation_size = 3
};
// One entry per container_requests (field 1), IDs as views into `wire`. Errors: as
// DecodeAllocateRequest.
Result<std::vector<PreferredIds>> DecodePreferredAllocationRequest(std::string_view wire);

}  // namespace confcom::deviceplugin
