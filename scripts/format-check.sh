#!/usr/bin/env bash
# The tree follows .clang-format (docs/DESIGN.md "Layers and the build
# graph"): every C source and header git tracks, checked without changing
# anything. Run from anywhere; `scripts/format-check.sh --fix` formats them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "format-check: not a git checkout, nothing to list: skipped"
  exit 77
fi
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=$(clang-format --dry-run "${files[@]}" 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning:.*/\1/p' | sort -u)
if [ -n "$bad" ]; then
  echo "format-check: these files do not follow .clang-format (fix: scripts/format-check.sh --fix):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files follow .clang-format"
