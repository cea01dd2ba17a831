#!/usr/bin/env bash
# scripts/kubectl-version.sh against fake kubectls: none, 1.20 (Debian 12's), 1.24, 1.26 and
# unreadable ones are refused naming the version to get; 1.27, 1.32+ (a vendor's "32+") and
# 2.0 are accepted. Each fake prints what `kubectl version --client -o json` prints.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/scripts/kubectl-version.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
# fake MAJOR MINOR: a kubectl on a PATH of its own that reports that version.
fake() {
  mkdir -p "$work/$1.$2"
  printf '#!/bin/sh\ncat <<JSON\n{\n  "clientVersion": {\n    "major": "%s",\n    "minor": "%s",\n    "gitVersion": "v%s.%s.0"\n  }\n}\nJSON\n' \
    "$1" "$2" "$1" "${2%+}" >"$work/$1.$2/kubectl"
  chmod +x "$work/$1.$2/kubectl"
}
# expect PATH_DIR WANT(ok|refused) [TEXT]: PATH is PATH_DIR then /usr/bin:/bin (for sed), or
# PATH_DIR alone when it is "none" (no kubectl at all; the check needs nothing else then).
expect() {
  local p path="$1:/usr/bin:/bin"
  [ "${1##*/}" = none ] && path=$1
  p=$(PATH="$path" kubectl_render_problem)
  if [ "$2" = ok ] && [ -z "$p" ]; then echo "ok: $1 accepted"; return; fi
  if [ "$2" = refused ] && grep -qF -- "${3:-}" <<<"$p" && grep -qF "get kubectl >= 1.27" <<<"$p"; then
    echo "ok: $1 refused: $p"
    return
  fi
  echo "FAIL: $1: want $2 ${3:-}, got '${p}'"
  fails=$((fails + 1))
}
for v in "1 20" "1 24" "1 26" "1 27" "1 32+" "2 0"; do fake $v; done
mkdir -p "$work/broken" "$work/none"
printf '#!/bin/sh\necho "error: unknown flag: --output"; exit 1\n' >"$work/broken/kubectl"
chmod +x "$work/broken/kubectl"
expect "$work/none" refused "kubectl not found"
expect "$work/1.20" refused "is kubectl 1.20, too old"
expect "$work/1.24" refused "is kubectl 1.24, too old"
expect "$work/1.26" refused "is kubectl 1.26, too old"
expect "$work/broken" refused "cannot read the version"
expect "$work/1.27" ok
expect "$work/1.32+" ok
expect "$work/2.0" ok
[ "$fails" -eq 0 ] && echo "kubectl-version: every case as expected" || exit 1
