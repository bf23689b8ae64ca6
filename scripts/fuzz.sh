#!/usr/bin/env bash
# Run every libFuzzer harness of a fuzz build (make fuzz), each for SECONDS,
# starting from its seed corpus in tests/fuzz/corpus/NAME and the
# reproducers in tests/fuzz/repro/NAME. New inputs go to
# BUILD/corpus/NAME (the seed folders stay as committed), crashes to
# BUILD/artifacts/NAME/. Prints, per harness: executions, coverage
# (edges), corpus size, and whether an invariant broke.
#
#   scripts/fuzz.sh BUILD SECONDS [NAME...]
set -euo pipefail
build=$1
secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=()
  for f in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    names+=("$(basename "$f" | sed 's/^fuzz_//')")
  done
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "fuzz.sh: no harness built in $build/tests/fuzz" >&2
  exit 1
fi
status=0
printf '%-8s %10s %8s %8s %8s  %s\n' harness execs cov ft corpus result
for n in "${names[@]}"; do
  bin=$build/tests/fuzz/fuzz_$n
  work=$build/corpus/$n
  art=$build/artifacts/$n
  log=$build/fuzz_$n.log
  mkdir -p "$work" "$art"
  seeds=("$root/tests/fuzz/corpus/$n")
  [ -d "$root/tests/fuzz/repro/$n" ] && seeds+=("$root/tests/fuzz/repro/$n")
  set +e
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
    -artifact_prefix="$art/" "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corp=$(ls "$work" | wc -l)
  if [ $rc -eq 0 ]; then res=ok; else res="FAILED (rc $rc, see $log, inputs in $art)"; status=1; fi
  printf '%-8s %10s %8s %8s %8s  %s\n' "$n" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$res"
done
exit $status
