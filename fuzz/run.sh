#!/bin/sh
# Runs one target for MINUTES minutes of wall time in all, one libFuzzer
# process at a time, niced. A crash or timeout ends a libFuzzer run (its
# input is saved under artifacts/<target>/); the loop then starts another
# run for the time that is left, so the total is always reached.
#   fuzz/run.sh <target> <minutes> [extra libFuzzer flags]
set -u
target=$1; minutes=$2; shift 2
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/$target
cp -n fuzz/seeds/$target/* fuzz/corpus/$target/ 2>/dev/null
case $target in normalize|feed) max_len=65536 ;; *) max_len=4096 ;; esac
end=$(( $(date +%s) + minutes * 60 ))
run=0
while [ "$(date +%s)" -lt "$end" ]; do
  left=$(( end - $(date +%s) ))
  [ "$left" -lt 5 ] && break
  run=$((run + 1))
  nice -n 10 cargo +nightly fuzz run "$target" -- \
    -max_total_time=$left -max_len=$max_len -timeout=10 -report_slow_units=1 \
    -rss_limit_mb=2048 -print_final_stats=1 -jobs=1 -workers=1 "$@"
  rc=$?
  # -jobs=1 runs the one fuzzing process as a child that logs to fuzz-0.log.
  for log in fuzz-0.log fuzz/fuzz-0.log; do
    [ -f "$log" ] && cat "$log" && mv "$log" "${LOGDIR:-/tmp}/$target-$run.log"
  done
  echo "=== $target run $run exit $rc at $(date -u +%T)"
done
