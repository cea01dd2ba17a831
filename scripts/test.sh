#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (unit + integration) with CTest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/install-deps.sh"
bash "$here/scripts/build.sh" "$@"
build="${BUILD_DIR:-$here/build}"
source "$here/scripts/kubectl-version.sh"
kubectl_problem=$(kubectl_render_problem)
[ -z "$kubectl_problem" ] || echo "test: the manifest rendering tests will skip: $kubectl_problem"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 300
