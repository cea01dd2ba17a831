#!/usr/bin/env bash
# Independent parsers and verifiers on the simulated platform's artefacts, for both PCK CA
# shapes (Platform CA and Processor CA):
#   - Go's crypto/x509 (golang-go; tests/interop/x509_parse.go, built offline),
#   - Debian's python3-cryptography (tests/interop/x509_parse.py),
#   - the openssl CLI (x509, crl, verify with CRL checks),
#   - @phala/dcap-qvl from npm (pinned by tests/interop/dcap-qvl/package-lock.json), verifying
#     whole quotes against the simulated root and collateral: UpToDate, OutOfDate for the
#     downgraded CPUSVN, an error for a flipped byte.
# Every certificate of the state dir, both CRLs, and the PCK chain inside each quote.
#   bash tests/interop/interop_test.sh BUILD_DIR
# Exit 77 (skipped) when a tool is missing outside CI; in CI (CI=true) that is a failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:?usage: interop_test.sh BUILD_DIR}" && pwd)"
helper="$build/bin/sgx-quote-helper"
sgxctl="$build/bin/sgxctl"
py=/usr/bin/python3  # Debian's interpreter, with Debian's python3-cryptography
for b in "$helper" "$sgxctl"; do
  [ -x "$b" ] || { echo "interop: $b is not built (build the whole tree first)"; exit 1; }
done

