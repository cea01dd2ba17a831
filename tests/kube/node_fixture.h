// The one Node object the tests serve and patch: as the API server sends a Node before any EPC
// is registered (a label, a podCIDR; capacity cpu 2, memory 24Gi, pods 110; allocatable a
// little less memory). Used by the API-client, capacity and device-plugin process tests.
#pragma once

#include <string>

namespace confcom::testing {

// Returns the Node named `name` as JSON text. Pure, thread-safe.
inline std::string NodeJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
         R"(","labels":{"kubernetes.io/hostname":")" + name +
         R"("}},"spec":{"podCIDR":"10.0.0.0/24"},)"
         R"("status":{"capacity":{"cpu":"2","memory":"24Gi","pods":"110"},)"
         R"("allocatable":{"cpu":"2","memory":"23Gi","pods":"110"}}})";
}

}  // namespace confcom::testing
