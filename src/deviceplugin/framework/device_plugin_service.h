// The gRPC service v1beta1.DevicePlugin for one Resource.
//
// GetDevicePluginOptions: no PreStartContainer; GetPreferredAllocation offered when the
// resource has a PreferredAllocator. ListAndWatch: a ListAndWatchReactor on the Hub.
// Allocate: at most 1024 container requests; every ID must be advertised (INVALID_ARGUMENT
// naming it otherwise), appear once in the whole call (INVALID_ARGUMENT), and be Healthy
// (FAILED_PRECONDITION); the resource then says what each container gets. The whole call
// fails or succeeds. Stats count successful calls and the distinct devices they handed out.
// GetPreferredAllocation: IDs known and distinct, must_include within available_deviceIDs,
// |must_include| <= allocation_size <= |available|, else INVALID_ARGUMENT; the answer is
// checked to be exactly allocation_size distinct devices from available (INTERNAL if a policy
// broke that). Requests are read with the zero-copy decoders of kubelet_requests.h.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "deviceplugin/framework/list_and_watch.h"
#include "deviceplugin/framework/plugin_stats.h"
#include "deviceplugin/framework/resource.h"

namespace confcom::deviceplugin {

// Kubelet asks for one container per Allocate; the bound keeps a request of millions of empty
// container entries from costing memory before it is refused.
inline constexpr size_t kMaxContainersPerAllocate = 1024;

std::unique_ptr<grpc::Service> MakeDevicePluginService(std::shared_ptr<Hub> hub,
                                                       std::shared_ptr<Resource> resource,
                                                       PluginStats* stats);

}  // namespace confcom::deviceplugin
