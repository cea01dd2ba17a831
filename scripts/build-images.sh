#!/usr/bin/env bash
# Builds confcom's OCI images WITHOUT a container engine: a Debian 12 rootfs from debootstrap
# with the runtime libraries of deps/runtime-packages.txt (--include; apt in a chroot adds any new),
# confcom's binaries on top, packed as OCI image layouts by umoci and archived as tarballs.
# Then smoke-runs each image's rootfs in a chroot: --version of every binary, and a simulated
# quote round trip (helper + sgxctl ping/quote/verify) inside the helper image.
#
#   sudo bash scripts/build-images.sh [--push REGISTRY/PREFIX] [--tag TAG] [OUT_DIR]
#
# Produces in OUT_DIR (default build/images), for VERSION from CMakeLists.txt:
#   sgx-device-plugin-VERSION.oci.tar     the device plugin, sgx-kubelet-emulator, sgx-webhook, sgxctl
#   sgx-quote-helper-VERSION.oci.tar      the quote helper, sgxctl, libsgx_quote_ex.so.1
#   sgx-attest-VERSION.oci.tar            sgx-attest (the service and its `keygen` init container)
#   confcom-attesting-app-VERSION.oci.tar examples/attesting-app built the same way
# Each is an OCI image layout (index.json, tag VERSION) in a tar: `skopeo copy oci-archive:FILE
# docker://REGISTRY/NAME:TAG` pushes it, `ctr images import --base-name NAME FILE` loads it.
# --push REGISTRY/PREFIX pushes all four with skopeo (scripts/push-images.sh) as
# REGISTRY/PREFIX/NAME:TAG (TAG defaults to VERSION); skopeo reads ~/.docker/config.json or
# $REGISTRY_AUTH_FILE for credentials (`skopeo login REGISTRY`).
# IMAGES_BUILD_DIR=DIR installs the binaries from an existing, built CMake build dir instead of
# compiling confcom again (CI reuses its Release demo build: IMAGES_BUILD_DIR=build).
# The hardware variant (Intel's DCAP packages) is built from deploy/images/Dockerfile.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
push="" tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    --push) [ $# -ge 2 ] || { echo "build-images: --push needs REGISTRY/PREFIX" >&2; exit 2; }; push=$2; shift 2 ;;
    --push=*) push=${1#--push=}; shift ;;
    --tag) [ $# -ge 2 ] || { echo "build-images: --tag needs a value" >&2; exit 2; }; tag=$2; shift 2 ;;
    --tag=*) tag=${1#--tag=}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build-images: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -le 1 ] || { echo "build-images: one OUT_DIR at most (see --help)" >&2; exit 2; }
out="$(realpath -m "${1:-$here/build/images}")"
version="$(sed -n 's/^project(confcom VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")"
[ "$(id -u)" -eq 0 ] || { echo "build-images: needs root (debootstrap, chroot)" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }
pkgs() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$'; }

step "Packages for building images"
missing=()
for p in $(pkgs "$here/deps/image-build-packages.txt"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}"
fi

if [ -n "${IMAGES_BUILD_DIR:-}" ]; then
  build="$(realpath -m "$IMAGES_BUILD_DIR")"
  step "Staging the install from the existing build $build (IMAGES_BUILD_DIR)"
  [ -f "$build/cmake_install.cmake" ] && [ -x "$build/bin/sgx-quote-helper" ] \
    || { echo "build-images: IMAGES_BUILD_DIR=$IMAGES_BUILD_DIR is not a built confcom build dir" >&2; exit 1; }
else
  build="$out/build"
  step "Building confcom and staging the install"
  bash "$here/scripts/install-deps.sh"
  BUILD_DIR="$build" BUILD_TYPE=RelWithDebInfo bash "$here/scripts/build.sh" -DCONFCOM_BUILD_TESTS=OFF -DCONFCOM_BUILD_BENCH=OFF
fi
rm -rf "$out/stage" && cmake --install "$build" --prefix "$out/stage/usr/local" --strip >/dev/null

base="$out/base-rootfs"
runtime_pkgs=$(pkgs "$here/deps/runtime-packages.txt")
if [ ! -x "$base/usr/bin/apt-get" ]; then
  # The runtime libraries come in the same pass (--include resolves their dependencies): no
  # second download of the package indexes inside the chroot.
  step "debootstrap: Debian 12 minbase rootfs with $(echo $runtime_pkgs)"
  rm -rf "$base"
  timeout 900 debootstrap --variant=minbase --include="$(echo $runtime_pkgs | tr ' ' ',')" bookworm "$base" \
    http://deb.debian.org/debian >"$out/debootstrap.log" 2>&1 || { tail -n 20 "$out/debootstrap.log"; exit 1; }
