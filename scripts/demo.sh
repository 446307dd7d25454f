#!/usr/bin/env bash
# The quick demo: installs what is missing, builds, starts `lambdaflow run`
# (the example views, a fresh data directory), sends it 10,000 seed events
# over HTTP (the paper's KinesisProducer shape), prints every merged view
# with its watermarks, and leaves the server running.
#
#   DEMO_LISTEN  the server's address (default 127.0.0.1:8080)
#   DEMO_DATA    its data directory (default ./lambdaflow-demo, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."

listen=${DEMO_LISTEN:-127.0.0.1:8080}
data=${DEMO_DATA:-./lambdaflow-demo}
url="http://$listen"

scripts/install-deps.sh
echo "demo: building (Release) into ${BUILD_ROOT:-.}/build ..." >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! scripts/build.sh >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo: build failed" >&2
  exit 1
fi
lambdaflow=${BUILD_ROOT:-.}/build/src/cli/lambdaflow

# A server of an earlier demo on the same data directory stops first.
if [[ -f $data.pid ]] && kill -0 "$(cat "$data.pid")" 2>/dev/null; then
  echo "demo: stopping the previous demo server (pid $(cat "$data.pid"))" >&2
  kill "$(cat "$data.pid")"
  while kill -0 "$(cat "$data.pid")" 2>/dev/null; do sleep 0.1; done
fi
rm -rf "$data"

nohup "$lambdaflow" run --data "$data" --listen "$listen" >"$data.out" 2>"$data.log" &
pid=$!
echo "$pid" >"$data.pid"
for _ in $(seq 100); do
  grep -q "listening on" "$data.out" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$data.log" >&2
    echo "demo: the server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
cat "$data.out"

"$lambdaflow" produce --count 10000 --to "$url"
sleep 0.3  # one micro-batch: the speed layer makes the events visible
for view in $(sed -n 's/^CREATE VIEW \([A-Za-z_0-9]*\).*/\1/p' examples/views.sql); do
  echo
  "$lambdaflow" query --server "$url" "$view" --format table
done

cat <<MSG

The server keeps running at $url (pid $pid; open the URL for the live dashboard).
  more events:   $lambdaflow produce --to $url --count 100000 --rate 20000
  a query:       $lambdaflow query --server $url "SELECT * FROM revenue_by_product ORDER BY revenue DESC LIMIT 5"
  its log:       $data.log
  stop it:       kill $pid
MSG
