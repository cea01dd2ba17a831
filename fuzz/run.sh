#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a copy of its seed corpus.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]      (defaults: 30, <repo>/build-fuzz)
#
# Configures (clang, ASan+UBSan, -DCONFCOM_FUZZ=ON) and builds BUILD_DIR if needed, unless
# FUZZ_NO_BUILD=1 (the `fuzz` ninja target sets it). Environment:
#   FUZZ_TARGETS   space-separated subset of the targets (default: all)
#   FUZZ_JOBS      ninja -j for the build (default 1)
#   FUZZ_KEEP=1    keep the per-target work dirs (grown corpus, logs) under BUILD_DIR/fuzz-run
#   FUZZ_ARGS      extra libFuzzer arguments for every target
# Prints one line per target (execs, execs/s, cov, ft, corpus, crashes) and a final line;
# exits 1 if any target crashed, leaked, timed out or ran out of memory (its input is kept in
# BUILD_DIR/fuzz-run/<target>/artifacts and printed as hex).
set -uo pipefail

SECONDS_PER_TARGET="${1:-30}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
BUILD="$(realpath -m "${2:-$REPO/build-fuzz}")"
ALL_TARGETS="aesm_request_fuzzer quote_fuzzer x509_fuzzer collateral_fuzzer deviceplugin_fuzzer webhook_review_fuzzer kube_api_fuzzer https_request_fuzzer attest_policy_fuzzer attest_request_fuzzer"
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

declare -A MAX_LEN=(
  [aesm_request_fuzzer]=8192
  [quote_fuzzer]=8192
  [x509_fuzzer]=8192
  [collateral_fuzzer]=16384
  [deviceplugin_fuzzer]=4096
  [webhook_review_fuzzer]=16384
  [kube_api_fuzzer]=16384
  [https_request_fuzzer]=8192
  [attest_policy_fuzzer]=8192
  [attest_request_fuzzer]=16384
)
declare -A DICT=(
  [collateral_fuzzer]="$HERE/dict/collateral.dict"
  [x509_fuzzer]="$HERE/dict/x509.dict"
  [webhook_review_fuzzer]="$HERE/dict/webhook.dict"
  [kube_api_fuzzer]="$HERE/dict/kube_api.dict"
  [https_request_fuzzer]="$HERE/dict/http.dict"
  [attest_policy_fuzzer]="$HERE/dict/attest_policy.dict"
  [attest_request_fuzzer]="$HERE/dict/attest.dict"
)

if [[ ! "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]]; then
  echo "usage: bash fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]" >&2
  exit 2
fi

if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
  if [[ ! -f "$BUILD/build.ninja" ]] || ! grep -q '^CONFCOM_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "== configuring $BUILD"
    CC=clang CXX=clang++ cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCONFCOM_FUZZ=ON -DCONFCOM_SANITIZE=address,undefined -DCONFCOM_BUILD_TESTS=OFF \
      -DCONFCOM_BUILD_BENCH=OFF -DCONFCOM_BUILD_DEVICE_PLUGIN=ON \
      -DCONFCOM_WERROR="$([[ "${CI:-}" == true ]] && echo ON || echo "${CONFCOM_WERROR:-OFF}")" \
      >"$BUILD.configure.log" 2>&1 || {
      cat "$BUILD.configure.log" >&2
      echo "fuzz: configure failed" >&2
      exit 1
    }
  fi
  echo "== building fuzzers in $BUILD"
  build_targets=()
  for t in $TARGETS; do build_targets+=("$t"); done
  start=$(date +%s)
  ninja -C "$BUILD" -j"${FUZZ_JOBS:-1}" "${build_targets[@]}" || { echo "fuzz: build failed" >&2; exit 1; }
  echo "== build took $(( $(date +%s) - start )) s"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

RUN_DIR="$BUILD/fuzz-run"
mkdir -p "$RUN_DIR"
failed=0
total_execs=0
summary=()
for t in $TARGETS; do
  bin="$BUILD/fuzz/$t"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz: $bin is missing (is the target enabled in this build?)" >&2
    failed=$((failed + 1))
    summary+=("$(printf '%-22s MISSING' "$t")")
    continue
  fi
  work="$RUN_DIR/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d "$HERE/corpus/$t" ]]; then cp -r "$HERE/corpus/$t/." "$work/corpus/"; fi
  seeds=$(find "$work/corpus" -type f | wc -l)
  args=(-max_total_time="$SECONDS_PER_TARGET" -max_len="${MAX_LEN[$t]:-4096}" -timeout=25
        -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  if [[ -n "${DICT[$t]:-}" && -f "${DICT[$t]}" ]]; then args+=(-dict="${DICT[$t]}"); fi
  # shellcheck disable=SC2206
  extra=(${FUZZ_ARGS:-})
  echo "== $t: ${SECONDS_PER_TARGET}s, $seeds seeds"
  (cd "$work" && "$bin" "${args[@]}" "${extra[@]}" "$work/corpus" >"$work/log" 2>&1)
  rc=$?
  log="$work/log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  # A slow-unit-* file is an input that took over 10 s once (seen on a machine with load 11
  # on 2 cores; 0.28 s alone): a report, not a finding. Crashes, leaks, OOMs and timeouts count.
  crashes=$(find "$work/artifacts" -type f ! -name 'slow-unit-*' | wc -l)
  if [[ $rc -ne 0 && $crashes -eq 0 ]]; then crashes=1; fi  # died without an artifact
  line=$(printf '%-22s execs=%-9s exec/s=%-6s cov=%-5s ft=%-6s corpus=%-12s rss=%sMB crashes=%s' \
         "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$crashes")
  echo "$line"
  summary+=("$line")
  total_execs=$((total_execs + ${execs:-0}))
  if [[ $crashes -ne 0 ]]; then
    failed=$((failed + 1))
    echo "---- $t failed (exit $rc); end of its log:" >&2
    grep -vE '^#[0-9]+' "$log" | tail -60 >&2
    for a in "$work/artifacts"/*; do
      [[ -f "$a" ]] || continue
      echo "---- reproducer $a ($(stat -c %s "$a") bytes), hex:" >&2
      od -An -tx1 -v "$a" | tr -d ' \n' | head -c 4096 >&2
      echo >&2
      echo "     reproduce: $bin $a" >&2
    done
  fi
  if [[ "${FUZZ_KEEP:-0}" != 1 && $crashes -eq 0 ]]; then rm -rf "$work/corpus"; fi
done

echo "== summary (${SECONDS_PER_TARGET}s per target)"
for l in "${summary[@]}"; do echo "$l"; done
n=$(wc -w <<<"$TARGETS")
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED: $failed of $n targets found crashes or did not run ($total_execs execs in all)"
  exit 1
fi
echo "fuzz: OK: $n targets, $total_execs execs, no crashes"
