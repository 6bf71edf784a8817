#!/usr/bin/env bash
# Feed serving against nginx, same machine, same run, same response bytes.
#
#   bash examples/bench_http.sh [SECONDS] [CONNECTIONS] [ROUNDS]
#
# Starts topicfeed (release build, a store of generated stories) and nginx
# serving a byte-for-byte copy of one 50-item feed as a static file, then
# runs wrk against both: full 200 responses and 304 revalidations.
# Needs wrk and nginx (Debian: apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
rounds=${3:-5}
tf_port=18090
ng_port=18091
. examples/common/bench_server.sh
bench_setup
bench_store 400
TOPICFEED_LOG=warn bench_serve "$tf_port" --poll-burst 0

path="/feeds/all.rss"
url="http://127.0.0.1:$tf_port$path"
mkdir -p "$work/www/feeds"
chmod -R a+rX "$work/www"
curl -sf -D "$work/headers" -o "$work/www/feeds/all.rss" "$url"
items=$(grep -o '<item>' "$work/www/feeds/all.rss" | wc -l)
bytes=$(wc -c <"$work/www/feeds/all.rss")
etag=$(grep -i '^etag:' "$work/headers" | cut -d' ' -f2 | tr -d '\r')

cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { application/rss+xml rss; }
  server {
    listen 127.0.0.1:$ng_port;
    root $work/www;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
ng_url="http://127.0.0.1:$ng_port$path"
ng_etag=$(curl -sfI "$ng_url" | grep -i '^etag:' | cut -d' ' -f2 | tr -d '\r')
cmp <(curl -sf "$url") <(curl -sf "$ng_url")

rps() { wrk -t1 -c"$conns" -d"${secs}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "feed: $path, $items items, $bytes bytes; wrk -t1 -c$conns -d${secs}s, $rounds rounds alternating, median; $(nproc) cores"
: >"$work/r"
for round in $(seq "$rounds"); do
  echo "tf200 $(rps "$url")" >>"$work/r"
  echo "ng200 $(rps "$ng_url")" >>"$work/r"
  echo "tf304 $(rps -H "If-None-Match: $etag" "$url")" >>"$work/r"
  echo "ng304 $(rps -H "If-None-Match: $ng_etag" "$ng_url")" >>"$work/r"
done
m() { grep "^$1 " "$work/r" | cut -d' ' -f2 | median; }
printf '%-22s %12s %12s %8s   %s\n' "case" "topicfeed" "nginx" "ratio" "rounds (topicfeed | nginx)"
for c in 200 304; do
  tf=$(m "tf$c"); ng=$(m "ng$c")
  label=$([ "$c" = 200 ] && echo "200, cached feed" || echo "304, If-None-Match")
  printf '%-22s %12s %12s %8.2f   %s | %s\n' "$label" "$tf" "$ng" "$(echo "$tf / $ng" | bc -l)" \
    "$(grep "^tf$c " "$work/r" | cut -d' ' -f2 | tr '\n' ' ')" "$(grep "^ng$c " "$work/r" | cut -d' ' -f2 | tr '\n' ' ')"
done
