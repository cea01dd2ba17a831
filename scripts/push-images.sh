#!/usr/bin/env bash
# Pushes the image archives scripts/build-images.sh wrote to a registry the user names, with
# skopeo (Debian package skopeo; no container engine, no root needed).
#
#   bash scripts/push-images.sh [--tag TAG] [--dest-tls-verify=false] REGISTRY/PREFIX [IMAGES_DIR]
#
# Copies IMAGES_DIR/NAME-VERSION.oci.tar (default build/images) to docker://REGISTRY/PREFIX/NAME:TAG
# for NAME in sgx-device-plugin, sgx-quote-helper, sgx-attest, confcom-attesting-app; TAG defaults to VERSION
# (from CMakeLists.txt). Credentials: `skopeo login REGISTRY` first (or $REGISTRY_AUTH_FILE).
# Any other skopeo destination transport works too when given with its prefix, e.g.
# `oci:/tmp/confcom-oci` (a local OCI layout, one tag per image) or `dir:/tmp/out`.
# Then point the manifests at it with kustomize `images:` (docs/operator-guide.md, "Images").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(sed -n 's/^project(confcom VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")"
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
tag="$version"
skopeo_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || { echo "push-images: --tag needs a value" >&2; exit 2; }; tag=$2; shift 2 ;;
    --tag=*) tag=${1#--tag=}; shift ;;
    --dest-tls-verify=*) skopeo_flags+=("$1"); shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "push-images: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] && [ $# -le 2 ] || { usage >&2; exit 2; }
dest=${1%/}
dir="${2:-$here/build/images}"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "push-images: '$tag' is not a valid image tag" >&2; exit 2; }
command -v skopeo >/dev/null || { echo "push-images: skopeo not found (apt-get install skopeo)" >&2; exit 1; }

for name in sgx-device-plugin sgx-quote-helper sgx-attest confcom-attesting-app; do
  archive="$dir/$name-$version.oci.tar"
  [ -f "$archive" ] || { echo "push-images: $archive is missing: run scripts/build-images.sh first" >&2; exit 1; }
  case "$dest" in
    oci:*) to="$dest:$name-$tag" ;;  # one layout, a tag per image
    dir:*) to="$dest/$name-$tag" ;;
    docker://*) to="$dest/$name:$tag" ;;
    oci-archive:*|docker-archive:*) to="$dest/$name-$tag.tar" ;;
    *) to="docker://$dest/$name:$tag" ;;  # REGISTRY[:PORT]/PREFIX
  esac
  echo "push-images: $archive -> $to"
  skopeo copy --quiet ${skopeo_flags[@]+"${skopeo_flags[@]}"} "oci-archive:$archive:$version" "$to"
done
