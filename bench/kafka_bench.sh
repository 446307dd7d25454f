#!/usr/bin/env bash
# Kafka -> views next to the embedded log, in the same run (BENCHMARKS.md,
# "Kafka -> views"). Everything on this machine: librdkafka's mock cluster
# (build/tests/kafka/lf_kafka_mock_cluster, one broker, in memory, topics of
# 8 partitions), `lambdaflow run` with default settings, the producers.
#
#   bench/kafka_bench.sh [--events N] [--rate R] [--seconds S]
#
# 1. end to end: a fresh `run`, then N seed events produced as fast as
#    possible (`produce --to kafka://...` into its topic, or `produce --to
#    http://...` with 16 connections and batches of 1,000 into the embedded
#    log of 8 partitions); events/s = N / (time from the producer's start
#    until the served S covers all N);
# 2. catch-up (Kafka only): N events already in a topic, then `run --source`;
#    events/s = N / (time from "listening" until S covers all N);
# 3. freshness at R events/s for S seconds: bench/kafka_load (Kafka: from
#    handing a record to the producer to the first answer whose S[p] is past
#    its offset) and bench/serve_load freshness (embedded log, one
#    partition: from the start of a batch's POST to the first answer whose S
#    covers it).
# The mock cluster keeps about 5 MiB per partition: N stays well below what
# 8 partitions hold (about 1M seed events), or retention would delete
# events before they are read (which `run` reports as a loss).
# Prints one line per measure and the load average when it started.
set -euo pipefail
cd "$(dirname "$0")/.."

events=800000
rate=100000
seconds=10
while (($#)); do
  case $1 in
    --events) events=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: bench/kafka_bench.sh [--events N] [--rate R] [--seconds S]" >&2; exit 2 ;;
  esac
done

build=${BUILD:-build}
lf=$build/src/cli/lambdaflow
mock=$build/tests/kafka/lf_kafka_mock_cluster
kafka_load=$build/bench/kafka_load
serve_load=$build/bench/serve_load
for b in "$lf" "$mock" "$kafka_load" "$serve_load"; do
  [[ -x $b ]] || { echo "kafka_bench: $b is missing: cmake --build $build --target lambdaflow lf_kafka_mock_cluster kafka_load serve_load" >&2; exit 1; }
done

log() { echo "kafka_bench: $*" >&2; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
now() { date +%s.%N; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  exec 9>&- 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The mock cluster, its stdin held open on fd 9 (it exits at end of input).
mkfifo "$work/mock.in"
"$mock" --topic events --partitions 8 <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.err" &
pids+=($!)
exec 9>"$work/mock.in"
for _ in $(seq 100); do grep -q '^bootstrap ' "$work/mock.out" && break; sleep 0.1; done
bootstrap=$(awk '/^bootstrap /{print $2}' "$work/mock.out")
[[ -n $bootstrap ]] || { log "the mock cluster did not start"; cat "$work/mock.err" >&2; exit 1; }
mock_command() {
  echo "$1" >&9
  sleep 0.2
}

# start_run NAME ARGS...: a fresh `run` on $work/NAME; sets run_pid, port.
start_run() {
  local name=$1; shift
  "$lf" run --data "$work/$name" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  run_pid=$!
  pids+=("$run_pid")
  for _ in $(seq 300); do grep -q 'listening on' "$work/$name.out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
  [[ -n $port ]] || { log "run $name did not start"; cat "$work/$name.err" >&2; exit 1; }
}
stop_run() {
  kill "$run_pid"
  wait "$run_pid" 2>/dev/null || true
}
# wait_covered N: until the served S, summed over the partitions, is N.
wait_covered() {
  local want=$1
  for _ in $(seq 6000); do
    local s
    s=$(curl -s "127.0.0.1:$port/v1/status" |
      python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["watermarks"]["speed"]))' 2>/dev/null || echo 0)
    ((s >= want)) && return 0
    sleep 0.02
  done
  log "S never reached $want"
  return 1
}

log "mock cluster at $bootstrap; $events events; freshness at $rate events/s for $seconds s"

# 1. end to end, Kafka.
load=$(loadavg)
start_run kafka-e2e --source "kafka://$bootstrap/events"
t0=$(now)
"$lf" produce --quiet --to "kafka://$bootstrap/events" --count "$events" --seed 31 2>"$work/produce-kafka.err"
wait_covered "$events"
t1=$(now)
stop_run
echo "kafka end-to-end: $(python3 -c "print(f'{$events / ($t1 - $t0):,.0f}')") events/s ($events events in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s; load average $load)"

# 1. end to end, the embedded log.
load=$(loadavg)
start_run embedded-e2e --partitions 8
t0=$(now)
"$lf" produce --quiet --to "http://127.0.0.1:$port" --count "$events" --seed 31 --connections 16 --batch 1000 \
  2>"$work/produce-http.err"
wait_covered "$events"
t1=$(now)
stop_run
echo "embedded log end-to-end: $(python3 -c "print(f'{$events / ($t1 - $t0):,.0f}')") events/s ($events events in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s; load average $load)"

# 2. catch-up from a topic that holds the events already.
mock_command "topic preloaded 8"
"$lf" produce --quiet --to "kafka://$bootstrap/preloaded" --count "$events" --seed 32 2>"$work/produce-preload.err"
load=$(loadavg)
t0=$(now)
start_run kafka-catchup --source "kafka://$bootstrap/preloaded"
wait_covered "$events"
t1=$(now)
stop_run
echo "kafka catch-up: $(python3 -c "print(f'{$events / ($t1 - $t0):,.0f}')") events/s ($events events in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s, from the start of run; load average $load)"

# 3. freshness at $rate events/s.
mock_command "topic fresh 8"
load=$(loadavg)
start_run kafka-fresh --source "kafka://$bootstrap/fresh"
"$kafka_load" --brokers "$bootstrap" --topic fresh --port "$port" --rate "$rate" --seconds "$seconds" >"$work/kafka-fresh.json"
stop_run
echo "kafka freshness: $(cat "$work/kafka-fresh.json") (load average $load)"

load=$(loadavg)
start_run embedded-fresh
"$serve_load" freshness --port "$port" --rate "$rate" --seconds "$seconds" >"$work/embedded-fresh.json"
stop_run
echo "embedded log freshness: $(cat "$work/embedded-fresh.json") (load average $load)"
