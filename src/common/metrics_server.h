// Prometheus metrics over HTTP (prometheus-cpp): the daemons' /metrics endpoint.
//
// A MetricsServer serves one registry plus any number of collectables (objects that produce
// their metrics when scraped, e.g. from counters the daemon keeps anyway) at
// http://ADDRESS/metrics in the Prometheus text format.
//
// Slow or idle clients: the server (CivetWeb) has kMetricsThreads workers, and a connection
// that sends no complete request within kMetricsReadTimeoutMs is closed, so fewer idle
// connections than workers delay no scrape, and N more delay it by about
// ceil(N / kMetricsThreads) read timeouts (connections are served in arrival order).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace prometheus {
class Exposer;
}

namespace confcom {

inline constexpr int kMetricsThreads = 16;
inline constexpr int kMetricsReadTimeoutMs = 1000;

// HOST:PORT (IPv6 hosts in brackets; port 0..65535), with an error naming the flag.
Status CheckMetricsAddress(const std::string& address);

class MetricsServer {
 public:
  // `address` is HOST:PORT (port 0: any free port). Fails with a clear error if it cannot bind.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  // The daemons' --metrics-address: "off" gives nullptr; otherwise Start() and log the URL.
  static Result<std::unique_ptr<MetricsServer>> StartFromFlag(const std::string& address);
  ~MetricsServer();

  prometheus::Registry& registry() { return *registry_; }
  // Keeps `collectable` alive for as long as the server (the exposer itself holds weak refs).
  void Add(std::shared_ptr<prometheus::Collectable> collectable);
  int port() const;

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace confcom
