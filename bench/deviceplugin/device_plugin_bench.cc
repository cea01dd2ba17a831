// device_plugin_bench: the figures of the SGX EPC device plugin.
//   1. ListAndWatch message size and build time (plan + encode) at 8, 64, 256 GiB, 2 x 128 GiB
//      and 1 TiB of EPC, all Healthy and all Unhealthy (target: every message <= 4,194,304).
//   2. Allocate latency p50/p99 for a 10 GiB request (10,240 device IDs), against the real
//      sgx-device-plugin process over its UNIX socket, dialled as kubelet does (target: p99 < 1 ms).
//   3. The plugin's RSS at 256 GiB with a ListAndWatch stream open (target: < 16 MiB).
//   4. Both resource schemes at 256 GiB, same run: IDs the kubelet handles per node,
//      ListAndWatch bytes, one pod's admission as kubelet does it (legacy: GetPreferredAllocation
//      over every available ID, then Allocate of 10 MiB; intel: Allocate of one enclave share,
//      the EPC being a node resource the plugin is not asked about), plugin CPU and RSS.
// Missed targets are marked MISSED; the exit status is 0 (a benchmark, not a test).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <grpcpp/grpcpp.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "deviceplugin/api.grpc.pb.h"
#include "deviceplugin/framework/device_set.h"
#include "deviceplugin/plugin_node.h"
#include "kube/kubelet_dial.h"

namespace dp = confcom::deviceplugin;
using Clock = std::chrono::steady_clock;

namespace {

const char* Mark(bool ok) { return ok ? "OK" : "MISSED"; }

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void MessageSizes() {
  std::printf("ListAndWatch message size (limit %zu bytes) and build time:\n",
              dp::kKubeletMaxMessageBytes);
  std::printf("  %-12s %9s %9s %5s %-8s %-5s %11s %11s %9s\n", "EPC", "devices", "listed", "step",
              "ids", "topo", "healthy B", "unhealthy B", "build ms");
  struct Case {
    const char* name;
    std::vector<dp::DeviceBlock> blocks;
  };
  const uint64_t g = 1024;
  std::vector<Case> cases = {{"8 GiB", {{0, 8 * g}}},
                             {"64 GiB", {{0, 64 * g}}},
                             {"256 GiB", {{0, 256 * g}}},
                             {"2x128 GiB", {{0, 128 * g}, {1, 128 * g}}},
                             {"2x32 GiB", {{0, 32 * g}, {1, 32 * g}}},
                             {"1 TiB", {{0, 1024 * g}}}};
  for (const auto& c : cases) {
    auto t0 = Clock::now();
    dp::DeviceSet set(dp::PlanLayout(c.blocks, c.blocks.size() > 1));
    std::vector<bool> healthy(set.size(), true);
    auto m = set.Encode(healthy);
    double build = Ms(Clock::now() - t0);
    std::vector<bool> none(set.size(), false);
    auto u = set.Encode(none);
    bool ok = m.bytes->size() <= dp::kKubeletMaxMessageBytes &&
              u.bytes->size() <= dp::kKubeletMaxMessageBytes;
    const auto& l = set.layout();
    std::printf("  %-12s %9llu %9llu %5d %-8s %-5s %11zu %11zu %9.1f  %s", c.name,
                (unsigned long long)l.inventory, (unsigned long long)m.listed, l.step,
                dp::IdSchemeName(l.ids), l.topology ? "yes" : "no", m.bytes->size(),
                u.bytes->size(), build, Mark(ok));
    if (u.unhealthy_omitted) std::printf(" (unhealthy left out)");
    std::printf("\n");
  }
}

// `plugin_bin` at 256 GiB (--epc-mib 262144) on a fake host without SGX hardware but with the
// device nodes of `devices`, and `args`: the tests' shared fixture (tests/deviceplugin).
std::unique_ptr<confcom::testing::Process> StartPlugin(dp::testing::PluginNode& node,
                                                       const std::string& plugin_bin,
                                                       const std::vector<std::string>& devices,
                                                       std::vector<std::string> args) {
  node.UsePluginBinary(plugin_bin);
  node.host().NoSgxCpu();
  for (const auto& d : devices) node.host().AddDevice(d);
  args.insert(args.begin(), {"--epc-mib", "262144", "--log-level", "warn"});
  return node.StartPlugin(args);
}

// User + system CPU time of a process, in microseconds (/proc/PID/stat fields 14 and 15).
double CpuMicros(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) * 1e6 / double(::sysconf(_SC_CLK_TCK));
}

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
};
Latency Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[size_t(double(ms.size()) * 0.99)], ms.back()};
}

