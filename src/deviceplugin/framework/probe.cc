#include "deviceplugin/framework/probe.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
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
    return Status::Unavailable(
        fmt::format("{} does not answer GetDevicePluginOptions within {} ms: "
                    "{} (code {})",
                    path, timeout.count(), st.error_message(), int(st.error_code())));
  }
  return Status::Ok();
}

bool ProbePluginSockets(const std::string& dir, const std::vector<std::string>& endpoints,
                        std::chrono::milliseconds timeout, const std::string& program,
                        const std::string& not_serving_hint) {
  bool ok = true;
  for (const std::string& endpoint : endpoints) {
    const std::string path = dir + "/" + endpoint;
    Status st = ProbePluginSocket(path, timeout);
    if (st.ok()) {
      std::printf("ok: %s answers (device plugin API v1beta1)\n", path.c_str());
    } else {
      const std::string note = st.code() == Status::Code::kNotFound
                                   ? " (the plugin is not serving; " + not_serving_hint + ")"
                                   : "";
      std::printf("%s probe: %s%s\n", program.c_str(), st.message().c_str(), note.c_str());
    }
    ok = st.ok() && ok;
  }
  return ok;
}

}  // namespace confcom::deviceplugin
