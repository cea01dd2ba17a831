// sgx-kubelet-emulator: the kubelet side of the device plugin API, for tests and for people
// debugging a node's plugin without a kubelet (the KubeletEmulator class, kubelet_emulator.h).
// Prints each event as text, or one JSON object per line with --json. Runs --watch-seconds
// (0 = until SIGTERM/SIGINT), or until the allocation is printed with --exit-after-allocate.
// Exits 1 when the allocation failed (allocate_error), 2 on usage errors, 0 otherwise.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "common/cli_main.h"
#include "common/signals.h"
#include "deviceplugin/emulator/kubelet_emulator.h"
#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::deviceplugin {
namespace {

struct Flags {
  KubeletEmulatorOptions emulator;
  std::string allocate_ids;  // comma-separated
  bool json = false;
  bool exit_after_allocate = false;
  double watch_seconds = 0;
};

// "event key=value ...", or the JSON object itself.
void Print(const nlohmann::json& event, bool as_json) {
  if (as_json) {
    std::printf("%s\n", event.dump().c_str());
  } else {
    std::string line = event.value("event", "?");
    for (auto it = event.begin(); it != event.end(); ++it) {
      if (it.key() == "event") continue;
      line += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    }
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

int Run(Flags f) {
  sigset_t signals = BlockTerminationSignals();
  std::stringstream ids(f.allocate_ids);
  for (std::string id; !f.allocate_ids.empty() && std::getline(ids, id, ',');) {
    f.emulator.allocate_ids.push_back(id);
  }
  KubeletEmulator emulator(f.emulator, [&](const nlohmann::json& e) { Print(e, f.json); });
  if (Status st = emulator.Start(); !st.ok()) {
    std::fprintf(stderr, "sgx-kubelet-emulator: %s\n", st.message().c_str());
    return 1;
  }
  {
    StopOnSignal stop(signals, [&](int) { emulator.Interrupt(); });
    emulator.Wait(std::chrono::milliseconds(int64_t(f.watch_seconds * 1000)),
                  f.exit_after_allocate);
  }
  emulator.Stop();
  Print({{"event", "exit"}}, f.json);
  return emulator.allocate_failed() ? 1 : 0;
}

}  // namespace
}  // namespace confcom::deviceplugin

int main(int argc, char** argv) {
  using namespace confcom::deviceplugin;
  Flags f;
  f.emulator.resource = kEpcResourceName;
  CLI::App app{
      "sgx-kubelet-emulator: kubelet's side of the device plugin API, for tests and "
      "debugging",
      "sgx-kubelet-emulator"};
  confcom::AddVersionFlag(app, "sgx-kubelet-emulator");
  app.add_option("--device-plugin-dir", f.emulator.dir, "Folder to serve kubelet.sock in")
      ->required();
  app.add_option("--resource", f.emulator.resource, "Resource to allocate from")
      ->capture_default_str();
  app.add_option("--allocate,--allocate-mib", f.emulator.allocate_count,
                 "After the first ListAndWatch message of --resource, allocate this many of its "
                 "devices (MiB for the legacy EPC resource)");
  app.add_option("--allocate-ids", f.allocate_ids, "Allocate these device IDs (comma-separated)");
  app.add_flag("--exit-after-allocate", f.exit_after_allocate,
               "Exit once the allocation result is printed");
  app.add_flag("--allocate-per-registration", f.emulator.allocate_per_registration,
               "Allocate again after every new registration of --resource (a restarted plugin)");
  app.add_option("--watch-seconds", f.watch_seconds, "Run this long (0 = until SIGTERM)");
  app.add_flag("--json", f.json, "One JSON object per line");
  app.add_flag("--keep-sockets", f.emulator.keep_sockets,
               "Do not delete the sockets in the folder at start (kubelet does)");
  if (int code = confcom::ParseCommandLine(app, argc, argv); code >= 0) return code;
  return Run(std::move(f));
}
