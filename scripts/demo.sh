#!/usr/bin/env bash
# The end-to-end demo on the embedded SIMULATED SGX platform: installs what is missing, builds,
# installs confcom into build/install, starts sgx-quote-helper, fetches, checks and inspects a
# DCAP quote the way an app with SGX_AESM_ADDR=1 would get it out of proc, and verifies it
# against the simulated platform's collateral. Then the whole attestation path: sgxctl pccs
# serves that collateral, sgx-attest attests an app's quote (examples/attest/app.py) and a
# relying party (examples/attest/relying_party.py) releases its secret to the right MRENCLAVE
# only. BUILD_DIR=DIR reuses a build dir (build.sh configures it with CONFCOM_WERROR as set).
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
ls -l "$prefix/bin/sgx-quote-helper" "$prefix/bin/sgxctl" "$prefix/bin/sgx-attest" "$prefix/lib/libsgx_quote_ex.so.1"

work="$(mktemp -d /tmp/confcom-demo.XXXXXX)"
socket="$work/run/aesmd/aesm.socket"   # a private stand-in for /var/run/aesmd/aesm.socket
helper_pid="" pccs_pid="" attest_pid=""
cleanup() {
  local pid
  for pid in $attest_pid $pccs_pid $helper_pid; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # Ctrl-C too stops the daemons (the EXIT trap)

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

step "Attestation, the whole path: sgxctl pccs serves the simulated platform's collateral"
# Free loopback ports (another demo, a test or a real PCCS may hold 8081/8443).
read -r pccs_port attest_port < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
"$prefix/bin/sgxctl" pccs --state-dir "$work/state" --listen "127.0.0.1:$pccs_port" >"$work/pccs.log" 2>&1 &
pccs_pid=$!
echo "    PCCS API at http://127.0.0.1:$pccs_port/sgx/certification/v4/"

step "sgx-attest (Azure Attestation's SGX API) over HTTPS, a throw-away certificate for localhost, trusting the simulated root"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" -out "$work/tls.crt" \
  -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
issuer="https://localhost:$attest_port"
"$prefix/bin/sgx-attest" --listen "127.0.0.1:$attest_port" --tls-cert-file "$work/tls.crt" \
  --tls-private-key-file "$work/tls.key" --issuer "$issuer" \
  --pccs-url "http://127.0.0.1:$pccs_port/sgx/certification/v4/" \
  --trust-root "$work/collateral/root_ca.pem" --metrics-address 127.0.0.1:0 >"$work/attest.log" 2>&1 &
attest_pid=$!
for _ in $(seq 1 200); do
  curl -sf --cacert "$work/tls.crt" "$issuer/readyz" >/dev/null 2>&1 && break
  kill -0 "$attest_pid" 2>/dev/null || { cat "$work/attest.log"; echo "demo: sgx-attest exited" >&2; exit 1; }
  sleep 0.05
done
curl -sf --cacert "$work/tls.crt" "$issuer/readyz" >/dev/null || { cat "$work/attest.log"; echo "demo: sgx-attest not ready" >&2; exit 1; }
sed 's/^/    sgx-attest | /' "$work/attest.log" | head -n 6
echo "    GET $issuer/.well-known/openid-configuration:"
curl -sf --cacert "$work/tls.crt" "$issuer/.well-known/openid-configuration" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("      issuer:", d["issuer"]); print("      jwks_uri:", d["jwks_uri"])'

step "The app (examples/attest/app.py): runtime data bound to a quote from the helper, attested by POST /attest/SgxEnclave"
mrenclave=$(printf 'a%.0s' $(seq 64))
python3 "$here/examples/attest/app.py" --sgxctl "$prefix/bin/sgxctl" --socket "$socket" --mrenclave "$mrenclave" \
  --attest-url "$issuer" --ca-file "$work/tls.crt" --token-out "$work/token.jwt" | sed 's/^/    /'
echo "    the token's claims (excerpt):"
python3 - "$work/token.jwt" <<'PY'
import base64, json, sys
payload = open(sys.argv[1]).read().strip().split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
for k in ("iss", "x-ms-attestation-type", "x-ms-sgx-mrenclave", "x-ms-sgx-is-debuggable",
          "x-ms-sgx-product-id", "x-ms-sgx-svn", "x-confcom-sgx-tcb-status", "x-confcom-sgx-simulated-root"):
    print(f"      {k}: {json.dumps(claims.get(k))}")
PY

step "The relying party (examples/attest/relying_party.py) checks the token with $issuer/certs and releases its secret to MRENCLAVE aaaa..."
echo "the-database-password" >"$work/secret.txt"
python3 "$here/examples/attest/relying_party.py" --issuer "$issuer" --ca-file "$work/tls.crt" \
  --expected-mrenclave "$mrenclave" --secret-file "$work/secret.txt" "$work/token.jwt" | sed 's/^/    /'

step "The same token, when the relying party expects another enclave (MRENCLAVE cccc...), is refused"
if python3 "$here/examples/attest/relying_party.py" --issuer "$issuer" --ca-file "$work/tls.crt" \
  --expected-mrenclave "$(printf 'c%.0s' $(seq 64))" --secret-file "$work/secret.txt" "$work/token.jwt" >"$work/rp.txt" 2>&1; then
  echo "    unexpected: the secret was released to another enclave" >&2; exit 1
fi
sed 's/^/    /' "$work/rp.txt"

step "Stopping sgx-attest and the PCCS"
kill -TERM "$attest_pid" "$pccs_pid"; wait "$attest_pid" || true; wait "$pccs_pid" || true; attest_pid="" pccs_pid=""
echo "    stopped"

step "Stopping the helper (SIGTERM): requests in flight finish, the socket is removed"
kill -TERM "$helper_pid"; wait "$helper_pid"; helper_pid=""
tail -n 2 "$work/helper.log" | sed 's/^/    helper | /'
[ ! -e "$socket" ] && echo "    socket removed"
printf '\nDemo complete. The platform was SIMULATED: these quotes prove nothing about any enclave.\n'
