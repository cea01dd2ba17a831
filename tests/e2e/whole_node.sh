#!/usr/bin/env bash
# A whole SGX node on one machine: the device plugin (simulated EPC) registers with a kubelet
# emulator, pods are "scheduled" (Allocate) for the quote helper and for the user's workload,
# the quote helper starts as its DaemonSet would, and the workload gets a quote through
# libsgx_quote_ex.so.1 over /var/run/aesmd/aesm.socket, with SGX_AESM_ADDR=1 — inside a private
# mount namespace so the host's /var/run is untouched. Then the quote is verified.
#
#   bash tests/e2e/whole_node.sh [BUILD_DIR]      (default: build/; needs root for the namespace)
# Exit 0 on success, 77 when it cannot run here (not root, no mount namespaces), 1 on failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
plugin="$build/bin/sgx-device-plugin"
kubelet="$build/bin/sgx-kubelet-emulator"
helper="$build/bin/sgx-quote-helper"
sgxctl="$build/bin/sgxctl"
for b in "$plugin" "$kubelet" "$helper" "$sgxctl"; do
  [ -x "$b" ] || { echo "e2e: $b is missing: build first (bash scripts/build.sh)" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
  echo "e2e: SKIPPED: needs root and mount namespaces (unshare -m)"
  exit 77
fi

work="$(mktemp -d /tmp/confcom-e2e.XXXXXX)"
dp="$work/device-plugins"
mkdir -p "$dp"
# The plugin's own host root with the in-tree driver's nodes (empty files), whatever this
# machine's /dev holds: the allocations below are the same on an SGX host and elsewhere.
host="$work/host"
mkdir -p "$host/dev"
touch "$host/dev/sgx_enclave" "$host/dev/sgx_provision"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
n=0
step() { n=$((n + 1)); printf '\n[e2e %d] %s\n' "$n" "$*"; }
fail() { echo "e2e: FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }

# Runs the kubelet emulator until it has allocated; prints the allocation's JSON line.
allocate() {  # allocate NAME RESOURCE COUNT
  local name=$1 resource=$2 count=$3
  timeout 30 "$kubelet" --device-plugin-dir "$dp" --resource "$resource" --allocate-mib "$count" \
    --exit-after-allocate --json >"$work/kubelet-$name.jsonl" 2>"$work/kubelet-$name.log" &
  local k=$!
  wait "$k" || fail "kubelet emulator ($name) did not allocate"
  grep '"event":"registered"' "$work/kubelet-$name.jsonl" | sed 's/^/        kubelet: /' >&2
  grep '"event":"allocate"' "$work/kubelet-$name.jsonl" | tail -n 1
}

step "kubelet (emulator) serves Registration on $dp/kubelet.sock; the device plugin starts with simulated EPC"
timeout 30 "$kubelet" --device-plugin-dir "$dp" --resource kubernetes.azure.com/sgx_epc_mem_in_MiB \
  --allocate-mib 64 --exit-after-allocate --json >"$work/kubelet-helper.jsonl" 2>"$work/kubelet-helper.log" &
k=$!
sleep 0.2
"$plugin" --device-plugin-dir "$dp" --host-root "$host" --epc-mib 1024 --metrics-address 127.0.0.1:0 >"$work/plugin.log" 2>&1 &
pids+=($!)
wait "$k" || fail "the plugin did not register or allocate"
grep -E '"event":"(registered|list)"' "$work/kubelet-helper.jsonl" | sed 's/^/        kubelet: /'
helper_epc=$(grep '"event":"allocate"' "$work/kubelet-helper.jsonl" | tail -n 1)
echo "        quote helper pod: $helper_epc"

step "kubelet restarts (it deletes the plugin sockets); the plugin re-registers; the helper pod gets the provisioning device"
helper_prov=$(allocate provision kubernetes.azure.com/sgx_provision 1)
echo "        quote helper pod: $helper_prov"
python3 -c 'import json,sys; sys.exit("/dev/sgx_provision" not in [d["host_path"] for d in json.loads(sys.argv[1])["devices"]])' "$helper_prov" || fail "the helper pod was not given /dev/sgx_provision: $helper_prov"

step "the user's Job is scheduled: limit kubernetes.azure.com/sgx_epc_mem_in_MiB: 10"
workload=$(allocate workload kubernetes.azure.com/sgx_epc_mem_in_MiB 10)
echo "        workload pod: $workload"
# Apply the Allocate answer: its env for the container, its device list as bind mounts.
envs=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); print(" ".join(f"{k}={v}" for k,v in sorted(a["envs"].items())))' "$workload")
devices=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); print(" ".join(d["host_path"] for d in a["devices"]))' "$workload")
echo "$envs" | grep -q 'SGX_EPC_MIB=10' || fail "the workload's Allocate answer lacks SGX_EPC_MIB=10: $envs"
echo "        container env: $envs"
echo "        device nodes to mount: $devices (the fake host root's; simulated EPC)"
[ "$devices" = /dev/sgx_enclave ] || fail "the workload's devices are not exactly /dev/sgx_enclave: $devices"

