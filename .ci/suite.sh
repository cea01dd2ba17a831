#!/usr/bin/env bash
# CI's test-suite stage: the README's command (scripts/test.sh) once, as on a fresh Debian 12
# SGX host: kubectl hidden from PATH (.ci/without-kubectl.sh) and SGX device nodes in a private
# /dev (.ci/with-sgx-device-nodes.sh; without root or unshare it says so and skips that part).
# The rendering checks must then skip with their message, not fail; afterwards only they run
# again with this machine's kubectl (a few seconds), where they must pass. One suite run, not
# two: the stage's ~2 min on 2 cores keeps .ci/run under 45 min.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${BUILD_DIR:-$PWD/build}"
# The CTest tests that render deploy/ with kubectl kustomize: their names, and only theirs,
# match this (a new rendering test must too, or this pattern must grow).
rendering='Manifest|SimulatedOverlay'
log="$build/suite-without-kubectl.log"
mkdir -p "$build"

bash .ci/with-sgx-device-nodes.sh bash .ci/without-kubectl.sh bash scripts/test.sh 2>&1 | tee "$log"
# Every test's output, skipped ones included (the next ctest call replaces LastTest.log).
cp "$build/Testing/Temporary/LastTest.log" "$build/suite-without-kubectl.LastTest.log"

# The device nodes were there for the code under test: the device plugin at host root /, as a
# test that forgot --host-root would run it, sees them (main's SgxctlStatusTest failed so).
if grep -q '^with-sgx-device-nodes: SKIPPED' "$log"; then
  echo "CI: the suite ran without the SGX device nodes (no root or unshare here)"
elif [ -x "$build/bin/sgx-device-plugin" ]; then
  seen=$(bash .ci/with-sgx-device-nodes.sh "$build/bin/sgx-device-plugin" --discover --json)
  grep -q '"/dev/sgx_enclave"' <<<"$seen" ||
    { echo "CI: the SGX device nodes were not visible in the suite's namespace: $seen"; exit 1; }
  echo "CI: the suite passed with /dev/sgx_enclave visible (sgx-device-plugin --discover at host root / lists it)"
fi

# Each rendering test skipped (ctest: "***Skipped") and said why: kubectl, and the version.
# (ctest -N -R also lists the fixtures they need, e.g. the validator's npm install: not these.)
mapfile -t rendered < <(ctest --test-dir "$build" -N -R "$rendering" | sed -n 's/^ *Test *#[0-9]*: //p' |
  grep -E "$rendering")
[ ${#rendered[@]} -gt 0 ] || { echo "CI: no CTest test matches -R '$rendering'"; exit 1; }
for t in "${rendered[@]}"; do
  grep -Eq "Test +#[0-9]+: $t \.+\*+Skipped" "$log" ||
    { echo "CI: $t did not skip without kubectl (see $log)"; exit 1; }
done
skip_msg=$(grep -h "^skip: kubectl not found: get kubectl >= 1\.27" "$build/suite-without-kubectl.LastTest.log" | sort -u || true)
[ -n "$skip_msg" ] || { echo "CI: the rendering tests skipped without naming the kubectl to get"; exit 1; }
echo "CI: without kubectl, ${#rendered[@]} rendering test(s) skipped: $skip_msg"

echo "== the rendering tests again, with kubectl ($(command -v kubectl))"
ctest --test-dir "$build" -R "$rendering" --output-on-failure --timeout 300 | tee "$build/suite-rendering.log"
if grep -q 'Skipped' "$build/suite-rendering.log"; then
  echo "CI: a rendering test skipped with kubectl on PATH"
  exit 1
fi
