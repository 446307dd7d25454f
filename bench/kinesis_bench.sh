#!/usr/bin/env bash
# Kinesis (kinesalite) -> views next to the embedded log, in the same run.
#
#   bench/kinesis_bench.sh [--events N] [--shards K]
#
# 1. catch-up: N seed events already in a K-shard stream (`produce --to
#    kinesis://`), then `run --source kinesis://` on a fresh data directory;
#    events/s = N / (time from starting `run` until the served S covers all N);
# 2. end to end through Kinesis: a fresh `run --source kinesis://` on a fresh
#    stream, then the N events produced into it; events/s = N / (time from
#    the producer's start until S covers all N);
# 3. the embedded log: a fresh `run --partitions 2K`, then the N events
#    POSTed (`produce --to http://... --connections 16 --batch 1000`);
#    events/s the same way.
# Everything on this machine (kinesalite in memory, node 20). Prints one line
# per measure with the load average, and appends them to
# bench/results/kinesis-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
events=100000
shards=4
while (($#)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    *) echo "kinesis_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
build=${LF_BUILD_DIR:-build}
cmake --build "$build" --target lambdaflow >/dev/null
lf=$root/$build/src/cli/lambdaflow
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
load() { cut -d' ' -f1 /proc/loadavg; }
now() { date +%s.%N; }

node tests/aws/kinesis_emulator.mjs --stream full --shards "$shards" --stream live --shards "$shards" \
  >"$work/k.out" 2>"$work/k.err" &
pids+=($!)
for _ in $(seq 100); do grep -q port "$work/k.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$work/k.out")
export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$port

# start_run NAME ARGS...: a fresh `run` on $work/NAME; sets $url and $run_pid.
start_run() {
  local name=$1; shift
  "$lf" run --data "$work/$name" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  run_pid=$!
  pids+=($run_pid)
  for _ in $(seq 300); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/$name.out")
}
# wait_all: until S covers $events; prints the time it returned.
wait_all() {
  while true; do
    local s
    s=$(curl -s "$url/v1/status" | sed 's/.*"speed":\[\([0-9,]*\)\].*/\1/' | tr ',' '\n' | awk '{s += $1} END {print s + 0}')
    ((s >= events)) && break
    sleep 0.01
  done
  now
}
rate() { echo "$events / ($2 - $1)" | bc; }
stop_run() { kill -TERM "$run_pid"; wait "$run_pid" 2>/dev/null || true; }

{
  echo "## kinesis_bench $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $events events, $shards shards"
  "$lf" produce --quiet --to kinesis://full --count "$events" 2>/dev/null
  l=$(load); t0=$(now)
  start_run catchup --source kinesis://full
  t1=$(wait_all)
  echo "Kinesis -> views, catch-up from a full stream: $(rate "$t0" "$t1") events/s (load $l)"
  stop_run

  start_run live --source kinesis://live
  l=$(load); t0=$(now)
  "$lf" produce --quiet --to kinesis://live --count "$events" 2>/dev/null
  t1=$(wait_all)
  echo "Kinesis -> views, end to end (produce + read): $(rate "$t0" "$t1") events/s (load $l)"
  stop_run

  start_run embedded --partitions $((2 * shards))
  l=$(load); t0=$(now)
  "$lf" produce --quiet --to "$url" --count "$events" --connections 16 --batch 1000 2>/dev/null
  t1=$(wait_all)
  echo "embedded log (HTTP) -> views, end to end: $(rate "$t0" "$t1") events/s (load $l)"
  stop_run
  echo "load at the end: $(load)"
} | tee "$work/report.md"
mkdir -p bench/results
cat "$work/report.md" >>"bench/results/kinesis-$(date -u +%F).md"
