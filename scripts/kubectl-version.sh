# Sourced (bash) by what renders deploy/ with `kubectl kustomize`: scripts/check-manifests.sh
# and the manifest tests. The kustomizations use labels[].includeTemplates, which needs
# kustomize 5, built into kubectl from 1.27 on; kubectl 1.24 fails on every overlay, and
# Debian 12's kubernetes-client is kubectl 1.20.
kubectl_min_minor=27

# kubectl_render_problem: prints why this machine's kubectl cannot render deploy/ and which
# version to get (nothing when it can: kubectl >= 1.27 on PATH). Always returns 0.
kubectl_render_problem() {
  local get="get kubectl >= 1.$kubectl_min_minor (kustomize 5, for labels[].includeTemplates) from https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/; Debian 12's kubernetes-client (1.20) is too old"
  if ! command -v kubectl >/dev/null 2>&1; then
    echo "kubectl not found: $get"
    return 0
  fi
  local v major minor
  v=$(kubectl version --client -o json 2>/dev/null) || v=
  major=$(sed -n 's/.*"major": *"\([0-9]*\).*/\1/p' <<<"$v" | head -n 1)
  minor=$(sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' <<<"$v" | head -n 1)
  if [ -z "$major" ] || [ -z "$minor" ]; then
    echo "cannot read the version of $(command -v kubectl) (kubectl version --client -o json): $get"
  elif [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt "$kubectl_min_minor" ]; }; then
    echo "$(command -v kubectl) is kubectl $major.$minor, too old to render deploy/: $get"
  fi
  return 0
}
