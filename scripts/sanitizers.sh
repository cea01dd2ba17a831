#!/usr/bin/env bash
# The test suite under sanitizers: everything under ASan+UBSan (build-asan/), and the
# concurrent parts (event-loop server, AESM service, quoting backends, verifier, the device
# plugin with its kubelet emulator, the Kubernetes API client) under TSan
# (build-tsan/). Any sanitizer finding fails the run.
#   bash scripts/sanitizers.sh [asan|tsan|all]      (default all)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-all}"
bash "$here/scripts/install-deps.sh"
if [ "$which" = asan ] || [ "$which" = all ]; then
  echo "==> ASan + UBSan: the whole suite"
  BUILD_DIR="$here/build-asan" bash "$here/scripts/build.sh" -DCONFCOM_SANITIZE=address,undefined \
    -DCONFCOM_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$here/build-asan" --output-on-failure -j "$(nproc)" --timeout 300
fi
if [ "$which" = tsan ] || [ "$which" = all ]; then
  echo "==> TSan: the concurrent server, service, backends, verifier, device plugin and API client"
  cmake -S "$here" -B "$here/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONFCOM_SANITIZE=thread \
    -DCONFCOM_BUILD_BENCH=OFF -DCONFCOM_BUILD_DEVICE_PLUGIN=ON >/dev/null
  cmake --build "$here/build-tsan" -j "$(nproc)" --target helper_test quoting_test dcap_test verify_test \
    deviceplugin_test deviceplugin_server_test deviceplugin_process_test kube_test
  # The device plugin's tests run the TSan-built plugin and emulator as processes too: a report
  # in either makes it exit non-zero and fails the test.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$here/build-tsan" --output-on-failure -j "$(nproc)" --timeout 300 \
      -R 'FrameServer|AesmService|ListenSocket|SimBackend|DcapBackend|Verifier|DevicePlugin|KubeletEmulator|Discovery|Kube'
fi