// A "Field:  N kB" line of /proc/PID/<file> (status, smaps_rollup), in KiB; -1 if absent.
long ProcKiB(pid_t pid, const std::string& file, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}
long StatusKiB(pid_t pid, const std::string& field) { return ProcKiB(pid, "status", field); }
long RollupKiB(pid_t pid, const std::string& field) { return ProcKiB(pid, "smaps_rollup", field); }

int LiveBench(const std::string& plugin_bin, int iterations) {
  dp::testing::PluginNode node;
  auto plugin = StartPlugin(node, plugin_bin, {"/dev/sgx_enclave"}, {"--provision-devices", "0"});
  const pid_t pid = plugin->pid();
  std::string sock = node.dp() + "/confcom-sgx-epc.sock";
  confcom::testing::WaitForSocket(sock, std::chrono::seconds(5));
  auto channel = confcom::kube::DialUnixSocket(sock);
  auto stub = v1beta1::DevicePlugin::NewStub(channel);

  // Follow ListAndWatch as kubelet would, then take the healthy IDs from the first message.
  grpc::ClientContext watch_ctx;
  auto reader = stub->ListAndWatch(&watch_ctx, v1beta1::Empty());
  v1beta1::ListAndWatchResponse first;
  if (!reader->Read(&first)) {
    std::printf("cannot read ListAndWatch from %s\n", plugin_bin.c_str());
    return 1;
  }
  std::printf(
      "\nLive plugin (256 GiB, --epc-mib 262144): first ListAndWatch message %zu bytes, "
      "%d devices\n",
      first.ByteSizeLong(), first.devices_size());

  v1beta1::AllocateRequest req;
  auto* c = req.add_container_requests();
  for (int i = 0; i < 10240; ++i) c->add_devices_ids(first.devices(i * 17).id());

  // Baselines from the same run: the round trip of an empty call on the same channel (what
  // gRPC and the socket cost), and the client's own encoding of the 10,240 IDs (kubelet's
  // share; the bench client pays it inside each measured Allocate).
  std::vector<double> empty_lat;
  for (int i = 0; i < iterations + 20; ++i) {
    grpc::ClientContext ctx;
    v1beta1::DevicePluginOptions opts;
    auto t0 = Clock::now();
    grpc::Status st = stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &opts);
    if (!st.ok()) {
      std::printf("GetDevicePluginOptions failed: %s\n", st.error_message().c_str());
      return 1;
    }
    if (i >= 20) empty_lat.push_back(Ms(Clock::now() - t0));
  }
  auto e0 = Clock::now();
  size_t encoded = 0;
  for (int i = 0; i < 200; ++i) encoded += req.SerializeAsString().size();
  double encode_us = Ms(Clock::now() - e0) * 1000 / 200;

  std::vector<double> lat;
  double cpu0 = 0;
  for (int i = 0; i < iterations + 20; ++i) {
    if (i == 20) cpu0 = CpuMicros(pid);
    grpc::ClientContext ctx;
    v1beta1::AllocateResponse resp;
    auto t0 = Clock::now();
    grpc::Status st = stub->Allocate(&ctx, req, &resp);
    double ms = Ms(Clock::now() - t0);
    if (!st.ok()) {
      std::printf("Allocate failed: %s\n", st.error_message().c_str());
      return 1;
    }
    if (i >= 20) lat.push_back(ms);  // warm-up excluded
  }
  double plugin_us = (CpuMicros(pid) - cpu0) / iterations;
  Latency a = Summarise(lat), e = Summarise(empty_lat);
  std::printf(
      "Allocate 10 GiB (10,240 IDs, %zu bytes), %d calls: p50 %.3f ms, p99 %.3f ms, "
      "max %.3f ms (target p99 < 1 ms) %s\n",
      encoded / 200, iterations, a.p50, a.p99, a.max, Mark(a.p99 < 1.0));
  std::printf(
      "  baselines: empty call p50 %.3f ms, p99 %.3f ms; client encoding %.0f us; "
      "plugin CPU %.0f us per Allocate\n",
      e.p50, e.p99, encode_us, plugin_us);
  long rss = StatusKiB(pid, "VmRSS");
  std::printf(
      "Plugin RSS at 256 GiB, one stream open, after the calls: %.1f MiB "
      "(target < 16 MiB) %s\n",
      double(rss) / 1024, Mark(rss > 0 && rss < 16 * 1024));
  std::printf(
      "  of which anonymous %.1f MiB, file-backed (shared libraries: gRPC, absl, "
      "protobuf, libstdc++) %.1f MiB\n",
      double(StatusKiB(pid, "RssAnon")) / 1024, double(StatusKiB(pid, "RssFile")) / 1024);
  // RSS counts every mapped page of the shared libraries, including those the kernel maps
  // around a fault from the page cache; what the plugin alone costs the node is its private
  // memory (USS), and its fair share of the shared pages is PSS.
  long private_kib = RollupKiB(pid, "Private_Clean") + RollupKiB(pid, "Private_Dirty");
  std::printf("  private (USS) %.1f MiB, PSS %.1f MiB\n", double(private_kib) / 1024,
              double(RollupKiB(pid, "Pss")) / 1024);
  watch_ctx.TryCancel();
  while (reader->Read(&first)) {
  }
  (void)reader->Finish();
  return 0;
}

