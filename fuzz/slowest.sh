#!/bin/sh
# Replays a corpus (no fuzzing) and lists the inputs slower than MS ms,
# slowest first, from libFuzzer's own "Executed FILE in N ms" lines. Each
# batch starts with all the seeds (one per format) so the lazily built
# rules, regexes and models are not charged to a corpus input.
#   fuzz/slowest.sh <target> [ms=100] [dir=fuzz/corpus/<target>]
set -u
target=$1; ms=${2:-100}
cd "$(dirname "$0")/.."
dir=${3:-fuzz/corpus/$target}
bin=fuzz/target/x86_64-unknown-linux-gnu/release/$target
find "$dir" -type f | xargs -n 400 nice -n 10 "$bin" -rss_limit_mb=2048 fuzz/seeds/$target/* 2>&1 |
  sed -n 's/^Executed \(.*\) in \([0-9]*\) ms$/\2 \1/p' | grep -v " fuzz/seeds/" |
  awk -v ms="$ms" '$1 > ms' | sort -rn
