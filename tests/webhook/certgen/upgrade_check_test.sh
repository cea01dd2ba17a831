#!/usr/bin/env bash
# The upgrade check (scripts/check-upgrade.sh, deploy/validate/upgrade.mjs) catches issue 21's
# bug and passes the fix: the default overlay of main's 8823315 (certgen as a Job) rendered
# with image tag A, then with tag B, must FAIL on the Job's spec.template; this tree's default
# overlay, tag A then tag B, must PASS; and the whole check must pass.
# Skips (77) without kubectl >= 1.27 (kustomize 5 renders the overlays), node, the
# validator's node_modules (scripts/check-manifests.sh installs them) or a git checkout that
# has 8823315.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
from=8823315
skip() { echo "skip: $*"; exit 77; }
source "$here/scripts/kubectl-version.sh"; kubectl_problem=$(kubectl_render_problem)
[ -z "$kubectl_problem" ] || skip "$kubectl_problem"
command -v node >/dev/null || skip "node missing"
[ -d "$here/deploy/validate/node_modules" ] || skip "run scripts/check-manifests.sh first (npm ci)"
git -C "$here" cat-file -e "$from^{commit}" 2>/dev/null || skip "not a git checkout with $from"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render="$here/scripts/check-upgrade.sh"
upgrade="$here/deploy/validate/upgrade.mjs"
fails=0

git -C "$here" archive "$from" deploy | tar -x -C "$work" || exit 1
bash "$render" render "$work/deploy/overlays/default" 0.1.0-a > "$work/old-a.yaml" || exit 1
bash "$render" render "$work/deploy/overlays/default" 0.1.0-b > "$work/old-b.yaml" || exit 1
out=$(node "$upgrade" "$work/old-a.yaml" "$work/old-b.yaml" 2>&1)
if [ $? -ne 0 ] && grep -qF "batch/Job kube-system/sgx-webhook-certgen: spec.template changes" <<<"$out"; then
  echo "ok: $from tag A -> tag B fails on the certgen Job's template"
else
  echo "FAIL: $from tag A -> tag B was not refused: $out"
  fails=$((fails + 1))
fi
bash "$render" render "$here/deploy/overlays/default" 0.1.0-a > "$work/new-a.yaml" || exit 1
bash "$render" render "$here/deploy/overlays/default" 0.1.0-b > "$work/new-b.yaml" || exit 1
grep -q "image: confcom/sgx-device-plugin:0.1.0-b" "$work/new-b.yaml" || { echo "FAIL: the tags were not changed"; fails=$((fails + 1)); }
if out=$(node "$upgrade" "$work/new-a.yaml" "$work/new-b.yaml" 2>&1); then
  echo "ok: this tree tag A -> tag B passes: $out"
else
  echo "FAIL: this tree tag A -> tag B: $out"
  fails=$((fails + 1))
fi
# The renewal CronJob of $from is the same object (name, namespace) as this tree's: updated in
# place; the Job of $from is the only object left over.
if out=$(node "$upgrade" "$work/old-a.yaml" "$work/new-b.yaml" 2>&1) &&
   [ "$(grep -c LEFTOVER <<<"$out")" = 1 ] && grep -qF "LEFTOVER batch/Job kube-system/sgx-webhook-certgen" <<<"$out" &&
   grep -q "name: sgx-webhook-certgen" <<<"$(grep -A8 "^kind: CronJob" "$work/new-b.yaml")"; then
  echo "ok: $from -> this tree passes, the CronJob updated in place, the Job left over"
else
  echo "FAIL: $from -> this tree: $out"
  fails=$((fails + 1))
fi
# Each row of the table catches its field (a few, hand-made).
for case in "DaemonSet selector|apps/v1|DaemonSet|spec:\n  selector:\n    matchLabels: {a: X}|spec.selector" \
            "RoleBinding roleRef|rbac.authorization.k8s.io/v1|RoleBinding|roleRef: {kind: Role, name: X, apiGroup: rbac.authorization.k8s.io}|roleRef" \
            "Secret type|v1|Secret|type: X|type"; do
  IFS='|' read -r what api kind body field <<<"$case"
  printf "apiVersion: $api\nkind: $kind\nmetadata: {name: n, namespace: ns}\n${body//X/one}\n" > "$work/r1.yaml"
  printf "apiVersion: $api\nkind: $kind\nmetadata: {name: n, namespace: ns}\n${body//X/two}\n" > "$work/r2.yaml"
  out=$(node "$upgrade" "$work/r1.yaml" "$work/r2.yaml" 2>&1)
  if [ $? -ne 0 ] && grep -qF ": $field changes" <<<"$out"; then echo "ok: $what"; else echo "FAIL: $what: $out"; fails=$((fails + 1)); fi
done
[ "$fails" -eq 0 ] || exit 1
echo "upgrade check: catches the certgen Job, passes this tree"
