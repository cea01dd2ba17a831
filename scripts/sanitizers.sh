#!/usr/bin/env bash
# The test suite under sanitizers: everything under ASan+UBSan (build-asan/, clang, which also
# builds the libFuzzer targets), and the concurrent parts (event-loop server, its policies and
# the hand-over, the daemon skeleton, AESM service, quoting backends, verifier), the device
# plugin's unit tests, the Kubernetes API client with its registrar, and sgx-attest's
# concurrent parts (collateral cache refreshes, the ConfigMap policy store's watch, HTTPS
# serving) under TSan (build-tsan/).
# Any sanitizer finding fails the run.
#   bash scripts/sanitizers.sh [asan|tsan|all]      (default all)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
which="${1:-all}"
bash "$here/scripts/install-deps.sh"
if [ "$which" = asan ] || [ "$which" = all ]; then
  echo "==> ASan + UBSan (clang): the whole suite, and the libFuzzer targets in the same tree"
  # One clang tree serves both: the suite under ASan+UBSan and the fuzzers (fuzz/run.sh
  # build-asan), so CI compiles the project once for the two. A tree configured earlier with
  # another compiler is started afresh (CMake keeps a cache's compiler).
  if [ -f "$here/build-asan/CMakeCache.txt" ] && \
     ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' "$here/build-asan/CMakeCache.txt"; then
    rm -rf "$here/build-asan"
  fi
  CC=clang CXX=clang++ BUILD_TYPE=RelWithDebInfo BUILD_DIR="$here/build-asan" bash "$here/scripts/build.sh" \
    -DCONFCOM_SANITIZE=address,undefined -DCONFCOM_BUILD_BENCH=OFF -DCONFCOM_FUZZ=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$here/build-asan" --output-on-failure -j "$(nproc)" --timeout 300
fi
if [ "$which" = tsan ] || [ "$which" = all ]; then
  echo "==> TSan: the concurrent server, its policies and hand-over, the daemon skeleton, service, backends, verifier, the device plugin's units, the API client, the HTTPS layer and sgx-attest's concurrent parts"
  cmake -S "$here" -B "$here/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONFCOM_SANITIZE=thread \
    -DCONFCOM_BUILD_BENCH=OFF -DCONFCOM_BUILD_DEVICE_PLUGIN=ON >/dev/null
  cmake --build "$here/build-tsan" -j "$(nproc)" --target helper_test quoting_test dcap_test verify_test \
    deviceplugin_test kube_test daemon_test https_test attest_collateral_test attest_kube_test attest_https_test
  # The device plugin's gRPC-facing tests (deviceplugin_server_test, the process tests) are not
  # run here: Debian's gRPC and absl are not built with TSan, and TSan reports their internal
  # handoffs (event-engine fds, call reference counts, status strings) as races.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$here/build-tsan" --output-on-failure -j "$(nproc)" --timeout 300 \
      -R 'FrameServer|AesmService|ListenSocket|Handover|ClientShares|MemoryBudget|Daemon|SimBackend|DcapBackend|Verifier|DevicePlugin(Ids|Layout|Prefer|Schemes)|Discovery|KubeletRequests|KubeApi|^Https|^CollateralCache|^ConfigMapPolicyStore|^AttestHttps'
fi
