#!/usr/bin/env bash
# Poll speed: SOURCES upstream RSS feeds of ITEMS items each, served by a
# local nginx (which answers If-None-Match / If-Modified-Since with 304),
# polled by `topicfeed poll` into a fresh store: a first round (every item
# new) and a second round (all 304). Each binary given is measured in the
# same run, RUNS times (taking turns), and the median wall and CPU
# (user+sys) reported.
#
#   examples/bench_poll.sh [BINARY...]     (default: target/release/topicfeed)
#   SOURCES=10 ITEMS=200 RUNS=5 PORT=8391 examples/bench_poll.sh old new
#
# Needs nginx and python3. Nothing leaves loopback.
set -euo pipefail

SOURCES=${SOURCES:-10}
ITEMS=${ITEMS:-200}
RUNS=${RUNS:-5}
PORT=${PORT:-8391}
here=$(cd "$(dirname "$0")/.." && pwd)
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=("$here/target/release/topicfeed")

work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as another user
cleanup() {
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Distinct stories: every item its own words, so none is a duplicate.
python3 - "$work/www" "$SOURCES" "$ITEMS" <<'PY'
import os, random, sys
out, sources, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
words = ("harbour council ferry timetable budget school library bridge storm "
         "river railway museum festival clinic market election turbine wind "
         "fishing quay tide lighthouse orchard brewery cycle lane tram depot "
         "pension housing flood barrier survey survey rota volunteers bakery "
         "allotment archive choir regatta pier gallery orchestra theatre").split()
def sentence():
    n = rng.randint(9, 18)
    s = " ".join(rng.choice(words) for _ in range(n))
    return s[0].upper() + s[1:] + "."
os.makedirs(out, exist_ok=True)
for s in range(sources):
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
             f'<title>Bench Source {s}</title><link>https://bench{s}.example/</link>'
             f'<description>Poll benchmark feed {s}.</description>']
    for i in range(items):
        body = "".join(f"<p>{' '.join(sentence() for _ in range(3))}</p>" for _ in range(4))
        day = 1 + i % 28
        parts.append(
            f"<item><title>Story {s}-{i}: {sentence()[:-1]}</title>"
            f"<link>https://bench{s}.example/{i}</link><guid>bench-{s}-{i}</guid>"
            f"<pubDate>Tue, {day:02d} Oct 2024 09:{i % 60:02d}:00 GMT</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>")
    parts.append("</channel></rss>\n")
    with open(os.path.join(out, f"feed{s}.xml"), "w") as f:
        f.write("".join(parts))
PY

mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<EOF
daemon on;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/tmp; proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
    types { application/rss+xml xml; }
    server { listen 127.0.0.1:$PORT; root $work/www; etag on; }
}
EOF
nginx -c "$work/nginx.conf"

mkdir -p "$work/feeds"
cp "$here"/feeds/*.toml "$work/feeds/"
{
    for ((s = 0; s < SOURCES; s++)); do
        printf '[[source]]\nname = "Bench %d"\nurl = "http://127.0.0.1:%d/feed%d.xml"\n\n' "$s" "$PORT" "$s"
    done
} >"$work/feeds/sources.toml"

# One timed poll: prints "wall cpu" in seconds, to the millisecond (an
# all-304 round takes a few of them).
timed_poll() {
    local bin=$1 data=$2 TIMEFORMAT='%3R %3U %3S'
    { time "$bin" poll --data "$data" --feeds "$work/feeds" \
        >"$work/last.out" 2>"$work/last.err" || true; } 2>"$work/time"
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '%s sources x %s items, %s runs, median\n' "$SOURCES" "$ITEMS" "$RUNS"
printf '%-48s %14s %14s %14s %14s\n' binary "new wall s" "new cpu s" "304 wall s" "304 cpu s"
# The binaries take turns run by run, so a drift in the machine's speed
# (another process, the CPU's clock) falls on all of them alike.
for ((b = 0; b < ${#bins[@]}; b++)); do
    : >"$work/r1.$b"
    : >"$work/r2.$b"
done
for ((r = 0; r < RUNS; r++)); do
    for ((b = 0; b < ${#bins[@]}; b++)); do
        bin=${bins[$b]}
        rm -rf "$work/data"
        timed_poll "$bin" "$work/data" >>"$work/r1.$b"
        if ! grep -q "new $ITEMS\|stored $ITEMS" "$work/last.out"; then
            echo "first round did not store every item:" >&2
            cat "$work/last.out" "$work/last.err" >&2
            exit 1
        fi
        timed_poll "$bin" "$work/data" >>"$work/r2.$b"
        if [ "$(grep -c "304 not modified" "$work/last.out")" -ne "$SOURCES" ]; then
            echo "second round was not all 304:" >&2
            cat "$work/last.out" >&2
            exit 1
        fi
    done
done
for ((b = 0; b < ${#bins[@]}; b++)); do
    printf '%-48s %14s %14s %14s %14s\n' "${bins[$b]}" \
        "$(cut -d' ' -f1 "$work/r1.$b" | median)" "$(cut -d' ' -f2 "$work/r1.$b" | median)" \
        "$(cut -d' ' -f1 "$work/r2.$b" | median)" "$(cut -d' ' -f2 "$work/r2.$b" | median)"
done
