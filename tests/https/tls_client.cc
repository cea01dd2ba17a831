#include "https/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace confcom::testing {
namespace {

using Clock = std::chrono::steady_clock;

int Remaining(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : int(ms);
}

}  // namespace

std::unique_ptr<TlsClient> TlsClient::ConnectTcp(int port, const std::string& source) {
  // OpenSSL writes with write(2): a server that closed must not kill the test with SIGPIPE.
  static const bool ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)ignored;
  std::unique_ptr<TlsClient> c(new TlsClient());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return nullptr;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    if (::bind(c->fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return nullptr;
  int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return c;
}

std::unique_ptr<TlsClient> TlsClient::Connect(int port, const std::string& source,
                                              std::chrono::milliseconds timeout) {
  auto c = ConnectTcp(port, source);
  if (!c) return nullptr;
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->ctx_ == nullptr) return nullptr;
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  SSL_set_tlsext_host_name(c->ssl_, "localhost");
  if (SSL_connect(c->ssl_) != 1) return nullptr;
  // Later waits use poll; keep blocking calls bounded anyway.
  tv.tv_sec = 10;
  tv.tv_usec = 0;
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return c;
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsClient::Readable(std::chrono::milliseconds timeout) {
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, int(timeout.count())) > 0;
}

bool TlsClient::Send(std::string_view bytes, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  while (!bytes.empty()) {
    int n = ssl_ != nullptr
                ? SSL_write(ssl_, bytes.data(), int(std::min<size_t>(bytes.size(), 1 << 20)))
                : int(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
    if (n <= 0) return false;
    bytes.remove_prefix(size_t(n));
  }
  return true;
}

bool TlsClient::Answered() {
  if (!Readable(std::chrono::milliseconds(0))) return false;
  if (ssl_ == nullptr) return true;
  // Readable may be only TLS 1.3 session tickets: peek without blocking.
  int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  char c;
  int n = SSL_peek(ssl_, &c, 1);
  int err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
  ::fcntl(fd_, F_SETFL, flags);
  return n > 0 || (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE);
}

size_t TlsClient::SendUntilAnswered(size_t total, const std::function<std::string(size_t)>& next) {
  size_t sent = 0;
  while (sent < total) {
    if (Answered()) break;
    std::string piece = next(total - sent);
    if (piece.empty()) break;
    if (!Send(piece, std::chrono::seconds(3))) break;
    sent += piece.size();
  }
  return sent;
}

std::string TlsClient::ReadResponse(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string& data = pending_;
  for (;;) {
    size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = data.substr(0, end + 4);
      if (head.rfind("HTTP/1.1 100", 0) == 0) {
        data.erase(0, end + 4);
        continue;
      }
      size_t length = 0;
      for (const char* name : {"Content-Length: ", "content-length: "}) {
        size_t at = head.find(name);
        if (at != std::string::npos) length = std::stoul(head.substr(at + std::strlen(name)));
      }
      if (data.size() >= end + 4 + length) {
        std::string response = data.substr(0, end + 4 + length);
        data.erase(0, end + 4 + length);
        return response;
      }
    }
    if (!Readable(std::chrono::milliseconds(Remaining(deadline)))) return "";
    char buf[16384];
    int n =
        ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf)) : int(::recv(fd_, buf, sizeof(buf), 0));
    if (n <= 0) return "";
    data.append(buf, size_t(n));
  }
}

bool TlsClient::ClosedWithin(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!Readable(std::chrono::milliseconds(Remaining(deadline)))) return false;
    char buf[4096];
    int n =
        ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf)) : int(::recv(fd_, buf, sizeof(buf), 0));
    if (n <= 0) return true;
    if (Clock::now() >= deadline) return false;
  }
}

int TlsClient::StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string TlsClient::BodyOf(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

}  // namespace confcom::testing
