#!/usr/bin/env bash
# Opens the server's pages in headless Chromium, as a person would, and
# checks what the browser renders: the index with its topics and subscribe
# links, a feed URL opened in the browser (HTML with the "copy this URL"
# hint, not a download), and an article page. Saves screenshots.
#
#   bash examples/check_pages.sh [OUTDIR]
#
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/pages}
mkdir -p "$out"
work=$(mktemp -d)
port=18093
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin topicfeed
TOPICFEED_LOG=warn ./target/release/topicfeed serve --data "$work/data" --addr "127.0.0.1:$port" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --virtual-time-budget=2000 "$@" 2>/dev/null
}
fail=0
check() { # name file pattern...
  local name=$1 file=$2; shift 2
  for pattern in "$@"; do
    if grep -q -- "$pattern" "$file"; then echo "PASS $name: $pattern"; else echo "FAIL $name: no '$pattern'"; fail=1; fi
  done
}

base="http://127.0.0.1:$port"
chrome --dump-dom "$base/" >"$work/index.html"
check index "$work/index.html" "<h1>topicfeed</h1>" "Middle East" 'href="/feeds/middle-east.rss"' \
  'rel="alternate" type="application/atom+xml"' "feeds.opml"
chrome --screenshot="$out/index.png" --window-size=1100,1400 "$base/" >/dev/null

chrome --dump-dom "$base/feeds/middle-east.atom" >"$work/feed.html"
check "feed URL in a browser" "$work/feed.html" "copy this URL into your feed reader" "<article>" "Older stories\|No stories yet\|</article>"
chrome --screenshot="$out/feed.png" --window-size=1100,1400 "$base/feeds/middle-east.atom" >/dev/null

article=$(grep -o "$base/articles/[0-9a-f]*" "$work/feed.html" | head -1)
chrome --dump-dom "$article" >"$work/article.html"
check article "$work/article.html" "<h1>" "<p>"

echo "screenshots in $out/"
exit $fail
