#include "deviceplugin/framework/metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace confcom::deviceplugin {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

class PluginCollector final : public prometheus::Collectable {
 public:
  PluginCollector(std::vector<PluginMetricsSource> sources, std::string epc_source, bool simulated)
      : sources_(std::move(sources)), epc_source_(std::move(epc_source)), simulated_(simulated) {}

  std::vector<MetricFamily> Collect() const override {
    MetricFamily devices{"confcom_device_plugin_devices",
                         "Devices in the newest ListAndWatch message, by health",
                         MetricType::Gauge,
                         {}};
    MetricFamily advertised{"confcom_device_plugin_advertised_devices",
                            "Devices advertised (capacity)",
                            MetricType::Gauge,
                            {}};
    MetricFamily allocated{"confcom_device_plugin_allocated_devices_total",
                           "Distinct devices handed out by successful Allocate calls",
                           MetricType::Counter,
                           {}};
    MetricFamily allocations{"confcom_device_plugin_allocations_total",
                             "Successful Allocate calls",
                             MetricType::Counter,
                             {}};
    MetricFamily refused{"confcom_device_plugin_refused_total",
                         "Allocate and GetPreferredAllocation calls refused",
                         MetricType::Counter,
                         {}};
    MetricFamily registrations{"confcom_device_plugin_registrations_total",
                               "Successful registrations with kubelet",
                               MetricType::Counter,
                               {}};
    MetricFamily failures{"confcom_device_plugin_register_failures_total",
                          "Failed registration attempts",
                          MetricType::Counter,
                          {}};
    MetricFamily bytes{"confcom_device_plugin_listandwatch_message_bytes",
                       "Size of the newest ListAndWatch message (kubelet accepts 4194304)",
                       MetricType::Gauge,
                       {}};
    auto add = [](MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels, double v,
                  bool counter) {
      ClientMetric m;
      m.label = std::move(labels);
      if (counter) m.counter.value = v;
      else m.gauge.value = v;
      f.metric.push_back(std::move(m));
    };
    for (const auto& s : sources_) {
      const PluginStats& st = s.server->stats();
      add(devices, {{"resource", s.resource}, {"health", "Healthy"}}, double(st.healthy.load()),
          false);
      add(devices, {{"resource", s.resource}, {"health", "Unhealthy"}}, double(st.unhealthy.load()),
          false);
      add(advertised, {{"resource", s.resource}}, double(s.server->devices().size()), false);
      add(allocated, {{"resource", s.resource}}, double(st.allocated_devices.load()), true);
      add(allocations, {{"resource", s.resource}}, double(st.allocations.load()), true);
      add(refused, {{"resource", s.resource}}, double(st.refused.load()), true);
      add(registrations, {{"resource", s.resource}}, double(st.registrations.load()), true);
      add(failures, {{"resource", s.resource}}, double(st.register_failures.load()), true);
      add(bytes, {{"resource", s.resource}}, double(st.message_bytes.load()), false);
    }
    MetricFamily info{"confcom_device_plugin_info",
                      "Version and EPC source; simulated=\"true\" means --epc-mib",
                      MetricType::Gauge,
                      {}};
    add(info,
        {{"version", CONFCOM_VERSION},
         {"epc_source", epc_source_},
         {"simulated", simulated_ ? "true" : "false"}},
        1, false);
    return {devices,       advertised, allocated, allocations, refused,
            registrations, failures,   bytes,     info};
  }

 private:
  std::vector<PluginMetricsSource> sources_;
  std::string epc_source_;
  bool simulated_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> MakePluginCollector(
    std::vector<PluginMetricsSource> sources, std::string epc_source, bool simulated) {
  return std::make_shared<PluginCollector>(std::move(sources), std::move(epc_source), simulated);
}

}  // namespace confcom::deviceplugin
