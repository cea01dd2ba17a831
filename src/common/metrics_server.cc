#include "common/metrics_server.h"

#include <prometheus/exposer.h>

#include <exception>
#include <spdlog/spdlog.h>

namespace confcom {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  try {
    m->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return Status::IoError("cannot serve metrics on " + address + ": " + e.what());
  }
  m->registry_ = std::make_shared<prometheus::Registry>();
  m->exposer_->RegisterCollectable(m->registry_);
  return m;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::StartFromFlag(const std::string& address) {
  if (address == "off") return std::unique_ptr<MetricsServer>();
  auto m = Start(address);
  if (!m.ok()) {
    return Status(m.status().code(), m.status().message() + " (use --metrics-address off to run without metrics)");
  }
  spdlog::info("metrics on http://{}:{}/metrics", address.substr(0, address.rfind(':')), (*m)->port());
  return m;
}

MetricsServer::~MetricsServer() = default;

void MetricsServer::Add(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

int MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace confcom
