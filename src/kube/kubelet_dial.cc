#include "kube/kubelet_dial.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <filesystem>

namespace confcom::kube {

std::shared_ptr<grpc::Channel> DialUnixSocket(const std::string& path, int max_receive_bytes) {
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "localhost");
  args.SetMaxReceiveMessageSize(max_receive_bytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("unix:" + std::filesystem::absolute(path).string(),
                                   grpc::InsecureChannelCredentials(), args);
}

}  // namespace confcom::kube
