# Sourced by the serving benchmarks (bench_http.sh, bench_serving.sh): a
# scratch directory cleaned up on exit (with the servers started in it),
# a store of generated stories, and topicfeed serving it.
#
#   bench_setup                 sets $work; kills $tf_pid and nginx on exit
#   bench_store N               N generated stories in $work/data
#   bench_serve PORT [ARGS...]  starts topicfeed on the store; sets $tf_pid

bench_setup() {
  work=$(mktemp -d)
  chmod 755 "$work" # nginx workers run as another user
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -n "${tf_pid:-}" ] && kill "$tf_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}

bench_store() {
  cargo build --release --quiet --bin topicfeed --example gen_corpus
  ./target/release/examples/gen_corpus "$work/corpus" "$1" 2>/dev/null
  ./target/release/topicfeed ingest --data "$work/data" "$work/corpus" >/dev/null
}

bench_serve() {
  local port=$1
  shift
  ./target/release/topicfeed serve --data "$work/data" --no-samples \
    --addr "127.0.0.1:$port" "$@" >/dev/null 2>"$work/serve.log" &
  tf_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
}
