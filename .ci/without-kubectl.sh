#!/usr/bin/env bash
# without-kubectl.sh COMMAND...: runs COMMAND with kubectl hidden from PATH, as on a fresh Debian 12
# (whose kubernetes-client is kubectl 1.20, too old to render; the README's test command must
# pass without one). Each PATH folder that holds a kubectl is replaced by a folder of links to
# its other programs (one `cp -s`: ~1 s for /usr/bin); the link folders are removed afterwards.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND..." >&2; exit 2; }
shadow=$(mktemp -d /tmp/confcom-path.XXXXXX)
trap 'rm -rf "$shadow"' EXIT
IFS=: read -r -a dirs <<<"$PATH"
path=
i=0
for d in "${dirs[@]}"; do
  if [ -n "$d" ] && [ -e "$d/kubectl" ]; then
    i=$((i + 1))
    mkdir "$shadow/$i"
    cp -s "$(cd "$d" && pwd -P)"/* "$shadow/$i/" 2>/dev/null || true  # folders are skipped
    rm -f "$shadow/$i/kubectl"
    echo "without-kubectl: $d/kubectl hidden (PATH uses $shadow/$i, links to the rest of $d)"
    d="$shadow/$i"
  fi
  path="${path:+$path:}$d"
done
if PATH="$path" command -v kubectl >/dev/null; then echo "without-kubectl: kubectl still found" >&2; exit 1; fi
PATH="$path" "$@"
