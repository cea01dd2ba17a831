#!/usr/bin/env bash
# Configures and builds confcom into build/ (or $BUILD_DIR; build type $BUILD_TYPE, default
# Release). Extra arguments go to cmake. Warnings are errors in CI (CI=true) and for
# developers who set CONFCOM_WERROR=ON; a user's build only reports them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
werror="${CONFCOM_WERROR:-OFF}"
if [ "${CI:-}" = true ]; then werror=ON; fi
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DCONFCOM_WERROR="$werror" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