step "the quote helper starts as its DaemonSet would, in a private mount namespace with its own /var/run/aesmd"
cat >"$work/node.sh" <<NODE
set -euo pipefail
mount -t tmpfs -o mode=0755 tmpfs /run                # /var/run -> /run on Debian; private to us
[ -L /var/run ] || mount -t tmpfs -o mode=0755 tmpfs /var/run
mkdir -p /var/run/aesmd
"$helper" --backend sim --state-dir "$work/helper-state" --metrics-address 127.0.0.1:0 >"$work/helper.log" 2>&1 &
hp=\$!
for _ in \$(seq 1 200); do [ -S /var/run/aesmd/aesm.socket ] && break; sleep 0.05; done
[ -S /var/run/aesmd/aesm.socket ] || { echo "helper did not create /var/run/aesmd/aesm.socket"; exit 1; }
echo "        readiness probe: \$("$sgxctl" ping)"

echo
echo "[e2e $((n + 1))] the workload (SGX_AESM_ADDR=1, libsgx_quote_ex.so.1 -> /var/run/aesmd/aesm.socket) gets its quote"
echo "        uses: \$(ldd "$sgxctl" | grep -o 'libsgx_quote_ex.so.1 => [^ ]*')"
env -u CONFCOM_AESM_SOCKET SGX_AESM_ADDR=1 $envs "$sgxctl" quote --report-data 636f6e66636f6d2d653265 \
  -o "$work/quote.bin" | sed 's/^/        /'
kill -TERM \$hp
wait \$hp
[ ! -e /var/run/aesmd/aesm.socket ] || { echo "helper left its socket behind"; exit 1; }
echo "        helper stopped cleanly; socket removed"
NODE
host_before=$(ls -la /var/run/aesmd 2>&1 || true)
unshare -m --propagation private bash "$work/node.sh" || fail "the node scenario failed"
n=$((n + 1))
[ "$host_before" = "$(ls -la /var/run/aesmd 2>&1 || true)" ] || fail "the host's /var/run/aesmd changed"
echo "        the host's /var/run/aesmd is untouched"

step "the quote is verified against the simulated platform's collateral"
"$sgxctl" collateral --state-dir "$work/helper-state" -o "$work/collateral" >/dev/null
"$sgxctl" verify "$work/quote.bin" --collateral "$work/collateral" --root "$work/collateral/root_ca.pem" \
  | grep -E '^(verdict|result|tcb_status)' | sed 's/^/        /'
"$sgxctl" verify "$work/quote.bin" --collateral "$work/collateral" --root "$work/collateral/root_ca.pem" >/dev/null \
  || fail "the workload's quote does not verify"

echo
echo "e2e: PASSED ($n steps): plugin registered, re-registered after a kubelet restart, allocated EPC and the provisioning device, helper served the workload's quote, quote verified"
