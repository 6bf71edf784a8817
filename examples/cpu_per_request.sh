#!/usr/bin/env bash
# CPU per request of a running server, user and kernel time apart.
#
#   bash examples/cpu_per_request.sh PID URL [wrk options, e.g. -H 'If-None-Match: "…"']
#
# Runs `wrk -t2 -c64` (DUR seconds, default 8s) against URL and reads the
# utime and stime of process PID (all its threads) from /proc before and
# after, in clock ticks, divided by the requests wrk counted. Needs wrk.
set -euo pipefail
pid=$1 url=$2
shift 2
ticks() { awk '{print $14, $15}' "/proc/$pid/stat"; }
read -r u0 s0 < <(ticks)
out=$(wrk -t2 -c64 -d"${DUR:-8s}" "$@" "$url")
read -r u1 s1 < <(ticks)
n=$(awk '/requests in/ {print $1}' <<<"$out")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
hz=$(getconf CLK_TCK)
awk -v n="$n" -v rps="$rps" -v du=$((u1 - u0)) -v ds=$((s1 - s0)) -v hz="$hz" 'BEGIN {
  printf "%s req/s; per request: user %.1f us, kernel %.1f us\n", rps, du * 1e6 / hz / n, ds * 1e6 / hz / n
}'