missing=()
command -v go >/dev/null || missing+=("go (golang-go)")
"$py" -c 'import cryptography' 2>/dev/null || missing+=("python3-cryptography")
command -v openssl >/dev/null || missing+=("openssl")
command -v node >/dev/null && command -v npm >/dev/null || missing+=("node and npm")
if [ ${#missing[@]} -gt 0 ]; then
  echo "interop: missing ${missing[*]} (bash scripts/install-deps.sh installs them)"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@" >"$work/out" 2>&1; then
    echo "ok    $what"
  else
    echo "FAIL  $what"; sed 's/^/      /' "$work/out"; failures=$((failures + 1))
  fi
}
# every_line_has FILE TEXT: FILE is not empty and each of its lines contains TEXT (spaces ignored).
every_line_has() { [ -s "$1" ] && ! tr -d ' ' <"$1" | grep -v -F -- "$2" | grep -q .; }

marker="$(grep -o 'kSimMarkerOid\[\] = "[^"]*"' "$repo/src/sim/platform.h" | cut -d'"' -f2)"
[ -n "$marker" ] || { echo "interop: cannot read kSimMarkerOid from src/sim/platform.h"; exit 1; }

echo "== building the Go reader offline ($(go version | cut -d' ' -f3))"
GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE="$work/gocache" GOPATH="$work/gopath" \
  go build -o "$work/x509_parse" "$here/x509_parse.go"

echo "== installing @phala/dcap-qvl from the lockfile (node $(node --version))"
npm_dir="$build/interop-npm"
if ! cmp -s "$here/dcap-qvl/package-lock.json" "$npm_dir/package-lock.json" || [ ! -d "$npm_dir/node_modules" ]; then
  rm -rf "$npm_dir" && mkdir -p "$npm_dir"
  cp "$here/dcap-qvl/package.json" "$here/dcap-qvl/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
qvl="NODE_PATH='$npm_dir/node_modules' node '$here/dcap-qvl/verify.js'"

for ca in platform processor; do
  d="$work/$ca"
  mkdir -p "$d/run" "$d/chain"
  echo "== a simulated platform with PCK certificates from the ${ca^} CA"
  "$helper" --backend sim --sim-pck-ca "$ca" --socket "$d/run/aesm.socket" --state-dir "$d/state" \
    --metrics-address 127.0.0.1:0 >"$d/helper.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$d/run/aesm.socket" ] && break; sleep 0.1; done
  [ -S "$d/run/aesm.socket" ] || { echo "helper did not start:"; cat "$d/helper.log"; exit 1; }
  "$sgxctl" quote --socket "$d/run/aesm.socket" --report-data 0a0b -o "$d/good.bin" >/dev/null
  "$sgxctl" quote --socket "$d/run/aesm.socket" --report-data 0a0b --cpusvn downgraded -o "$d/down.bin" >/dev/null
  "$sgxctl" collateral --state-dir "$d/state" -o "$d/col" >/dev/null
  "$py" - "$d/good.bin" "$d/flipped.bin" <<'PY'
import sys
q = bytearray(open(sys.argv[1], "rb").read())
q[48 + 320] ^= 0x01  # one bit of the app report's report_data: covered by the quote signature
open(sys.argv[2], "wb").write(q)
PY
  certs=()
  for f in "$d"/state/*.pem; do certs+=(--cert "$f"); done
  crls=(--crl "$d/col/pck_crl.der" --crl "$d/col/root_ca_crl.der")
  quotes=(--quote "$d/good.bin" --quote "$d/down.bin")
  issuer="Intel SGX PCK ${ca^} CA"

  go_args=(-root "$d/col/root_ca.pem" -marker "$marker")
  for a in "${certs[@]}" "${crls[@]}" "${quotes[@]}"; do
    case "$a" in --*) go_args+=("-${a#--}");; *) go_args+=("$a");; esac
  done
  check "$ca: Go crypto/x509 parses ${#certs[@]} / 2 certificates, both CRLs (signatures), the PCK chain in 2 quotes (verified to the root)" \
    "$work/x509_parse" "${go_args[@]}"
  cp "$work/out" "$d/go.jsonl"
  check "$ca: Go sees the marker on every certificate, CRL and chain" every_line_has "$d/go.jsonl" '"marker":true'
  check "$ca: Go reads the PCK issuer '$issuer' and FMSPC SIMULA in both quotes" \
    bash -c "[ \$(grep '\"kind\":\"quote\"' '$d/go.jsonl' | grep '\"pck_issuer\":\"$issuer\"' | grep -c '\"fmspc\":\"SIMULA\"') = 2 ]"

  check "$ca: python3-cryptography $("$py" -c 'import cryptography; print(cryptography.__version__)') parses and checks the same" \
    "$py" "$here/x509_parse.py" --root "$d/col/root_ca.pem" --marker "$marker" "${certs[@]}" "${crls[@]}" \
    "${quotes[@]}" --write-chain "$d/chain"
  cp "$work/out" "$d/py.jsonl"
  check "$ca: Python sees the marker on every certificate, CRL and chain" every_line_has "$d/py.jsonl" '"marker":true'

  check "$ca: openssl x509 parses every certificate" \
    bash -c "for f in '$d'/state/*.pem '$d'/chain/*.pem; do openssl x509 -noout -text -in \"\$f\" >/dev/null || exit 1; done"
  check "$ca: openssl crl parses both CRLs" \
    bash -c "for f in pck_crl root_ca_crl; do openssl crl -inform DER -in '$d/col/'\$f.der -out '$d/'\$f.pem || exit 1; done"
  check "$ca: openssl verify accepts the quote's PCK chain with both CRLs checked" \
    openssl verify -crl_check_all -CAfile "$d/col/root_ca.pem" -untrusted "$d/chain/good.bin.1.pem" \
    -CRLfile "$d/pck_crl.pem" -CRLfile "$d/root_ca_crl.pem" "$d/chain/good.bin.0.pem"
  check "$ca: the quote's PCK CA is the $issuer" \
    bash -c "openssl x509 -noout -subject -in '$d/chain/good.bin.1.pem' | grep -q '$issuer'"

  check "$ca: dcap-qvl verifies the quote UpToDate" \
    bash -c "$qvl '$d/good.bin' '$d/col' | tee /dev/stderr | grep -q '\"status\":\"UpToDate\"'"
  check "$ca: dcap-qvl rates the downgraded CPUSVN OutOfDate" \
    bash -c "$qvl '$d/down.bin' '$d/col' | tee /dev/stderr | grep -q '\"status\":\"OutOfDate\"'"
  check "$ca: dcap-qvl rejects the quote with one flipped bit" \
    bash -c "$qvl '$d/flipped.bin' '$d/col' | tee /dev/stderr | grep -q '\"error\"'"
  check "$ca: sgxctl verify agrees (ACCEPTED; flipped bit fails)" \
    bash -c "'$sgxctl' verify '$d/good.bin' --collateral '$d/col' --root '$d/col/root_ca.pem' &&
             ! '$sgxctl' verify '$d/flipped.bin' --collateral '$d/col' --root '$d/col/root_ca.pem'"
done

if [ "$failures" -gt 0 ]; then
  echo "interop: $failures check(s) failed"
  exit 1
fi
echo "interop: every check passed (Go, Python, OpenSSL, dcap-qvl; Platform-CA and Processor-CA platforms)"
