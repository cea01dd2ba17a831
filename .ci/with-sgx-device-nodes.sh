#!/usr/bin/env bash
# with-sgx-device-nodes.sh COMMAND...: runs COMMAND in a private mount namespace whose /dev also
# holds SGX device nodes (/dev/sgx_enclave c 10:125, /dev/sgx_provision c 10:126, and the DCAP
# driver's /dev/sgx/enclave and /dev/sgx/provision), as on an SGX host, so CI proves the tests
# never read the machine's devices (issue 21). The rest of /dev stays as it was: a tmpfs over
# /dev gets a copy of every node and link, and the mounts under /dev (pts, shm, mqueue) are
# bound back. Without root or unshare, it says so and runs COMMAND with the machine's /dev.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND..." >&2; exit 2; }
if [ "${1:-}" != --inside ]; then
  if [ "$(id -u)" -ne 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
    echo "with-sgx-device-nodes: SKIPPED the SGX device nodes (needs root and unshare --mount);" \
      "running $1 with this machine's /dev"
    exec "$@"
  fi
  exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" --inside "$@"
fi
shift
old=$(mktemp -d /tmp/confcom-olddev.XXXXXX)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=0755,nosuid,size=65536k confcom-dev /dev
for e in "$old"/* "$old"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  name=${e##*/}
  if [ -d "$e" ] && [ ! -L "$e" ] && mountpoint -q "$e"; then
    mkdir -p "/dev/$name" && mount --rbind "$e" "/dev/$name"
  else
    cp -a "$e" "/dev/$name"
  fi
done
umount -l "$old" && rmdir "$old"
mknod -m 0666 /dev/sgx_enclave c 10 125
mknod -m 0660 /dev/sgx_provision c 10 126
mkdir -p /dev/sgx
mknod -m 0666 /dev/sgx/enclave c 10 125
mknod -m 0660 /dev/sgx/provision c 10 126
echo "with-sgx-device-nodes: $(cd /dev && ls -d sgx_enclave sgx_provision sgx/enclave sgx/provision | tr '\n' ' ')present in this mount namespace"
exec "$@"
