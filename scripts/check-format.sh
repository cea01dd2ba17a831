#!/usr/bin/env bash
# Checks that every C++ file of src/, tests/, bench/ and fuzz/ is formatted as .clang-format
# says (Debian 12's clang-format 14; other versions may format a few constructs differently).
# Exits 0 when all are, else 1, listing the files that differ and the command that fixes them.
#   bash scripts/check-format.sh            (CLANG_FORMAT=clang-format-14 to pick a binary)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
clang_format="${CLANG_FORMAT:-clang-format}"
if ! command -v "$clang_format" >/dev/null; then
  echo "check-format: $clang_format not found (Debian: apt-get install clang-format)" >&2
  exit 2
fi

mapfile -d '' files < <(find src tests bench fuzz -type f \( -name '*.cc' -o -name '*.h' \) -print0 |
                        sort -z)
differ=()
for f in "${files[@]}"; do
  # --dry-run --Werror exits non-zero when formatting would change the file.
  if ! "$clang_format" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    differ+=("$f")
  fi
done

if [ "${#differ[@]}" -eq 0 ]; then
  echo "check-format: ${#files[@]} files follow .clang-format ($("$clang_format" --version))"
  exit 0
fi
echo "check-format: ${#differ[@]} of ${#files[@]} files differ from .clang-format:"
printf '  %s\n' "${differ[@]}"
echo "Fix them with:"
echo "  $clang_format -i --style=file ${differ[*]}"
echo "or every file at once:"
echo "  find src tests bench fuzz \\( -name '*.cc' -o -name '*.h' \\) -print0 | xargs -0 $clang_format -i --style=file"
exit 1
