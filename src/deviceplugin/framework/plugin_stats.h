// Counters one plugin server keeps for its metrics; written by the gRPC threads and the
// control thread, read at scrape time. Plain atomics: each value is meaningful on its own.
#pragma once

#include <atomic>
#include <cstdint>

namespace confcom::deviceplugin {

struct PluginStats {
  std::atomic<uint64_t> registrations{0};
  std::atomic<uint64_t> register_failures{0};
  std::atomic<uint64_t> serves{0};    // servers bound (1 + restarts)
  std::atomic<uint64_t> messages{0};  // distinct ListAndWatch messages built
  std::atomic<uint64_t> allocations{0};
  std::atomic<uint64_t> allocated_devices{
      0};                            // distinct devices handed out by successful Allocates
  std::atomic<uint64_t> refused{0};  // Allocate / GetPreferredAllocation calls refused
  std::atomic<uint64_t> healthy{0};  // in the newest ListAndWatch message
  std::atomic<uint64_t> unhealthy{0};
  std::atomic<uint64_t> message_bytes{0};  // size of the newest ListAndWatch message
};

}  // namespace confcom::deviceplugin
