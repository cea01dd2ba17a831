// The gRPC service v1beta1.DevicePlugin for one Resource: GetDevicePluginOptions (no
// PreStartContainer; GetPreferredAllocation offered when the resource has a PreferredAllocator),
// ListAndWatch (a ListAndWatchReactor on the Hub), Allocate and GetPreferredAllocation, whose
// requests are read with the zero-copy decoders of kubelet_requests.h and checked before the
// resource sees them. The rules and their status codes: docs/device-plugin.md, "Allocate".
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "deviceplugin/framework/list_and_watch.h"
#include "deviceplugin/framework/plugin_stats.h"
#include "deviceplugin/framework/resource.h"

namespace confcom::deviceplugin {

// Kubelet asks for one container per Allocate; the bound (on GetPreferredAllocation too) keeps
// a request of millions of empty container entries from costing memory before it is refused.
inline constexpr size_t kMaxContainersPerAllocate = 1024;

// The service for `resource` over `hub`, counting into `*stats` (which must outlive it).
// Never fails. Its methods run on gRPC threads concurrently: thread-safe. Each call fails or
// succeeds as a whole. Allocate: at most kMaxContainersPerAllocate container requests; every
// ID advertised (else INVALID_ARGUMENT naming it), once in the whole call (INVALID_ARGUMENT)
// and Healthy (FAILED_PRECONDITION); the resource then says what each container gets
// (INTERNAL if it fails). GetPreferredAllocation: IDs known and distinct, must_include within
// available_deviceIDs, |must_include| <= allocation_size <= |available|, else
// INVALID_ARGUMENT; the answer must be exactly allocation_size distinct available devices
// (INTERNAL if a policy broke that). Every refusal is logged and counted in stats->refused.
std::unique_ptr<grpc::Service> MakeDevicePluginService(std::shared_ptr<Hub> hub,
                                                       std::shared_ptr<Resource> resource,
                                                       PluginStats* stats);

}  // namespace confcom::deviceplugin
