#include "common/metrics_server.h"

#include <prometheus/exposer.h>

#include <exception>
#include <spdlog/spdlog.h>

namespace confcom {

Status CheckMetricsAddress(const std::string& address) {
  auto colon = address.rfind(':');
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(
        "--metrics-address '" + address + "': " + why +
        " (expected HOST:PORT such as 127.0.0.1:9464 or [::1]:9464, or 'off')");
  };
  if (colon == std::string::npos) return bad("no port");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.empty()) return bad("no host");
  if (host.front() == '[' ? host.back() != ']' : host.find(':') != std::string::npos) {
    return bad("an IPv6 host must be in brackets");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  return Status::Ok();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address) {
  CONFCOM_RETURN_IF_ERROR(CheckMetricsAddress(address));
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  try {
    // CivetWeb serves each connection on a worker thread until it has read a request: enough
    // workers that a few idle connections block nobody, and a read timeout that frees a worker
    // held by a client that sends nothing.
    m->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", address,                                   //
                                 "num_threads", std::to_string(kMetricsThreads),               //
                                 "request_timeout_ms", std::to_string(kMetricsReadTimeoutMs),  //
                                 "keep_alive_timeout_ms", std::to_string(kMetricsReadTimeoutMs)});
  } catch (const std::exception& e) {
    return Status::IoError("cannot serve metrics on " + address + ": " + e.what());
  }
  m->registry_ = std::make_shared<prometheus::Registry>();
  m->exposer_->RegisterCollectable(m->registry_);
  return m;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::StartFromFlag(const std::string& address) {
  if (address == "off") return std::unique_ptr<MetricsServer>();
  CONFCOM_RETURN_IF_ERROR(CheckMetricsAddress(address));
  auto m = Start(address);
  if (!m.ok()) {
    return Status(m.status().code(),
                  m.status().message() + " (use --metrics-address off to run without metrics)");
  }
  spdlog::info("metrics on http://{}:{}/metrics", address.substr(0, address.rfind(':')),
               (*m)->port());
  return m;
}

// Stop serving (CivetWeb joins its threads) before the registry and collectables a scrape
// may be reading go away; members would otherwise be destroyed registry first.
MetricsServer::~MetricsServer() { exposer_.reset(); }

void MetricsServer::Add(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

int MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace confcom
