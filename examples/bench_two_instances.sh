#!/usr/bin/env bash
# Two `serve` instances on one PostgreSQL store, and one on SQLite, serving
# the same feed on this machine: bytes and ETags compared, then wrk on each.
#
#   cargo build --release
#   examples/bench_two_instances.sh postgres://user:password@127.0.0.1/db
#
# The store goes in a schema of its own (bench_two, dropped first). Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${1:?usage: examples/bench_two_instances.sh postgres://user:password@host/db}
case $URL in *\?*) SEP='&' ;; *) SEP='?' ;; esac
DB="$URL${SEP}options=-csearch_path%3Dbench_two"
psql "$URL" -qc 'DROP SCHEMA IF EXISTS bench_two CASCADE' 2>/dev/null || true
TMP=$(mktemp -d)
BIN=./target/release/topicfeed
$BIN serve --addr 127.0.0.1:18101 --no-sources --base-url http://feeds.test --data "$TMP/a" --database "$DB" >/dev/null 2>"$TMP/a.log" &
A=$!
sleep 6
$BIN serve --addr 127.0.0.1:18102 --no-sources --no-samples --base-url http://feeds.test --data "$TMP/b" --database "$DB" >/dev/null 2>"$TMP/b.log" &
B=$!
$BIN serve --addr 127.0.0.1:18103 --no-sources --base-url http://feeds.test --data "$TMP/s" >/dev/null 2>"$TMP/s.log" &
S=$!
trap 'kill $A $B $S 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 6
P=/feeds/all.atom
for port in 18101 18102 18103; do
    printf '%s ' "$port"
    curl -s -o /dev/null -w '%{http_code} %{size_download} ' "http://127.0.0.1:$port$P"
    curl -sI "http://127.0.0.1:$port$P" | grep -i '^etag'
done
echo "== one SQLite instance, wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "http://127.0.0.1:18103$P" | grep -E 'Requests/sec'
echo "== two PostgreSQL-backed instances at once, wrk -t1 -c32 -d10s each"
wrk -t1 -c32 -d10s "http://127.0.0.1:18101$P" >"$TMP/wa" &
wrk -t1 -c32 -d10s "http://127.0.0.1:18102$P" >"$TMP/wb"
wait %4 2>/dev/null || sleep 1
grep -h 'Requests/sec' "$TMP/wa" "$TMP/wb"
echo "== one PostgreSQL-backed instance alone, wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "http://127.0.0.1:18101$P" | grep -E 'Requests/sec'
ETAG=$(curl -sI "http://127.0.0.1:18101$P" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r')
echo "== 304s on both PostgreSQL-backed instances, wrk -t1 -c32 -d10s each"
wrk -t1 -c32 -d10s -H "If-None-Match: $ETAG" "http://127.0.0.1:18101$P" >"$TMP/na" &
wrk -t1 -c32 -d10s -H "If-None-Match: $ETAG" "http://127.0.0.1:18102$P" >"$TMP/nb"
sleep 1
grep -h 'Requests/sec' "$TMP/na" "$TMP/nb"
