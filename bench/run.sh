#!/usr/bin/env bash
# make bench: every update path in virtual time against the physical limit.
#
#   ./bench/run.sh HOST_BUILD_DIR [bench.py options]
#
# The firmware is the build named by H7_FW_DIR in HOST_BUILD_DIR's
# CMakeCache.txt. Prints the table and writes docs/BENCHMARKS.md (unless
# options such as --out are given; see bench/bench.py --help). The boards
# and clients are children of bench.py, stopped by pid on every exit path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
HOST=${1:?usage: bench/run.sh HOST_BUILD_DIR [options]}
shift
HOST=$(cd "$HOST" && pwd)
FW=$(sed -n 's/^H7_FW_DIR:[A-Z]*=//p' "$HOST/CMakeCache.txt" 2>/dev/null || true)
if [ -z "$FW" ] || [ ! -d "$FW" ]; then
	echo "SKIP: no firmware: H7_FW_DIR is not set in $HOST/CMakeCache.txt (configure with -DH7_FW_DIR=ARM_BUILD)" >&2
	exit 77
fi
for f in "$FW/boot/h7boot.elf" "$FW/app/h7app.bin" "$HOST/bench/h7bench"; do
	[ -e "$f" ] || { echo "SKIP: $f is not built (make build)" >&2; exit 77; }
done
for tool in python3 sb stm32flash; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done
if [ $# -eq 0 ]; then
	set -- --out "$root/docs/BENCHMARKS.md"
fi
exec python3 "$here/bench.py" --host "$HOST" --fw "$FW" "$@"
