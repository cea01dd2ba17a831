#include "deviceplugin/framework/probe.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "deviceplugin/grpc_api.h"
#include "kube/kubelet_dial.h"

namespace confcom::deviceplugin {

Status ProbePluginSocket(const std::string& path, std::chrono::milliseconds timeout) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    return Status::NotFound(path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(sb.st_mode)) return Status::InvalidArgument(path + " is not a socket");
  auto stub = v1beta1::DevicePlugin::NewStub(kube::DialUnixSocket(path));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  v1beta1::DevicePluginOptions options;
  grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options);
  if (!st.ok()) {
    return Status::Unavailable(fmt::format("{} does not answer GetDevicePluginOptions within {} ms: "
                                           "{} (code {})",
                                           path, timeout.count(), st.error_message(),
                                           int(st.error_code())));
  }
  return Status::Ok();
}

}  // namespace confcom::deviceplugin
