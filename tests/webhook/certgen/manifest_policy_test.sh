#!/usr/bin/env bash
# The webhook's manifest policy (deploy/validate/policy.mjs) catches what it promises to: the
# default overlay passes, and each of these breakages of it fails with its own message.
# Skips (77) without kubectl, node or the validator's node_modules (scripts/check-manifests.sh
# installs them).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
policy="$here/deploy/validate/policy.mjs"
source "$here/scripts/kubectl-version.sh"; kubectl_problem=$(kubectl_render_problem); [ -z "$kubectl_problem" ] || { echo "skip: $kubectl_problem"; exit 77; }
command -v node >/dev/null || { echo "skip: node missing"; exit 77; }
[ -d "$here/deploy/validate/node_modules" ] || { echo "skip: run scripts/check-manifests.sh first (npm ci)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kubectl kustomize "$here/deploy/overlays/default" > "$work/default.yaml" || exit 1
node "$policy" overlay default "$work/default.yaml" || { echo "FAIL: the default overlay does not pass"; exit 1; }
fails=0
# expect_fail DESCRIPTION EXPECTED_MESSAGE PYTHON_EXPRESSION_ON_s
expect_fail() {
  python3 -c "import sys; s=open(sys.argv[1]).read(); s=$3; open(sys.argv[2],'w').write(s)" \
    "$work/default.yaml" "$work/broken.yaml" || { echo "FAIL: cannot make '$1'"; fails=$((fails + 1)); return; }
  out=$(node "$policy" overlay default "$work/broken.yaml" 2>&1)
  if [ $? -eq 0 ] || ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL: $1: policy said: $out"
    fails=$((fails + 1))
  else
    echo "ok: $1"
  fi
}
expect_fail "mutating failurePolicy Fail" "failurePolicy is not Ignore" "s.replace('failurePolicy: Ignore', 'failurePolicy: Fail', 1)"
expect_fail "one replica" "fewer than 2 replicas" "s.replace('replicas: 2', 'replicas: 1')"
expect_fail "no PodDisruptionBudget" "no PodDisruptionBudget" "s.replace('minAvailable: 1', 'minAvailable: 0')"
expect_fail "kube-system not excluded" "namespaceSelector does not exclude" "s.replace('NotIn', 'In', 1)"
expect_fail "webhook timeout 30 s" "timeoutSeconds" "s.replace('timeoutSeconds: 5', 'timeoutSeconds: 30')"
expect_fail "certgen RBAC for every Secret" "certgen RBAC is not exactly" "s.replace('resourceNames:\n  - sgx-webhook-tls\n', '', 1)"
expect_fail "plain-HTTP probes" "is not HTTPS" "s.replace('scheme: HTTPS', 'scheme: HTTP')"
expect_fail "root webhook" "does not run as non-root" "s.replace('runAsNonRoot: true', 'runAsNonRoot: false')"
expect_fail "no certificate source" "nothing makes the webhook's certificate" "s.replace('  name: certgen\n', '  name: certgen-renamed\n', 1)"
expect_fail "token in the webhook container" "mounts a service account token (only certgen" "s.replace('        - mountPath: /etc/sgx-webhook/tls\n          name: tls\n          readOnly: true\n', '        - mountPath: /etc/sgx-webhook/tls\n          name: tls\n          readOnly: true\n        - mountPath: /t\n          name: certgen-token\n', 1)"
expect_fail "certificate from a Secret volume" "is not an emptyDir written by certgen" "s.replace('emptyDir:\n          medium: Memory', 'secret:\n          secretName: sgx-webhook-tls\n          medium: Memory', 1)"
expect_fail "a Job (immutable template)" "a Job in the install" "s + '---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n'"
expect_fail "no renewal CronJob" "no renewal CronJob running certgen" "s.replace('kind: CronJob', 'kind: CronJobX', 1)"
expect_fail "renewal that does not roll the pods" "lacks --restart-deployment=sgx-webhook" "s.replace('--restart-deployment=sgx-webhook', '--attempts=8', 1)"
expect_fail "concurrent renewals" "concurrencyPolicy is not Forbid" "s.replace('concurrencyPolicy: Forbid', 'concurrencyPolicy: Allow', 1)"
expect_fail "init container may roll the Deployment" "certgen RBAC is not exactly" "s.replace('  name: sgx-webhook-certgen-restart\nsubjects:\n', '  name: sgx-webhook-certgen-restart\nsubjects:\n- kind: ServiceAccount\n  name: sgx-webhook\n  namespace: kube-system\n', 1)"
[ "$fails" -eq 0 ] || exit 1
echo "manifest policy: every breakage caught"
