#!/usr/bin/env bash
# Proves `kubectl apply -k` of the next release over this one is accepted: for every overlay,
# release N rendered, release N+1 rendered with every image's tag changed (what the operator
# guide's upgrade tells users to do: a kustomization over the overlay with `images:`), and
# deploy/validate/upgrade.mjs finds no change of a field the API server treats as immutable.
#
#   bash scripts/check-upgrade.sh              # N = deploy/ at $CONFCOM_UPGRADE_FROM, and N = HEAD
#   bash scripts/check-upgrade.sh render DIR [TAG] > out.yaml   # one overlay, tags set to TAG
#
# The pinned earlier release is main's 8823315 (the last with the certgen Job, whose pod
# template made the upgrade fail, issue 21). Outside a git checkout that part is skipped with a
# message. Needs kubectl >= 1.27 (kustomize 5) and node; exit 0 pass, 1 fail, 2 cannot run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
from="${CONFCOM_UPGRADE_FROM:-8823315}"
upgrade="$here/deploy/validate/upgrade.mjs"

die() { echo "check-upgrade: $*" >&2; exit 2; }

# render DIR [TAG]: `kubectl kustomize DIR`, with every image's tag set to TAG when given.
render() {
  local dir=$1 tag=${2:-} k
  if [ -z "$tag" ]; then
    kubectl kustomize "$dir"
    return
  fi
  k=$(mktemp -d)
  kubectl kustomize "$dir" > "$k/base.yaml"
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [base.yaml]"
    echo "images:"
    # Image names without their tag or digest (a registry's :port stays: it precedes a "/").
    grep -Eo '^[[:space:]-]*image:[[:space:]]*[^[:space:]]+' "$k/base.yaml" \
      | sed -E 's/^[[:space:]-]*image:[[:space:]]*//; s/@.*$//; s/:[^:\/]*$//; s/^"//; s/"$//' \
      | sort -u | while read -r name; do
          echo "  - name: $name"
          echo "    newTag: \"$tag\""
        done
  } > "$k/kustomization.yaml"
  kubectl kustomize "$k"
  rm -rf "$k"
}

if [ "${1:-}" = render ]; then
  shift
  render "$@"
  exit 0
fi

command -v kubectl >/dev/null 2>&1 || die "kubectl not found: install kubectl >= 1.27"
command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 20"
[ -d "$here/deploy/validate/node_modules" ] || die "run scripts/check-manifests.sh first (npm ci in deploy/validate)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
pairs=0
old_root=""
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1 && git -C "$here" cat-file -e "$from^{commit}" 2>/dev/null; then
  mkdir -p "$work/from"
  git -C "$here" archive "$from" deploy | tar -x -C "$work/from"
  old_root="$work/from"
else
  echo "check-upgrade: skip the upgrade from $from: not a git checkout with that revision"
fi

# pair LABEL N.yaml N+1.yaml
pair() {
  pairs=$((pairs + 1))
  if ! node "$upgrade" --label "$1" "$2" "$3"; then failed+=("$1"); fi
}

for dir in "$here"/deploy/overlays/*/; do
  name=$(basename "$dir")
  render "$dir" > "$work/$name-n.yaml" || { failed+=("$name (kustomize)"); continue; }
  render "$dir" next-release > "$work/$name-next.yaml" || { failed+=("$name (kustomize, new tags)"); continue; }
  pair "overlays/$name: this tree -> with new tags" "$work/$name-n.yaml" "$work/$name-next.yaml"
  if [ -n "$old_root" ]; then
    if [ -d "$old_root/deploy/overlays/$name" ]; then
      render "$old_root/deploy/overlays/$name" > "$work/$name-from.yaml" || { failed+=("$name at $from (kustomize)"); continue; }
      pair "overlays/$name: $from -> this tree with new tags" "$work/$name-from.yaml" "$work/$name-next.yaml"
    else
      echo "check-upgrade: overlays/$name is new since $from: nothing to upgrade from"
    fi
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-upgrade: FAILED ${#failed[@]} of $pairs upgrades: ${failed[*]}"
  exit 1
fi
echo "check-upgrade: OK: $pairs upgrades accepted (no immutable field changes)"
