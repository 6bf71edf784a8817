#!/usr/bin/env bash
# The serving cases the shared harness does not cover, on the shipped
# defaults (access logs on), same machine, same run:
#
#   bash examples/bench_serving.sh [SECONDS]
#
#  1. cached 200 with gzip: topicfeed against nginx's gzip_static serving
#     the very bytes topicfeed sends (wrk -t2 -c64, Accept-Encoding: gzip);
#  2. cache-miss renders of a 50-item filtered feed: every request is a new
#     variant (`since=` moves by a second each time), so each one queries
#     the store and renders (wrk -t2 -c16);
#  3. 1,000 concurrent idle keep-alive connections: resident memory before
#     and after, per connection.
# Needs wrk, nginx (with gzip_static), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
tf_port=18092
ng_port=18093
. examples/common/bench_server.sh
bench_setup
bench_store 400
bench_serve "$tf_port" --no-sources --max-connections 4096 --max-connections-per-client 4096
cpu() { awk '{print $14 + $15}' "/proc/$tf_pid/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$tf_pid/status"; }
hz=$(getconf CLK_TCK)

# 1. gzip
path=/feeds/all.atom
mkdir -p "$work/www/feeds"
curl -sf -H 'Accept-Encoding: gzip' -o "$work/www/feeds/all.atom.gz" "http://127.0.0.1:$tf_port$path"
gzip -dc "$work/www/feeds/all.atom.gz" >"$work/www/feeds/all.atom"
chmod -R a+rX "$work/www"
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  types { application/atom+xml atom; }
  server {
    listen 127.0.0.1:$ng_port;
    root $work/www;
    gzip_static on;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
cmp <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$tf_port$path") \
    <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$ng_port$path")
gz_bytes=$(wc -c <"$work/www/feeds/all.atom.gz")
run() { wrk "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "1. cached 200, gzip ($gz_bytes bytes): wrk -t2 -c64 -d${secs}s, 3 rounds alternating"
for round in 1 2 3; do
  ng=$(run -t2 -c64 -d"${secs}s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$ng_port$path")
  c0=$(cpu)
  out=$(wrk -t2 -c64 -d"${secs}s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$tf_port$path")
  c1=$(cpu)
  tf=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  printf '   round %d: topicfeed %s req/s (%.1f us CPU/req), nginx %s req/s, ratio %.2f\n' \
    "$round" "$tf" "$(echo "($c1 - $c0) * 1000000 / $hz / $n" | bc -l)" "$ng" "$(echo "$tf / $ng" | bc -l)"
done

# 2. cache misses
cat >"$work/miss.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local since = os.date("!%Y-%m-%dT%H:%M:%SZ", 946684800 + n)
  return wrk.format("GET", "/feeds/all.atom?any=business,technology,world&since=" .. since)
end
LUA
items=$(curl -sf "http://127.0.0.1:$tf_port/feeds/all.atom?any=business,technology,world&since=2000-01-01T00:00:01Z" | grep -o '<entry>' | wc -l)
c0=$(cpu)
out=$(wrk -t2 -c16 -d"${secs}s" --latency -s "$work/miss.lua" "http://127.0.0.1:$tf_port")
c1=$(cpu)
n=$(echo "$out" | awk '/requests in/ {print $1}')
echo "2. cache-miss render of a $items-item filtered feed: wrk -t2 -c16 -d${secs}s, every request a new variant"
echo "$out" | awk '/Requests\/sec/ {print "   " $0} /^ +50%/ {print "   p50 " $2} /^ +99%/ {print "   p99 " $2}'
printf '   %.0f us CPU per render\n' "$(echo "($c1 - $c0) * 1000000 / $hz / $n" | bc -l)"

# 3. idle keep-alive connections
before=$(rss)
with=$(python3 - "$tf_port" "$tf_pid" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
conns = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
    conns.append(s)
answered = sum(1 for s in conns if s.recv(4096).startswith(b"HTTP/1.1 200"))
time.sleep(1)
rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
print(rss, answered)
PY
)
set -- $with
echo "3. 1,000 idle keep-alive connections (each answered one request: $2 of 1000 got 200)"
printf '   resident memory %d KiB before, %d KiB with them open: %.1f KiB per connection\n' \
  "$before" "$1" "$(echo "($1 - $before) / 1000" | bc -l)"