// Starts the plugin with `scheme` at 256 GiB on a fake host with both device nodes and
// measures what the kubelet and the plugin handle (section 4).
struct SchemeFigures {
  uint64_t ids = 0;
  size_t lw_bytes = 0;
  Latency admit;
  double admit_cpu_us = 0, start_cpu_ms = 0;
  long rss_kib = 0;
  size_t preferred_request_bytes = 0;
};

bool SchemeBench(const std::string& plugin_bin, const std::string& scheme, int iterations,
                 SchemeFigures* out) {
  dp::testing::PluginNode node;
  auto plugin = StartPlugin(node, plugin_bin, {"/dev/sgx_enclave", "/dev/sgx_provision"},
                            {"--resource-scheme", scheme, "--metrics-address", "off"});
  const pid_t pid = plugin->pid();
  const bool legacy = scheme == "legacy";
  std::vector<std::string> sockets =
      legacy ? std::vector<std::string>{"confcom-sgx-epc.sock", "confcom-sgx-provision.sock"}
             : std::vector<std::string>{"confcom-sgx-intel-enclave.sock",
                                        "confcom-sgx-intel-provision.sock"};
  std::vector<std::unique_ptr<v1beta1::DevicePlugin::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1beta1::ListAndWatchResponse>>> readers;
  std::vector<std::string> first_ids;  // of the first resource
  for (const auto& s : sockets) {
    std::string path = node.dp() + "/" + s;
    confcom::testing::WaitForSocket(path, std::chrono::seconds(10));
    stubs.push_back(v1beta1::DevicePlugin::NewStub(confcom::kube::DialUnixSocket(path)));
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stubs.back()->ListAndWatch(contexts.back().get(), v1beta1::Empty()));
    v1beta1::ListAndWatchResponse m;
    if (!readers.back()->Read(&m)) {
      std::printf("  %s: cannot read ListAndWatch on %s\n", scheme.c_str(), s.c_str());
      return false;
    }
    out->ids += uint64_t(m.devices_size());
    out->lw_bytes += m.ByteSizeLong();
    if (first_ids.empty()) {
      for (const auto& d : m.devices()) first_ids.push_back(d.id());
    }
  }
  out->start_cpu_ms = CpuMicros(pid) / 1000;
  auto& stub = *stubs[0];
  v1beta1::PreferredAllocationRequest pref;
  auto* pc = pref.add_container_requests();
  for (const auto& id : first_ids) pc->add_available_deviceids(id);
  pc->set_allocation_size(10);
  out->preferred_request_bytes = legacy ? pref.ByteSizeLong() : 0;
  std::vector<double> lat;
  double cpu0 = 0;
  for (int i = 0; i < iterations + 5; ++i) {
    if (i == 5) cpu0 = CpuMicros(pid);
    auto t0 = Clock::now();
    v1beta1::AllocateRequest req;
    auto* c = req.add_container_requests();
    if (legacy) {
      grpc::ClientContext ctx;
      v1beta1::PreferredAllocationResponse resp;
      grpc::Status st = stub.GetPreferredAllocation(&ctx, pref, &resp);
      if (!st.ok()) {
        std::printf("  GetPreferredAllocation failed: %s\n", st.error_message().c_str());
        return false;
      }
      for (const auto& id : resp.container_responses(0).deviceids()) c->add_devices_ids(id);
    } else {
      c->add_devices_ids(first_ids[size_t(i) % first_ids.size()]);
    }
    grpc::ClientContext ctx;
    v1beta1::AllocateResponse resp;
    grpc::Status st = stub.Allocate(&ctx, req, &resp);
    if (!st.ok()) {
      std::printf("  Allocate failed: %s\n", st.error_message().c_str());
      return false;
    }
    if (i >= 5) lat.push_back(Ms(Clock::now() - t0));
  }
  out->admit_cpu_us = (CpuMicros(pid) - cpu0) / iterations;
  out->admit = Summarise(lat);
  out->rss_kib = StatusKiB(pid, "VmRSS");
  for (auto& c : contexts) c->TryCancel();
  for (auto& r : readers) {
    v1beta1::ListAndWatchResponse m;
    while (r->Read(&m)) {
    }
    (void)r->Finish();
  }
  return true;
}

