#!/bin/sh
# h7sim-dump on a known image (tests/model/mkimage.c): checks the report.
# Usage: dump_test.sh MKIMAGE H7SIM_DUMP
set -u
f=$(mktemp) || exit 1
trap 'rm -f "$f" "$f.out"' EXIT
"$1" "$f" || { echo "mkimage failed"; exit 1; }
"$2" -w "$f" > "$f.out" || { echo "h7sim-dump failed"; exit 1; }
cat "$f.out"
for pat in \
    '^   1      0 0x08000000   4091          3    1    1      0$' \
    '^    0x08000100 single-ECC$' \
    '^    0x08000200 double-ECC$' \
    '^   2      2 0x08140000   4096          0    0    0      2$' \
    '^  WPSN2     0x0000007f  protected sectors: 7$' \
    'RDP 0xaa (level 0), SWAP_BANK_OPT 0' \
    '^  BOOT4     0x1ff00810  ADD0 0x08100000'; do
    grep -q -- "$pat" "$f.out" || { echo "missing: $pat"; exit 1; }
done
