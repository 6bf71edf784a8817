#!/usr/bin/env bash
# Lead images, a podcast's file and a merged story's provenance, end to
# end: serves the pictures of examples/media from a local web server,
# ingests two copies of a story (an HTML page with og:image, and the same
# story as another site ran it) and a podcast feed through the API, then reads
# the feeds back with feedparser and screenshots the pages in Chromium.
#
#   bash examples/check_media.sh [OUTDIR]
#
# Needs python3 with feedparser, and Debian's chromium for the screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/media}
mkdir -p "$out"
work=$(mktemp -d)
port=18094 media_port=18095
cleanup() { kill ${pid:-} ${media_pid:-} 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir "$work/media"
cp examples/media/*.png "$work/media/"
head -c 1000 /dev/zero >"$work/media/ep14.mp3"
python3 -m http.server "$media_port" --bind 127.0.0.1 --directory "$work/media" >/dev/null 2>&1 &
media_pid=$!
media="http://127.0.0.1:$media_port"

cargo build --release --quiet --bin topicfeed
TOPICFEED_LOG=warn ./target/release/topicfeed serve --data "$work/data" --addr "127.0.0.1:$port" \
  --no-sources --api-token check-media-token 2>"$work/serve.log" &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

post() { # file content-type
  sed "s|@MEDIA@|$media|g" "$1" | curl -sf -X POST -H "authorization: Bearer check-media-token" \
    -H "content-type: $2" --data-binary @- "$base/api/articles"
  echo
}
post examples/media/ledger.html text/html
# The same story as another site ran it: merged into the first.
sed -e 's/Coastal Ledger/Bay Chronicle/g' -e 's|https://ledger.example/cranes|https://chronicle.example/2026/cranes|' \
  examples/media/ledger.html >"$work/chronicle.html"
post "$work/chronicle.html" text/html
post examples/media/podcast.xml application/rss+xml

python3 examples/media/feedparser_check.py "$base" "$media"

if command -v chromium >/dev/null; then
  id=$(curl -sf "$base/feeds/climate.json" | python3 -c 'import json,sys; print(next(i["id"].rsplit(":",1)[1] for i in json.load(sys.stdin)["items"] if i["title"].startswith("Harbour cranes")))')
  for page in "feeds/climate:feed" "articles/$id:article"; do
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$work/profile" --window-size=1100,1300 --virtual-time-budget=2000 \
      --screenshot="$out/${page##*:}.png" "$base/${page%%:*}" 2>/dev/null
    echo "screenshot: $out/${page##*:}.png"
  done
fi
