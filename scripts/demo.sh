#!/usr/bin/env bash
# The end-to-end demo on the embedded SIMULATED SGX platform: installs what is missing, builds,
# installs confcom into build/install, starts sgx-quote-helper, fetches, checks and inspects a
# DCAP quote the way an app with SGX_AESM_ADDR=1 would get it out of proc, and verifies it
# against the simulated platform's collateral.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
prefix="$build/install"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Installing missing Debian packages (deps/debian-packages.txt)"
bash "$here/scripts/install-deps.sh"
step "Building"
bash "$here/scripts/build.sh"
step "Installing into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
ls -l "$prefix/bin/sgx-quote-helper" "$prefix/bin/sgxctl" "$prefix/lib/libsgx_quote_ex.so.1"

work="$(mktemp -d /tmp/confcom-demo.XXXXXX)"
socket="$work/run/aesmd/aesm.socket"   # a private stand-in for /var/run/aesmd/aesm.socket
helper_pid=""
cleanup() {
  if [ -n "$helper_pid" ] && kill -0 "$helper_pid" 2>/dev/null; then kill -TERM "$helper_pid"; wait "$helper_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "Starting sgx-quote-helper on the simulated platform (state in $work/state)"
"$prefix/bin/sgx-quote-helper" --backend sim --socket "$socket" --state-dir "$work/state" \
  >"$work/helper.log" 2>&1 &
helper_pid=$!
for _ in $(seq 1 100); do [ -S "$socket" ] && break; sleep 0.05; done
sed 's/^/    helper | /' "$work/helper.log"

step "Readiness probe: sgxctl ping"
"$prefix/bin/sgxctl" ping --socket "$socket"

step "An app's quote, out of proc: sgxctl quote (select key, init, size, quote, check the QE report)"
"$prefix/bin/sgxctl" quote --socket "$socket" --report-data "$(printf 'hello confcom' | od -An -tx1 | tr -d ' \n')" \
  --isv-prod-id 1 --isv-svn 2 -o "$work/quote.bin"

step "The quote, field by field: sgxctl inspect (excerpt)"
"$prefix/bin/sgxctl" inspect "$work/quote.bin" | grep -E '^(size|header|  (version|att_key_type_name|qe_vendor|qe_id))|^  (mr_enclave|report_data|isv_prod_id|isv_svn):|subject:|fmspc:|simulated' | sed 's/^/    /'

step "Independent check with the openssl CLI: the attestation key signed bytes [0, 432)"
python3 - "$work" <<'PY'
import struct, subprocess, sys, base64, os
work = sys.argv[1]
q = open(os.path.join(work, "quote.bin"), "rb").read()
sig, key = q[436:500], q[500:564]
# DER SubjectPublicKeyInfo for an uncompressed P-256 point, and a DER ECDSA signature.
spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + key
def der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80: b = b"\x00" + b
    return b"\x02" + bytes([len(b)]) + b
body = der_int(sig[:32]) + der_int(sig[32:])
open(os.path.join(work, "sig.der"), "wb").write(b"\x30" + bytes([len(body)]) + body)
open(os.path.join(work, "signed.bin"), "wb").write(q[:432])
pem = "-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki).decode() + "-----END PUBLIC KEY-----\n"
open(os.path.join(work, "attest.pem"), "w").write(pem)
r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(work, "attest.pem"),
                    "-signature", os.path.join(work, "sig.der"), os.path.join(work, "signed.bin")],
                   capture_output=True, text=True)
print("    openssl:", r.stdout.strip() or r.stderr.strip())
sys.exit(r.returncode)
PY

step "Collateral of the simulated platform: sgxctl collateral (TCB Info, QE Identity, CRLs, chains, root)"
"$prefix/bin/sgxctl" collateral --state-dir "$work/state" -o "$work/collateral" | sed 's/^/    /'

step "Verification in Intel's QVL order: sgxctl verify, against the simulated root"
"$prefix/bin/sgxctl" verify "$work/quote.bin" --collateral "$work/collateral" --root "$work/collateral/root_ca.pem" \
  | grep -E '^(verdict|message|result|tcb_status|fmspc|simulated_platform)|^  (mr_enclave|report_data)' | sed 's/^/    /'

step "The same quote against Intel's real root (the default) is rejected, as it must be"
if "$prefix/bin/sgxctl" verify "$work/quote.bin" --collateral "$work/collateral" >"$work/intel.txt"; then
  echo "    unexpected: a simulated quote verified against Intel's root" >&2; exit 1
fi
grep -E '^(verdict|failed_check)' "$work/intel.txt" | sed 's/^/    /'

step "Stopping the helper (SIGTERM): requests in flight finish, the socket is removed"
kill -TERM "$helper_pid"; wait "$helper_pid"; helper_pid=""
tail -n 2 "$work/helper.log" | sed 's/^/    helper | /'
[ ! -e "$socket" ] && echo "    socket removed"
printf '\nDemo complete. The platform was SIMULATED: these quotes prove nothing about any enclave.\n'
