#!/usr/bin/env bash
# Renders every kustomize overlay under deploy/overlays, every component under deploy/components
# (on the base, with the components it needs; see `components` below), and every example under
# examples/,
# validates each object OFFLINE against the Kubernetes OpenAPI schemas (deploy/validate, npm
# package kubernetes-models), asserts confcom's policy facts (deploy/validate/policy.mjs) and,
# for the examples, Pod Security "restricted" (deploy/validate/pod-security.mjs), and that
# `kubectl apply -k` of the next release over each overlay changes no immutable field
# (scripts/check-upgrade.sh: from main's 8823315 and from this tree, every image retagged).
#
#   bash scripts/check-manifests.sh        # from anywhere; exit 0 only if everything passes
#
# Needs kubectl >= 1.27 (its built-in kustomize 5; refused with the version to get otherwise,
# scripts/kubectl-version.sh) and Node.js >= 20. Installs the validator's npm
# dependencies from deploy/validate/package-lock.json (npm ci) when node_modules is absent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
validate_dir="$here/deploy/validate"
start=$(date +%s%N)

die() { echo "check-manifests: $*" >&2; exit 2; }
source "$here/scripts/kubectl-version.sh"
kubectl_problem=$(kubectl_render_problem)
[ -z "$kubectl_problem" ] || die "$kubectl_problem"
command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 20 (the offline schema validator runs on it)"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm (ships with Node.js)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: need >= 20"

if [ ! -d "$validate_dir/node_modules" ]; then
  echo "== npm ci in deploy/validate"
  (cd "$validate_dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $validate_dir"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
objects=0
targets=0

# check LABEL POLICY_MODE POLICY_NAME FILE
check() {
  local label=$1 mode=$2 name=$3 file=$4 out
  targets=$((targets + 1))
  if out=$(node "$validate_dir/validate.mjs" --label "$label" "$file" 2>&1); then
    printf '%s\n' "$out" | sed "s|^|  [$label] |"
    objects=$((objects + $(printf '%s\n' "$out" | grep -c '^OK ')))
  else
    printf '%s\n' "$out" | sed "s|^|  [$label] |"
    failed+=("$label (schema)")
  fi
  if out=$(node "$validate_dir/policy.mjs" "$mode" "$name" "$file" 2>&1); then
    printf '%s\n' "$out" | sed "s|^|  [$label] |"
  else
    printf '%s\n' "$out" | sed "s|^|  [$label] |"
    failed+=("$label (policy)")
  fi
}

# render_and_check LABEL KUSTOMIZATION_DIR POLICY_NAME: kustomize, then the schema and policy.
render_and_check() {
  local rendered="$work/${1//\//-}.yaml"
  if ! kubectl kustomize "$2" > "$rendered" 2> "$work/err"; then
    sed "s|^|  [$1] |" "$work/err"
    failed+=("$1 (kustomize)")
    targets=$((targets + 1))
    return
  fi
  check "$1" overlay "$3" "$rendered"
}

echo "== overlays"
overlays=("$here"/deploy/overlays/*/)
[ -e "${overlays[0]}" ] || die "no overlays under deploy/overlays"
for dir in "${overlays[@]}"; do
  render_and_check "overlays/$(basename "$dir")" "$dir" "$(basename "$dir")"
done

# Every component, rendered on the base with what it needs (listed in order). A component
# directory missing from this table fails the check, so none goes unrendered.
echo "== components"
declare -A components=(
  [quote-helper]="quote-helper"
  [qcnl-config]="quote-helper qcnl-config"
  [qcnl-config-pccs]="quote-helper qcnl-config-pccs"
  [intel-scheme]="quote-helper intel-scheme"
  [webhook]="intel-scheme webhook"
  [webhook-cert-manager]="intel-scheme webhook webhook-cert-manager"
  [webhook-fail-closed]="quote-helper intel-scheme webhook webhook-fail-closed"
  [sgx-attest]="sgx-attest"
)
for dir in "$here"/deploy/components/*/; do
  name=$(basename "$dir")
  if [ -z "${components[$name]:-}" ]; then
    echo "  [components/$name] not listed in scripts/check-manifests.sh: say what it renders with"
    failed+=("components/$name (unlisted)")
    continue
  fi
  k="$work/component-$name"
  mkdir -p "$k"
  rel=$(realpath --relative-to="$k" "$here/deploy")  # kustomize refuses absolute paths
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [$rel/base]"
    echo "components:"
    for c in ${components[$name]}; do echo "  - $rel/components/$c"; done
  } > "$k/kustomization.yaml"
  render_and_check "components/$name" "$k" "component-$name"
done

echo "== examples"
shopt -s nullglob
for f in "$here"/examples/*.yaml "$here"/examples/*.yml; do
  case "$(basename "$f")" in kustomization.y*ml) continue ;; esac
  check "examples/$(basename "$f")" example "$(basename "$f")" "$f"
  # App namespaces may enforce Pod Security "restricted" (docs/operator-guide.md): every example
  # passes it as written (and after sgx-webhook's mutation: tests/webhook/examples_test.cc).
  if out=$(node "$validate_dir/pod-security.mjs" restricted "$f" 2>&1); then
    printf '%s\n' "$out" | tail -n 1 | sed "s|^|  [examples/$(basename "$f")] |"
  else
    printf '%s\n' "$out" | sed "s|^|  [examples/$(basename "$f")] |"
    failed+=("examples/$(basename "$f") (pod security)")
  fi
done
for k in "$here"/examples/kustomization.yaml "$here"/examples/*/kustomization.yaml; do
  [ -f "$k" ] || continue
  dir=$(dirname "$k")
  rel=${dir#"$here"/}
  rendered="$work/example-$(echo "$rel" | tr / _).yaml"
  if ! kubectl kustomize "$dir" > "$rendered" 2> "$work/err"; then
    sed "s|^|  [$rel] |" "$work/err"
    failed+=("$rel (kustomize)")
    continue
  fi
  check "$rel" example "$rel" "$rendered"
done

echo "== upgrades (N -> N+1 with new image tags)"
if ! bash "$here/scripts/check-upgrade.sh" 2>&1 | sed "s|^|  |"; then
  failed+=("upgrades")
fi
targets=$((targets + 1))

ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-manifests: FAILED ${#failed[@]}: ${failed[*]} ($targets targets, ${ms} ms)"
  exit 1
fi
echo "check-manifests: OK: $targets targets, $objects objects valid, policy checks passed (${ms} ms)"