void Schemes(const std::string& plugin_bin, int iterations) {
  std::printf("\nResource schemes at 256 GiB of EPC (same run; one pod = 10 MiB of EPC):\n");
  std::printf("  %-7s %9s %12s %11s %11s %13s %12s %9s %18s\n", "scheme", "IDs", "L&W bytes",
              "admit p50", "admit p99", "CPU/admit us", "start CPU ms", "RSS MiB",
              "preferred req B");
  SchemeFigures f[2];
  const char* names[2] = {"legacy", "intel"};
  for (int k = 0; k < 2; ++k) {
    if (!SchemeBench(plugin_bin, names[k], iterations, &f[k])) return;
    std::printf("  %-7s %9llu %12zu %9.3f ms %9.3f ms %13.0f %12.1f %9.1f %18zu\n", names[k],
                (unsigned long long)f[k].ids, f[k].lw_bytes, f[k].admit.p50, f[k].admit.p99,
                f[k].admit_cpu_us, f[k].start_cpu_ms, double(f[k].rss_kib) / 1024,
                f[k].preferred_request_bytes);
  }
  std::printf(
      "  ratios legacy/intel: IDs %.0fx, ListAndWatch bytes %.0fx, admission p50 %.1fx, "
      "plugin CPU per admission %.1fx, RSS %.2fx\n",
      double(f[0].ids) / double(f[1].ids), double(f[0].lw_bytes) / double(f[1].lw_bytes),
      f[0].admit.p50 / f[1].admit.p50, f[0].admit_cpu_us / std::max(1.0, f[1].admit_cpu_us),
      double(f[0].rss_kib) / double(std::max(1L, f[1].rss_kib)));
  std::printf(
      "  intel: EPC is the node resource sgx.intel.com/epc (one capacity entry); the "
      "kubelet's device manager sees only the 220 shares.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugin = DP_PLUGIN_BIN;
  int iterations = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--plugin" && i + 1 < argc) plugin = argv[++i];
    if (a == "--iterations" && i + 1 < argc) iterations = std::max(10, std::atoi(argv[++i]));
  }
  MessageSizes();
  LiveBench(plugin, iterations);
  Schemes(plugin, std::max(10, iterations / 5));
  return 0;
}
