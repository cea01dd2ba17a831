// libFuzzer target: what the API server answers the device plugin's EPC registrar, read as the
// registrar reads it (issue 20: `kind: 5` ended the plugin). Input: byte 0 picks the HTTP
// status (kStatuses), the rest is the body. Exercises kube::CapacityOf + CapacityValue (the
// Node GET), kube::ApiStatus / ApiErrorMessage (every non-2xx answer) and the typed field
// reads of kube/json_fields.h on every top-level member. An exception escaping any of them is
// a crash here, as it is std::terminate in the plugin.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_util.h"
#include "kube/api_status.h"
#include "kube/json_fields.h"
#include "kube/node_capacity.h"
#include "kube/quantity.h"

namespace {

using namespace confcom;
using nlohmann::json;

constexpr long kStatuses[] = {200, 201, 204, 301, 400, 401, 403, 404,
                              409, 415, 422, 429, 500, 502, 503, 504};

// A message that goes to a log line: no raw control characters (they are escaped).
void CheckLoggable(const std::string& m, const char* what) {
  for (unsigned char c : m) {
    FUZZ_CHECK(c >= 0x20 && c != 0x7f, std::string(what) + " carries a raw control character");
  }
}

void CheckNode(std::string_view body) {
  for (const char* resource : {"sgx.intel.com/epc", "cpu"}) {
    auto cap = kube::CapacityOf(body, resource);
    if (!cap.ok()) {
      FUZZ_CHECK(cap.status().code() == Status::Code::kCorruption,
                 "CapacityOf failed with " + cap.status().ToString());
      FUZZ_CHECK(!cap.status().message().empty(), "an empty error");
      continue;
    }
    // Accepted: the body is a JSON object of kind "Node", within the depth limit, and the
    // value is that member's string.
    json doc = json::parse(body, nullptr, false);
    FUZZ_CHECK(doc.is_object(), "CapacityOf accepted a body that is not a JSON object");
    FUZZ_CHECK(doc["kind"] == "Node", "CapacityOf accepted a kind other than \"Node\"");
    if (!cap->has_value()) continue;
    const json& v = doc["status"]["capacity"][resource];
    FUZZ_CHECK(v.is_string() && v.get<std::string>() == **cap,
               "CapacityOf returned something other than the entry's string");
    if (auto bytes = kube::CapacityValue(**cap)) {
      FUZZ_CHECK(*bytes <= uint64_t(kube::kMaxQuantity), "a capacity above 2^62");
      // What the registrar would write back parses and carries the value.
      json patch = json::parse(kube::CapacityPatch(resource, *bytes), nullptr, false);
      FUZZ_CHECK(
          patch.is_array() && patch.size() == 1 && patch[0]["value"] == std::to_string(*bytes),
          "CapacityPatch is not the one add of the value");
    }
  }
}

// Every typed read on every top-level member: results agree with the member's JSON type.
void CheckFields(std::string_view body) {
  auto doc = kube::ParseJsonObject(body, "fuzz");
  if (!doc.ok()) {
    CheckLoggable(doc.status().message(), "ParseJsonObject's error");
    return;
  }
  for (const auto& [key, value] : doc->items()) {
    auto s = kube::OptionalString(*doc, "o", key);
    FUZZ_CHECK(s.ok() == (value.is_string() || value.is_null()), "OptionalString vs type");
    if (!s.ok()) CheckLoggable(s.status().message(), "OptionalString's error");
    auto u = kube::OptionalUint(*doc, "o", key);
    const bool whole =
        value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
    FUZZ_CHECK(u.ok() == (whole || value.is_null()), "OptionalUint vs type");
    if (u.ok() && u->has_value()) {
      FUZZ_CHECK(**u == value.get<uint64_t>(), "OptionalUint changed the number");
    }
    for (auto type : {kube::JsonType::kObject, kube::JsonType::kArray, kube::JsonType::kBoolean,
                      kube::JsonType::kWholeNumber}) {
      auto m = kube::RequiredMember(*doc, "o", key, type);
      if (m.ok()) FUZZ_CHECK(*m == &value, "RequiredMember returned another member");
      if (!m.ok()) CheckLoggable(m.status().message(), "RequiredMember's error");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  const long status = kStatuses[in.Byte() % std::size(kStatuses)];
  const std::string_view body = in.Rest();

  Status st = kube::ApiStatus(status, body, "GET node n1", "get nodes");
  FUZZ_CHECK(st.ok() == (status >= 200 && status < 300), "ApiStatus's verdict");
  if (!st.ok()) {
    FUZZ_CHECK(st.message().find("(HTTP " + std::to_string(status) + ": ") != std::string::npos,
               "ApiStatus does not name the code: " + st.message());
    CheckLoggable(st.message(), "ApiStatus's message");
  }
  const std::string shown = kube::ApiErrorMessage(body);
  FUZZ_CHECK(shown.size() <= 512 * 4, "ApiErrorMessage longer than 512 escaped characters");
  CheckLoggable(shown, "ApiErrorMessage");

  if (st.ok()) CheckNode(body);
  CheckFields(body);
  return 0;
}