fi
missing=()
for p in $runtime_pkgs; do
  chroot "$base" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "Runtime libraries into the base rootfs: ${missing[*]}"
  cp /etc/resolv.conf "$base/etc/resolv.conf"
  timeout 600 chroot "$base" apt-get update -qq
  timeout 600 chroot "$base" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
chroot "$base" sh -c 'getent passwd 65532 >/dev/null || { groupadd -g 65532 nonroot && useradd -u 65532 -g 65532 -M -d /nonexistent -s /usr/sbin/nologin nonroot; }'
# The quote helper's own uid (docs/operator-guide.md, "The helper's uid"): no image's default.
helper_uid=47231
chroot "$base" sh -c "getent passwd $helper_uid >/dev/null || { groupadd -g $helper_uid sgx-quote-helper && useradd -u $helper_uid -g $helper_uid -M -d /nonexistent -s /usr/sbin/nologin sgx-quote-helper; }"

# make_image NAME ENTRYPOINT USER FILES...: a rootfs (base + FILES from the stage), an OCI image,
# plus the umoci config flags in the array image_config (CMD, ENV, ...). No ENTRYPOINT if "".
image_config=()
make_image() {
  local name=$1 entrypoint=$2 user=$3; shift 3
  local rootfs="$out/$name-rootfs" layout="$out/$name-oci"
  step "Image $name: rootfs"
  rm -rf "$rootfs" "$layout" "$out/$name-bundle" && mkdir -p "$rootfs"
  rsync -a --exclude=/var/lib/apt/lists --exclude=/var/cache/apt --exclude=/usr/share/doc \
    --exclude=/usr/share/man --exclude=/usr/share/locale "$base/" "$rootfs/"
  for f in "$@"; do install -D -m 0755 "$out/stage/$f" "$rootfs/$f"; done
  chroot "$rootfs" ldconfig
  # /var/run is an absolute symlink to /run inside the rootfs: create its target, never follow
  # the link on the build host.
  mkdir -p "$rootfs/var/lib/sgx-quote-helper" "$rootfs/run/aesmd"
  chown "$helper_uid:$helper_uid" "$rootfs/var/lib/sgx-quote-helper" "$rootfs/run/aesmd"
  chmod 0700 "$rootfs/var/lib/sgx-quote-helper"
  step "Image $name: OCI layout and archive (umoci)"
  umoci init --layout "$layout"
  umoci new --image "$layout:$version"
  umoci unpack --image "$layout:$version" "$out/$name-bundle" >/dev/null
  rsync -a --delete "$rootfs/" "$out/$name-bundle/rootfs/"
  umoci repack --image "$layout:$version" "$out/$name-bundle"
  umoci config --image "$layout:$version" ${entrypoint:+--config.entrypoint "$entrypoint"} --config.user "$user" \
    --config.workingdir / --config.label "org.opencontainers.image.version=$version" \
    --config.label "org.opencontainers.image.title=$name"
  [ ${#image_config[@]} -eq 0 ] || umoci config --image "$layout:$version" "${image_config[@]}"
  rm -rf "$out/$name-bundle"
  tar -C "$layout" -cf "$out/$name-$version.oci.tar" .
  du -h "$out/$name-$version.oci.tar" | sed 's/^/    /'
}

# The device plugin's image also carries sgx-webhook (the webhook Deployment and its certgen Job
# run it as uid 65532; deploy/components/webhook): one image to build, scan and pin. And sgxctl,
# for `sgxctl status` in the plugin's pod (its metrics and kubelet's folder are there).
make_image sgx-device-plugin /usr/local/bin/sgx-device-plugin 0:0 \
  usr/local/bin/sgx-device-plugin usr/local/bin/sgx-kubelet-emulator usr/local/bin/sgx-webhook \
  usr/local/bin/sgxctl usr/local/lib/libsgx_quote_ex.so.1
make_image sgx-quote-helper /usr/local/bin/sgx-quote-helper "$helper_uid:$helper_uid" \
  usr/local/bin/sgx-quote-helper usr/local/bin/sgxctl usr/local/lib/libsgx_quote_ex.so.1
# sgx-attest: the service and its `sgx-attest keygen` init container, both as uid 65532
# (deploy/components/sgx-attest; the simulated overlay runs the pod as the helper's uid). Its
# certgen init container runs sgx-webhook from the sgx-device-plugin image, and the simulated
# overlay's PCCS sidecar runs sgxctl from the sgx-quote-helper image: nothing else goes in here.
make_image sgx-attest /usr/local/bin/sgx-attest 65532:65532 usr/local/bin/sgx-attest
# examples/attesting-app/Dockerfile without an engine: sgxctl and the drop-in client library,
# its ENV, WORKDIR, USER and CMD read from the Dockerfile (so the two cannot drift).
app_config=()
while IFS= read -r a; do app_config+=("$a"); done < <(python3 - "$here/examples/attesting-app/Dockerfile" <<'PY'
import json, re, sys
text = re.sub(r"\\\n", "", open(sys.argv[1]).read())  # a Dockerfile's line continuations
def one(key):
    found = re.findall(rf"^{key} (.+)$", text, re.M)
    if len(found) != 1:
        sys.exit(f"{sys.argv[1]}: expected one {key}, found {len(found)}")
    return found[0].strip()
flags = ["--config.user", one("USER"), "--config.workingdir", one("WORKDIR"),
         "--config.env", one("ENV"), "--clear=config.cmd"]
for arg in json.loads(one("CMD")):
    flags += ["--config.cmd", arg]
print("\n".join(flags))
PY
)
[ ${#app_config[@]} -gt 7 ] || { echo "build-images: cannot read examples/attesting-app/Dockerfile" >&2; exit 1; }
image_config=("${app_config[@]}")
make_image confcom-attesting-app "" 0:0 usr/local/bin/sgxctl usr/local/lib/libsgx_quote_ex.so.1
image_config=()

step "Smoke test: every binary runs in its image's rootfs"
chroot "$out/sgx-device-plugin-rootfs" /usr/local/bin/sgx-device-plugin --version
chroot "$out/sgx-device-plugin-rootfs" /usr/local/bin/sgxctl --version
chroot "$out/sgx-device-plugin-rootfs" /usr/local/bin/sgx-device-plugin --discover --epc-mib 64 | head -n 5
chroot --userspec=65532:65532 "$out/sgx-device-plugin-rootfs" /usr/local/bin/sgx-webhook --version
chroot --userspec=65532:65532 "$out/sgx-device-plugin-rootfs" /usr/local/bin/sgx-webhook certgen --version
chroot "$out/sgx-quote-helper-rootfs" /usr/local/bin/sgx-quote-helper --version
chroot "$out/sgx-quote-helper-rootfs" /usr/local/bin/sgxctl --version
chroot --userspec=65532:65532 "$out/sgx-attest-rootfs" /usr/local/bin/sgx-attest --version
chroot --userspec=65532:65532 "$out/sgx-attest-rootfs" /usr/local/bin/sgx-attest keygen --version

step "Smoke test: a simulated quote round trip inside the helper image (as uid $helper_uid)"
r="$out/sgx-quote-helper-rootfs"
chroot --userspec="$helper_uid:$helper_uid" "$r" /usr/local/bin/sgx-quote-helper --backend sim \
  --socket /var/run/aesmd/aesm.socket --state-dir /var/lib/sgx-quote-helper >"$out/smoke-helper.log" 2>&1 &
hp=$!
# Up to 120 s: the first start creates the simulated platform (slow on a loaded CI machine).
for _ in $(seq 1 1200); do [ -S "$r/run/aesmd/aesm.socket" ] && break; kill -0 "$hp" 2>/dev/null || break; sleep 0.1; done
ok=0
chroot --userspec="$helper_uid:$helper_uid" "$r" /usr/local/bin/sgxctl ping \
 && chroot --userspec="$helper_uid:$helper_uid" "$r" /usr/local/bin/sgxctl quote --report-data 1234 -o /tmp/q.bin \
 && chroot --userspec="$helper_uid:$helper_uid" "$r" /usr/local/bin/sgxctl collateral --state-dir /var/lib/sgx-quote-helper -o /tmp/col >/dev/null \
 && chroot --userspec="$helper_uid:$helper_uid" "$r" /usr/local/bin/sgxctl verify /tmp/q.bin --collateral /tmp/col --root /tmp/col/root_ca.pem | head -n 3 \
 && ok=1
kill -TERM "$hp"; wait "$hp" || true
rm -rf "$r/tmp/q.bin" "$r/tmp/col" "$r/var/lib/sgx-quote-helper"/* "$r/run/aesmd"/*
[ "$ok" = 1 ] || { cat "$out/smoke-helper.log"; echo "build-images: smoke test FAILED" >&2; exit 1; }
step "Done: $(ls "$out"/*-"$version".oci.tar | tr '\n' ' ')"
if [ -n "$push" ]; then
  timeout 300 bash "$here/scripts/push-images.sh" ${tag:+--tag "$tag"} "$push" "$out"
fi
