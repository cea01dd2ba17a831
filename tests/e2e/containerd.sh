#!/usr/bin/env bash
# confcom's images in a real container runtime: Debian's containerd + runc, started here with
# private root/state/socket dirs, the images from scripts/build-images.sh imported with ctr, and
# each container run as its rendered manifest says (tests/e2e/pod_to_ctr.py turns the
# DaemonSet's command, args, securityContext and volumes into ctr flags; hostPath volumes come
# from a fake host folder, emptyDirs are tmpfs):
#   1. the plugin (deploy/overlays/legacy: the default overlay's plugin also registers EPC
#      through the API server, which this test has not; on a fake SGX host: sysfs EPC, cpuinfo flags and
#      device nodes) registers with sgx-kubelet-emulator, run in its own container from the
#      plugin image, and answers Allocate for EPC and for the provisioning device;
#   2. the quote helper (deploy/overlays/simulated): its init container gives the host folders
#      to the helper's uid (CAP_CHOWN, CAP_FOWNER, CAP_DAC_READ_SEARCH), then the helper runs as uid 47231 with a read-only root,
#      no capabilities, no_new_privs and containerd's default seccomp profile, with the host
#      folder as /run/sgx-quote-helper/aesmd; its exec readiness probe passes;
#   3. the attesting app (its own image and root, another uid, SGX_AESM_ADDR=1, the folder
#      mounted read-only at /var/run/aesmd, as the plugin's --aesmd-socket-dir gives it) gets
#      a quote through libsgx_quote_ex.so.1;
#   4. the quote verifies against the helper's simulated root (sgxctl verify, in a container);
#   5. sgx-attest's image (deploy/components/sgx-attest, a Deployment, which pod_to_ctr.py does
#      not translate) runs `sgx-attest --version` and `sgx-attest keygen --version` as its user,
#      read-only root; the simulated overlay's names of all four images resolve, and push/pull.
#
#   bash tests/e2e/containerd.sh [IMAGES_DIR]     (default build/images; needs root)
# Builds the images first (scripts/build-images.sh; IMAGES_BUILD_DIR=DIR reuses a built CMake
# tree), or reuses IMAGES_DIR's archives with E2E_REUSE_IMAGES=1. Installs the Debian packages
# of deps/e2e-packages.txt and deps/image-build-packages.txt if missing.
# Exit 0 on success, 77 when it cannot run here (not root), 1 on failure (naming the container
# and printing what it wrote).
set -euo pipefail
shopt -s inherit_errexit   # a failing command inside $(...) fails the script too
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
images="$(realpath -m "${1:-$here/build/images}")"
version="$(sed -n 's/^project(confcom VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")"
t0=$(date +%s)
n=0
step() { n=$((n + 1)); printf '\n[containerd-e2e %d, %d s] %s\n' "$n" "$(( $(date +%s) - t0 ))" "$*"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "containerd-e2e: SKIPPED: needs root (containerd, runc, debootstrap)"
  exit 77
fi
pkgs() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$'; }

step "Debian packages: $(pkgs "$here/deps/e2e-packages.txt" | tr '\n' ' ')"
missing=()
for p in $(pkgs "$here/deps/e2e-packages.txt") $(pkgs "$here/deps/image-build-packages.txt"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  timeout 600 apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
containerd --version | sed 's/^/    /'
runc --version | head -n 1 | sed 's/^/    /'

if [ "${E2E_REUSE_IMAGES:-0}" = 1 ] && ls "$images"/*-"$version".oci.tar >/dev/null 2>&1; then
  step "Images: reusing $images (E2E_REUSE_IMAGES=1)"
else
  step "Images: scripts/build-images.sh $images${IMAGES_BUILD_DIR:+ (binaries from IMAGES_BUILD_DIR=$IMAGES_BUILD_DIR)}"
  mkdir -p "$(dirname "$images")"   # a fresh clone has no build/ yet
  bash "$here/scripts/build-images.sh" "$images" > "$images.log" 2>&1 \
    || { tail -n 40 "$images.log"; echo "containerd-e2e: FAILED: building the images (log: $images.log)" >&2; exit 1; }
  grep '^==> ' "$images.log" | sed 's/^/    /'
fi

work="$(mktemp -d /tmp/confcom-ctr.XXXXXX)"
sock="$work/containerd.sock"
ns=confcom-e2e
host="$work/host"        # the fake node's file system, for hostPath volumes
logs="$work/logs"
mkdir -p "$logs" "$work/fifo"
containerd_pid=""
registry_pid=""
# ctr with a time limit (timeout runs programs, not shell functions).
ctr_t() { local limit=$1; shift; timeout "$limit" ctr --address "$sock" --namespace "$ns" "$@"; }
cleanup() {
  set +e
  trap '' TERM INT   # a second signal must not cut the cleanup short
  cleanup_t0=$(date +%s)
  [ -z "$registry_pid" ] || kill -TERM "$registry_pid" 2>/dev/null
  if [ -n "$containerd_pid" ]; then
    for t in $(ctr_t 10 tasks ls -q 2>/dev/null); do ctr_t 10 tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done
    for t in $(ctr_t 10 tasks ls -q 2>/dev/null); do
      for _ in $(seq 1 50); do ctr_t 10 tasks delete "$t" >/dev/null 2>&1 && break; sleep 0.1; done
    done
    for c in $(ctr_t 10 containers ls -q 2>/dev/null); do ctr_t 10 containers delete "$c" >/dev/null 2>&1; done
    echo "containerd-e2e: cleanup: tasks and containers removed after $(( $(date +%s) - cleanup_t0 )) s"
    kill -TERM "$containerd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$containerd_pid" 2>/dev/null
    wait "$containerd_pid" 2>/dev/null
    echo "containerd-e2e: cleanup: containerd stopped after $(( $(date +%s) - cleanup_t0 )) s"
  fi
  # A crashed or killed containerd leaves shims and their containers running: kill them by the
  # PIDs recorded in this run's private state dir (nothing else on the machine is touched).
  for f in "$work"/state/io.containerd.runtime.v2.task/*/*/init.pid "$work"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f" 2>/dev/null)
    [[ "$p" =~ ^[0-9]+$ ]] && kill -KILL "$p" 2>/dev/null && echo "containerd-e2e: cleanup: killed leftover PID $p (${f#"$work"/state/})"
  done
  # containerd 1.6 records no shim.pid: its shims are the ones started with this run's socket.
  for d in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -q "^/usr/bin/containerd-shim[^ ]* .*-address $sock $" || continue
    kill -KILL "${d#/proc/}" 2>/dev/null && echo "containerd-e2e: cleanup: killed leftover shim PID ${d#/proc/}"
  done
  # Snapshots are overlay mounts under the private root: unmount what is left before removing.
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  echo "containerd-e2e: cleanup: unmounted after $(( $(date +%s) - cleanup_t0 )) s"
  [ "${E2E_KEEP:-0}" = 1 ] && echo "containerd-e2e: kept $work" || rm -rf "$work"
  echo "containerd-e2e: cleaned up in $(( $(date +%s) - cleanup_t0 )) s (total $(( $(date +%s) - t0 )) s)"
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # CI's TERM (or ^C) runs the EXIT cleanup: no containerd, shim or mount left
fail() {  # fail CONTAINER MESSAGE: says which container and prints what it wrote
  echo "containerd-e2e: FAILED: container $1: $2" >&2
  if [ -s "$logs/$1.log" ]; then echo "--- container $1 wrote:" >&2; tail -n 40 "$logs/$1.log" >&2; fi
  echo "--- containerd (last lines):" >&2; tail -n 10 "$work/containerd.log" >&2
  exit 1
}

step "containerd with private --root/--state/--address under $work (CRI plugin disabled: ctr drives it)"
# Only ctr talks to this containerd, so its CRI plugin is off. (With CRI on, this machine needs
# restrict_oom_score_adj = true under [plugins."io.containerd.grpc.v1.cri"]: root here lacks
# CAP_SYS_RESOURCE and may not lower oom_score_adj.)
cat >"$work/config.toml" <<EOF
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
EOF
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
# Generous waits throughout (they stop early): CI runs this while sanitizer builds load every core.
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$containerd_pid" 2>/dev/null; do
  timeout 10 ctr --address "$sock" version >/dev/null 2>&1 && break; sleep 0.1
done
timeout 10 ctr --address "$sock" version >/dev/null 2>&1 \
  || { tail -n 20 "$work/containerd.log"; echo "containerd-e2e: FAILED: containerd did not start" >&2; exit 1; }
echo "    containerd PID $containerd_pid, $(ctr --address "$sock" version | grep -m1 Version | tr -s ' ')"

step "Import the OCI archives with ctr; the names the manifests use must resolve"
for name in sgx-device-plugin sgx-quote-helper sgx-attest confcom-attesting-app; do
  ctr_t 300 images import --base-name "docker.io/confcom/$name" "$images/$name-$version.oci.tar" >/dev/null \
    || fail "$name" "ctr images import $images/$name-$version.oci.tar failed"
done
for o in default legacy simulated; do kubectl kustomize "$here/deploy/overlays/$o" >"$work/$o.yaml"; done
for ref in $(grep -ho 'image: .*' "$work/default.yaml" "$work/legacy.yaml" "$work/simulated.yaml" | grep -v dcap | awk '{print $2}' | sort -u); do
  grep -qx "docker.io/$ref" <<<"$(ctr_t 30 images ls -q)" || fail "$ref" "the manifests' image docker.io/$ref was not imported (names/tags differ)"
  echo "    docker.io/$ref"
done

# image_as REF UID:GID: REF, or a copy whose config runs as UID:GID (same layers) — what a pod's
# runAsUser/runAsGroup do to the image's USER. ctr run has no --user.
image_as() {
  local ref=$1 user=$2 name
  name=${ref#docker.io/confcom/}; name=${name%:*}
  local tag="$version-as-${user/:/-}" layout="$work/oci-$name"
  if ! grep -qx "docker.io/confcom/$name:$tag" <<<"$(ctr_t 30 images ls -q)"; then
    # Called as $(image_as ...) || fail: errexit is off in there, so every step checks itself.
    rm -rf "$layout" && mkdir -p "$layout" && tar -C "$layout" -xf "$images/$name-$version.oci.tar" || return 1
    umoci config --image "$layout:$version" --tag "$tag" --config.user "$user" >/dev/null || return 1
    tar -C "$layout" -cf "$work/$name-as.tar" . || return 1
    ctr_t 300 images import --base-name "docker.io/confcom/$name" "$work/$name-as.tar" >/dev/null || return 1
  fi
  echo "docker.io/confcom/$name:$tag"
}

# run_container ID OVERLAY DAEMONSET CONTAINER MODE [COMMAND...]: runs the manifest's container
# (its command and args unless COMMAND is given) in the foreground (MODE=fg, exit status kept)
# or detached (MODE=bg). Output goes to $logs/ID.log. Extra ctr flags: the array extra_flags.
extra_flags=()
run_container() {
  local id=$1 overlay=$2 ds=$3 cname=$4 mode=$5; shift 5
  local spec user image flags=() cmd=()
  spec=$(python3 "$here/tests/e2e/pod_to_ctr.py" "$work/$overlay.yaml" "$ds" "$cname" "$host") \
    || fail "$id" "cannot translate $overlay DaemonSet/$ds container $cname to ctr flags"
  user=$(sed -n 's/^USER //p' <<<"$spec")
  mapfile -t flags < <(sed -n 's/^FLAG //p' <<<"$spec") || return 1
  mapfile -t cmd < <(sed -n 's/^CMD //p' <<<"$spec") || return 1
  [ $# -eq 0 ] || cmd=("$@")
  image=$(python3 -c 'import sys,yaml; d=[o for o in yaml.safe_load_all(open(sys.argv[1])) if o and o["kind"]=="DaemonSet" and o["metadata"]["name"]==sys.argv[2]][0]["spec"]["template"]["spec"]; print([c for c in d.get("initContainers",[])+d["containers"] if c["name"]==sys.argv[3]][0]["image"])' "$work/$overlay.yaml" "$ds" "$cname") \
    || fail "$id" "no image for $overlay DaemonSet/$ds container $cname"
  image="docker.io/$image"
  [ -z "$user" ] || image=$(image_as "$image" "$user") || fail "$id" "cannot make the image variant running as $user"
  local common=(--runc-root "$work/runc" --fifo-dir "$work/fifo" --log-uri "file://$logs/$id.log"
                ${flags[@]+"${flags[@]}"} ${extra_flags[@]+"${extra_flags[@]}"})
  printf '    %s: %s as %s, %s\n' "$id" "${image#docker.io/}" "${user:-the image user}" "${cmd[*]}"
  if [ "$mode" = bg ]; then
    ctr_t 180 run -d "${common[@]}" "$image" "$id" "${cmd[@]}" >/dev/null || fail "$id" "ctr run failed"
  else
    local rc=0
    ctr_t 180 run --rm "${common[@]}" "$image" "$id" "${cmd[@]}" || rc=$?
    return "$rc"
  fi
}
task_pid() { ctr_t 30 tasks ls | awk -v id="$1" '$1 == id {print $2}'; }
task_running() { [ "$(ctr_t 30 tasks ls | awk -v id="$1" '$1 == id {print $3}')" = RUNNING ]; }
# Credentials and confinement of a running container's process, read from the host's /proc.
show_confinement() {  # show_confinement ID WANT_UID
  local id=$1 want_uid=$2 pid status
  pid=$(task_pid "$id")
  status=$(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status")
  sed 's/^/        /' <<<"$status"
  awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$status" | grep -qx "$want_uid $want_uid $want_uid $want_uid" \
    || fail "$id" "runs as uid $(awk '/^Uid:/ {print $2}' <<<"$status"), want $want_uid"
  for f in CapEff CapPrm CapBnd; do
    grep -q "^$f:[[:space:]]*0000000000000000$" <<<"$status" || fail "$id" "has capabilities ($f)"
  done
  grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$status" || fail "$id" "no_new_privs is not set"
  grep -q '^Seccomp:[[:space:]]*2$' <<<"$status" || fail "$id" "runs without a seccomp filter"
  touch_out=$(ctr_t 120 tasks exec --exec-id ro-check "$id" /bin/sh -c 'touch /usr/ro-check 2>&1; echo rc=$?' 2>&1 || true)
  grep -q 'Read-only file system' <<<"$touch_out" || fail "$id" "its root file system is writable: $touch_out"
  echo "        root file system read-only: $(tail -n 1 <<<"$touch_out" | sed 's/rc=1/yes (touch fails)/')"
}

step "A fake SGX node: sysfs EPC (2 NUMA nodes), cpuinfo flags, /dev/sgx_enclave and /dev/sgx_provision"
mkdir -p "$host/dev" "$host/proc" "$host/var/lib/kubelet/device-plugins"
chmod 0750 "$host/var/lib/kubelet/device-plugins"   # as on a node: root's, kubelet's
for node in 0 1; do
  mkdir -p "$host/sys/devices/system/node/node$node/x86"
  echo $(( 64 << 20 )) >"$host/sys/devices/system/node/node$node/x86/sgx_total_bytes"
done
printf 'processor\t: 0\nflags\t\t: fpu vme sgx sgx_lc\n\n' >"$host/proc/cpuinfo"
# Plain files stand in for the device nodes (the plugin only stats and watches them; nothing
# here opens an SGX device).
: >"$host/dev/sgx_enclave"
: >"$host/dev/sgx_provision"

step "Device plugin (overlay legacy) registers with the kubelet emulator; Allocate for an app's EPC"
kubelet_run() {  # kubelet_run ID RESOURCE COUNT: the emulator in a container of the plugin image
  run_container "$1" legacy sgx-plugin sgx-device-plugin fg \
    /usr/local/bin/sgx-kubelet-emulator --device-plugin-dir /var/lib/kubelet/device-plugins \
    --resource "$2" --allocate-mib "$3" --exit-after-allocate --json
}
# The user variant the plugin's containers need, made before two of them start at once.
image_as "docker.io/confcom/sgx-device-plugin:$version" 0:0 >/dev/null || fail sgx-device-plugin "cannot make the image variant running as 0:0"
kubelet_run kubelet-epc kubernetes.azure.com/sgx_epc_mem_in_MiB 10 &
kubelet=$!
for _ in $(seq 1 1200); do [ -S "$host/var/lib/kubelet/device-plugins/kubelet.sock" ] && break; kill -0 "$kubelet" 2>/dev/null || break; sleep 0.1; done
[ -S "$host/var/lib/kubelet/device-plugins/kubelet.sock" ] || fail kubelet-epc "kubelet.sock did not appear"
run_container sgx-device-plugin legacy sgx-plugin sgx-device-plugin bg
# The emulator waits (up to its ctr run limit) for a plugin: stop early if the plugin exits.
while kill -0 "$kubelet" 2>/dev/null; do
  task_running sgx-device-plugin || { sleep 1; kill -0 "$kubelet" 2>/dev/null || break; fail sgx-device-plugin "exited before the emulator's Allocate"; }
  sleep 0.2
done
wait "$kubelet" || fail kubelet-epc "the emulator did not allocate (is the plugin up? see also: $(tail -n 5 "$logs/sgx-device-plugin.log" | tr '\n' ' '))"
task_running sgx-device-plugin || fail sgx-device-plugin "exited"
show_confinement sgx-device-plugin 0
grep -E '"event":"registered"' "$logs/kubelet-epc.log" | sed 's/^/        kubelet: /'
epc=$(grep '"event":"allocate"' "$logs/kubelet-epc.log" | tail -n 1)
echo "        Allocate: $epc"
python3 - "$epc" <<'PY' || fail kubelet-epc "wrong Allocate answer for EPC: $epc"
import json, sys
a = json.loads(sys.argv[1])
assert a["envs"].get("SGX_EPC_MIB") == "10", a["envs"]
paths = sorted(d["container_path"] for d in a["devices"])
assert paths == ["/dev/sgx_enclave"], paths  # never the provisioning device for an app
PY
socket_mode=$(stat -c '%a %U:%G' "$host/var/lib/kubelet/device-plugins"/*.sock | sort -u | tr '\n' ' ')
echo "        plugin sockets on the host: $(ls "$host/var/lib/kubelet/device-plugins" | tr '\n' ' ')($socket_mode)"

step "kubelet restarts (its folder is wiped of sockets); the plugin re-registers; the helper gets sgx_provision"
kubelet_run kubelet-provision kubernetes.azure.com/sgx_provision 1 || fail kubelet-provision "the emulator did not allocate sgx_provision"
prov=$(grep '"event":"allocate"' "$logs/kubelet-provision.log" | tail -n 1)
echo "        Allocate: $prov"
grep -q '"container_path":"/dev/sgx_provision"' <<<"$prov" || fail kubelet-provision "no /dev/sgx_provision in $prov"
probe=$(python3 -c 'import sys,yaml; d=[o for o in yaml.safe_load_all(open(sys.argv[1])) if o and o["kind"]=="DaemonSet" and o["metadata"]["name"]=="sgx-plugin"][0]; print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]))' "$work/legacy.yaml")
mapfile -t probe_cmd <<<"$probe"
ctr_t 120 tasks exec --exec-id readiness sgx-device-plugin "${probe_cmd[@]}" >"$logs/plugin-probe.log" 2>&1 \
  || { cat "$logs/plugin-probe.log"; fail sgx-device-plugin "its readinessProbe (${probe_cmd[*]}) failed"; }
echo "        readinessProbe (exec in the container): $(head -n 1 "$logs/plugin-probe.log")"

step "Quote helper (overlay simulated): the init container gives the host folders to the helper's uid"
# As kubelet does for hostPath DirectoryOrCreate: root-owned 0755 folders.
install -d -m 0755 "$host/var/run/aesmd" "$host/var/lib/sgx-quote-helper"
run_container host-folders simulated sgx-quote-helper host-folders fg || fail host-folders "exited $?"
for d in var/run/aesmd var/lib/sgx-quote-helper; do
  echo "        /$d: $(stat -c '%A %U:%g' "$host/$d")"
done
helper_uid=47231  # deploy/components/quote-helper: HELPER_UID, runAsUser
[ "$(stat -c '%u:%g %a' "$host/var/run/aesmd")" = "$helper_uid:$helper_uid 755" ] || fail host-folders "/var/run/aesmd is not $helper_uid:$helper_uid 0755"
[ "$(stat -c '%u:%g %a' "$host/var/lib/sgx-quote-helper")" = "$helper_uid:$helper_uid 700" ] || fail host-folders "/var/lib/sgx-quote-helper is not $helper_uid:$helper_uid 0700"

step "Quote helper runs unprivileged; its socket appears in the host folder"
run_container sgx-quote-helper simulated sgx-quote-helper sgx-quote-helper bg
aesm="$host/var/run/aesmd/aesm.socket"
for _ in $(seq 1 1200); do { [ -S "$aesm" ] || ! task_running sgx-quote-helper; } && break; sleep 0.1; done
[ -S "$aesm" ] || fail sgx-quote-helper "no socket $aesm (task: $(ctr_t 30 tasks ls | grep sgx-quote-helper || echo gone))"
show_confinement sgx-quote-helper "$helper_uid"
echo "        socket on the host: $(stat -c '%A %u:%g' "$aesm")"
[ "$(stat -c '%a %u' "$aesm")" = "666 $helper_uid" ] || fail sgx-quote-helper "socket is not 0666 and the helper's"
[ "$(stat -c '%u %a' "$host/var/lib/sgx-quote-helper/state")" = "$helper_uid 700" ] || fail sgx-quote-helper "state folder is not the helper's, 0700"
# Nothing but the socket in the folder apps mount (the locks and the admin socket are in state/).
[ "$(ls -A "$host/var/run/aesmd")" = "aesm.socket" ] || fail sgx-quote-helper "the socket folder holds more than the socket: $(ls -A "$host/var/run/aesmd")"
[ -S "$host/var/lib/sgx-quote-helper/state/admin.sock" ] || fail sgx-quote-helper "no admin socket in state/"
probe=$(python3 -c 'import sys,yaml; d=[o for o in yaml.safe_load_all(open(sys.argv[1])) if o and o["kind"]=="DaemonSet" and o["metadata"]["name"]=="sgx-quote-helper"][0]; print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]))' "$work/simulated.yaml")
mapfile -t probe_cmd <<<"$probe"
ctr_t 120 tasks exec --exec-id readiness sgx-quote-helper "${probe_cmd[@]}" >"$logs/helper-probe.log" 2>&1 \
  || { cat "$logs/helper-probe.log"; fail sgx-quote-helper "its readinessProbe (${probe_cmd[*]}) failed"; }
echo "        readinessProbe (exec in the container): $(head -n 1 "$logs/helper-probe.log")"

step "The attesting app, its own image and root, uid 10001, SGX_AESM_ADDR=1, the folder read-only"
app_uid=10001
out="$work/app-out"
install -d -m 0700 -o "$app_uid" -g "$app_uid" "$out"
nonce=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
# The Allocate answer's environment (SGX_EPC_MIB, ...), as kubelet passes it to the container.
mapfile -t app_env < <(python3 -c 'import json,sys; [print(f"--env={k}={v}") for k,v in json.loads(sys.argv[1])["envs"].items()]' "$epc")
app_image=$(image_as "docker.io/confcom/confcom-attesting-app:$version" "$app_uid:$app_uid") \
  || fail attesting-app "cannot make the image variant running as $app_uid"
echo "    attesting-app: ${app_image#docker.io/} (image CMD: ping, quote, inspect), then a quote for the host"
ctr_t 180 run --rm --runc-root "$work/runc" --fifo-dir "$work/fifo" --log-uri "file://$logs/attesting-app.log" \
  --read-only --seccomp $(printf -- '--cap-drop=%s ' CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD \
    CAP_NET_RAW CAP_SETGID CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE) \
  "${app_env[@]}" \
  --mount "type=bind,src=$host/var/run/aesmd,dst=/var/run/aesmd,options=rbind:ro" \
  --mount "type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:size=16m" \
  --mount "type=bind,src=$out,dst=/out,options=rbind:rw" \
  "$app_image" attesting-app /bin/sh -ec "
    id
    printenv SGX_AESM_ADDR SGX_EPC_MIB
    sgxctl ping --socket /var/run/aesmd/aesm.socket
    sgxctl quote --socket /var/run/aesmd/aesm.socket --report-data $nonce -o /out/quote.bin
    sgxctl inspect /out/quote.bin | head -n 4" \
  || fail attesting-app "exited non-zero"
sed 's/^/        /' "$logs/attesting-app.log"
grep -q "^uid=$app_uid" "$logs/attesting-app.log" || fail attesting-app "did not run as uid $app_uid"
[ -s "$out/quote.bin" ] || fail attesting-app "wrote no quote"
echo "        quote: $(stat -c %s "$out/quote.bin") bytes"
# The image's own CMD (examples/attesting-app/Dockerfile), unchanged.
ctr_t 180 run --rm --runc-root "$work/runc" --fifo-dir "$work/fifo" --log-uri "file://$logs/attesting-app-cmd.log" \
  --read-only --seccomp --mount "type=bind,src=$host/var/run/aesmd,dst=/var/run/aesmd,options=rbind:ro" \
  --mount "type=tmpfs,src=tmpfs,dst=/tmp,options=nosuid:nodev:size=16m" \
  "$app_image" attesting-app-cmd || fail attesting-app-cmd "the image's CMD failed"
echo "        image CMD: $(tail -n 1 "$logs/attesting-app-cmd.log")"

step "The quote verifies against the helper's simulated root (sgxctl verify in a helper-image container)"
vout="$work/verify-out"
install -d -m 0700 -o "$helper_uid" -g "$helper_uid" "$vout"
extra_flags=(--mount "type=bind,src=$out,dst=/quote,options=rbind:ro" --mount "type=bind,src=$vout,dst=/out,options=rbind:rw")
chmod 0755 "$out"
run_container verify simulated sgx-quote-helper sgx-quote-helper fg /bin/sh -ec "
  sgxctl collateral --state-dir /var/lib/sgx-quote-helper/state -o /out/collateral >/dev/null
  sgxctl verify --json /quote/quote.bin --collateral /out/collateral --root /out/collateral/root_ca.pem" \
  || fail verify "the app's quote does not verify"
extra_flags=()
python3 - "$logs/verify.log" "$nonce" <<'PY' || fail verify "unexpected verdict"
import json, sys
v = json.loads(open(sys.argv[1]).read())
print(f"        verdict {v['verdict']}, result {v['result']}, tcb_status {v.get('tcb_status')}, "
      f"report_data {v['enclave']['report_data'][:16]}...")
assert v["verdict"] == "ACCEPTED" and v["verified"], v
assert v["enclave"]["report_data"].lower().startswith(sys.argv[2].lower()), "not the app's report_data"
PY

step "The helper stops on SIGTERM and removes its socket from the host folder"
ctr_t 30 tasks kill -s SIGTERM sgx-quote-helper
for _ in $(seq 1 300); do task_running sgx-quote-helper || break; sleep 0.1; done
task_running sgx-quote-helper && fail sgx-quote-helper "still running 30 s after SIGTERM"
[ ! -e "$aesm" ] || fail sgx-quote-helper "left $aesm behind"
echo "        stopped; socket removed"

step "sgx-attest's image: the program and its keygen start as the image's user (65532), read-only root"
ctr_t 60 run --rm --read-only --runc-root "$work/runc" --fifo-dir "$work/fifo" --log-uri "file://$logs/sgx-attest-version.log" "docker.io/confcom/sgx-attest:$version" \
  sgx-attest-version /usr/local/bin/sgx-attest --version || fail sgx-attest "sgx-attest --version failed in its image"
ctr_t 60 run --rm --read-only --runc-root "$work/runc" --fifo-dir "$work/fifo" --log-uri "file://$logs/sgx-attest-keygen.log" "docker.io/confcom/sgx-attest:$version" \
  sgx-attest-keygen /usr/local/bin/sgx-attest keygen --version || fail sgx-attest "sgx-attest keygen --version failed in its image"
sed 's/^/    /' "$logs/sgx-attest-version.log"

step "The install path: push to a registry (Debian's docker-registry on loopback), pull with containerd, kustomize images:"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
  "$work/registry" "$registry" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$logs/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 1200); do curl -fs -m 5 "http://$registry/v2/" >/dev/null && break; kill -0 "$registry_pid" 2>/dev/null || break; sleep 0.1; done
curl -fs -m 5 "http://$registry/v2/" >/dev/null || fail registry "docker-registry did not answer on $registry"
timeout 300 bash "$here/scripts/push-images.sh" --tag e2e --dest-tls-verify=false "$registry/platform" "$images" | sed 's/^/    /'
for name in sgx-device-plugin sgx-quote-helper sgx-attest confcom-attesting-app; do
  ctr_t 300 images pull --plain-http "$registry/platform/$name:e2e" >/dev/null || fail registry "ctr cannot pull $registry/platform/$name:e2e"
  pulled=$(ctr_t 30 images ls | awk -v r="$registry/platform/$name:e2e" '$1 == r {print $3}')
  imported=$(ctr_t 30 images ls | awk -v r="docker.io/confcom/$name:$version" '$1 == r {print $3}')
  echo "    pulled $registry/platform/$name:e2e = the built image ($pulled)"
  [ -n "$pulled" ] && [ "$pulled" = "$imported" ] || fail registry "$name: pulled $pulled, built $imported"
done
# A user's kustomization pointing the manifests at that registry, as docs/operator-guide.md shows.
mkdir -p "$work/kustomize" && cp -r "$here/deploy" "$work/kustomize/confcom"
printf '%s\n' 'apiVersion: kustomize.config.k8s.io/v1beta1' 'kind: Kustomization' \
  'resources: [confcom/overlays/simulated]' 'images:' \
  "  - {name: confcom/sgx-device-plugin, newName: $registry/platform/sgx-device-plugin, newTag: e2e}" \
  "  - {name: confcom/sgx-quote-helper, newName: $registry/platform/sgx-quote-helper, newTag: e2e}" \
  "  - {name: confcom/sgx-attest, newName: $registry/platform/sgx-attest, newTag: e2e}" \
  >"$work/kustomize/kustomization.yaml"
rendered=$(kubectl kustomize "$work/kustomize" | grep -o 'image: .*' | sort | uniq -c)
sed 's/^/    /' <<<"$rendered"
! grep -q 'image: confcom/' <<<"$rendered" || fail registry "an image still points at confcom/...: $rendered"
[ "$(grep -c "image: $registry/platform/" <<<"$rendered")" = 3 ] || fail registry "not every image points at $registry"
kill -TERM "$registry_pid"; wait "$registry_pid" 2>/dev/null || true
registry_pid=""   # reaped: its PID may be reused, so cleanup must not signal it

echo
echo "containerd-e2e: PASSED ($n steps, $(( $(date +%s) - t0 )) s): plugin registered and allocated on a fake SGX node, helper ran as uid $helper_uid without capabilities, an app of another uid got a quote through the host folder, the quote verified"
