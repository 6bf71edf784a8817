#!/usr/bin/env bash
# Instructions per conditional poll (304) of /feeds/all.atom, counted by
# valgrind's callgrind: steady on a noisy machine, unlike wall time.
#
#   bash examples/callgrind_poll.sh [BINARY] [POLLS]
#
# Starts BINARY (default target/release/topicfeed) under callgrind with
# --no-sources on a scratch store (the samples), sends 200 warm-up polls on
# one keep-alive connection, zeroes the counters, sends POLLS more (default
# 2000) and dumps: the dump's total over POLLS is every thread's
# instructions per poll. Needs valgrind and python3.
set -euo pipefail
bin=${1:-target/release/topicfeed}
polls=${2:-2000}
port=18334
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$scratch/cg.%p" "$bin" serve --no-sources \
  --addr "127.0.0.1:$port" --data "$scratch/data" >/dev/null 2>"$scratch/valgrind.log" &
vg=$!
for _ in $(seq 240); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.5; done
python3 - "$port" "$polls" "$vg" <<'PY'
import http.client, subprocess, sys
port, polls, vg = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/feeds/all.atom"); r = c.getresponse(); r.read()
etag = r.getheader("etag")
def poll():
    c.request("GET", "/feeds/all.atom", headers={"If-None-Match": etag})
    r = c.getresponse(); r.read()
    assert r.status == 304, r.status
for _ in range(200):
    poll()
subprocess.run(["callgrind_control", "-z", vg], check=True, capture_output=True)
for _ in range(polls):
    poll()
subprocess.run(["callgrind_control", "-d", vg], check=True, capture_output=True)
PY
kill -INT "$vg"
wait "$vg" || true
awk -v n="$polls" '/^totals/ {s += $2} END {printf "%d instructions per 304 poll (%d polls)\n", s / n, n}' "$scratch"/cg.*.1
