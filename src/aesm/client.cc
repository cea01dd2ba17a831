#include "aesm/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace confcom::aesm {

std::string SocketPathFromEnv() {
  const char* env = std::getenv(kSocketPathEnv);
  return (env != nullptr && *env != '\0') ? std::string(env) : std::string(kDefaultSocketPath);
}

namespace {

Result<int> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("socket path too long (" + std::to_string(path.size()) +
                                   " bytes): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket", errno);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Unavailable("cannot connect to the AESM service at " + path + ": " +
                               std::strerror(err));
  }
  return fd;
}

}  // namespace

Result<message::Response> Call(const ClientOptions& options, const message::Request& request) {
  std::string payload;
  if (!request.SerializeToString(&payload)) {
    return Status::InvalidArgument("request is missing required fields");
  }
  CONFCOM_ASSIGN_OR_RETURN(int fd, Connect(options.socket_path));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  CONFCOM_RETURN_IF_ERROR(WriteFrame(fd, payload, Clock::now() + options.timeout));
  CONFCOM_ASSIGN_OR_RETURN(std::string reply,
                           ReadFrame(fd, options.max_frame_size, Clock::now() + options.timeout));
  message::Response response;
  if (!response.ParseFromString(reply)) {
    return Status::Corruption("the AESM service's reply does not parse as a Response");
  }
  return response;
}

}  // namespace confcom::aesm
