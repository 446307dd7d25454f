#!/usr/bin/env bash
# Several workers on one topic (BENCHMARKS.md, "Several workers"): 1, 2 and
# 3 `lambdaflow run --group` workers on one topic of 8 partitions and one
# store, everything on this machine (librdkafka's mock cluster,
# build/tests/kafka/lf_kafka_mock_cluster).
#
#   bench/workers_bench.sh [--workers "1 2 3"] [--events N] [--rate R] [--seconds S] [--queries Q] [--profile]
#
# For each worker count, on a fresh topic and store, once the group has
# given every partition to a worker:
# 1. end to end: N seed events produced as fast as possible (`produce --to
#    kafka://...`); events/s = N / (time from the producer's start until
#    the first worker's answer, gathered from all, covers all N);
# 2. freshness at R events/s for S seconds, polled at the first worker
#    (bench/kafka_load: from handing a record to the producer to the first
#    answer of that worker whose S[p] is past its offset; with several
#    workers most partitions are another's, so every poll gathers);
# 3. query latency through that worker: Q reads of the whole view
#    (GET /v1/views/revenue_by_product?format=tsv) and Q key lookups, one
#    keep-alive connection, while nothing is produced: p50/p99.
# With --profile, the workers are sampled with `perf record` during step 2
# (3 workers only) and the top symbols per process are printed.
# Prints one line per measure with the load average when it started.
set -euo pipefail
cd "$(dirname "$0")/.."

counts="1 2 3"
events=300000
rate=20000
seconds=10
queries=300
profile=0
while (($#)); do
  case $1 in
    --workers) counts=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    *) echo "usage: bench/workers_bench.sh [--workers \"1 2 3\"] [--events N] [--rate R] [--seconds S] [--queries Q] [--profile]" >&2; exit 2 ;;
  esac
done

build=${BUILD:-build}
lf=$build/src/cli/lambdaflow
mock=$build/tests/kafka/lf_kafka_mock_cluster
kafka_load=$build/bench/kafka_load
for b in "$lf" "$mock" "$kafka_load"; do
  [[ -x $b ]] || { echo "workers_bench: $b is missing: cmake --build $build --target lambdaflow lf_kafka_mock_cluster kafka_load" >&2; exit 1; }
done

log() { echo "workers_bench: $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
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

mkfifo "$work/mock.in"
"$mock" --topic unused --partitions 8 <"$work/mock.in" >"$work/mock.out" 2>"$work/mock.err" &
pids+=($!)
exec 9>"$work/mock.in"
for _ in $(seq 100); do grep -q '^bootstrap ' "$work/mock.out" && break; sleep 0.1; done
bootstrap=$(awk '/^bootstrap /{print $2}' "$work/mock.out")
[[ -n $bootstrap ]] || { log "the mock cluster did not start"; cat "$work/mock.err" >&2; exit 1; }

cat >"$work/run.toml" <<TOML
group_session_ms = 6000
TOML

# start_worker N NAME: worker NAME of group gN on topic wN; appends its pid and port.
worker_pids=()
worker_ports=()
start_worker() {
  local n=$1 name=$2
  "$lf" run --data "$work/w$n-$name" --store "$work/store-$n" --listen 127.0.0.1:0 --source "kafka://$bootstrap/w$n" \
    --group "g$n" --config "$work/run.toml" >"$work/w$n-$name.out" 2>"$work/w$n-$name.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do grep -q 'listening on' "$work/w$n-$name.out" 2>/dev/null && break; sleep 0.05; done
  local port
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/w$n-$name.out")
  [[ -n $port ]] || { log "worker $name did not start"; cat "$work/w$n-$name.err" >&2; exit 1; }
  worker_pids+=("$pid")
  worker_ports+=("$port")
}

# owned_total: partitions owned, summed over the workers' own statuses.
owned_total() {
  local total=0 p
  for p in "${worker_ports[@]}"; do
    local o
    o=$(curl -s "127.0.0.1:$p/v1/status" |
      python3 -c 'import json,sys; print(sum(1 for q in json.load(sys.stdin)["group"]["partitions"] if q["self"]))' \
        2>/dev/null || echo 0)
    total=$((total + o))
  done
  echo "$total"
}

# covered PORT: events the worker's gathered answer covers (sum of S).
covered() {
  curl -s -D - -o /dev/null "127.0.0.1:$1/v1/views/revenue_by_product?format=tsv" |
    sed -n 's/^X-Lambdaflow-Speed-Watermark: *//Ip' | tr -d '\r' | tr ',' '\n' | awk '{s+=$1} END {print s+0}'
}

# cpu_seconds PID...: user+system CPU seconds of each process so far.
cpu_seconds() {
  local p tck
  tck=$(getconf CLK_TCK)
  for p in "$@"; do
    awk -v t="$tck" '{printf "%.2f ", ($14 + $15) / t}' "/proc/$p/stat"
  done
}

for n in $counts; do
  echo "topic w$n 8" >&9
  sleep 0.2
  worker_pids=()
  worker_ports=()
  for i in $(seq "$n"); do start_worker "$n" "$i"; done
  for _ in $(seq 600); do [[ $(owned_total) == 8 ]] && break; sleep 0.1; done
  [[ $(owned_total) == 8 ]] || { log "$n workers: the group never assigned every partition"; exit 1; }
  sleep 2  # the first batch runs over the partitions owned
  front=${worker_ports[0]}

  # 1. end to end.
  load=$(loadavg)
  t0=$(now)
  "$lf" produce --quiet --to "kafka://$bootstrap/w$n" --count "$events" --seed 41 2>"$work/produce-$n.err"
  for _ in $(seq 12000); do (($(covered "$front") >= events)) && break; sleep 0.02; done
  t1=$(now)
  (($(covered "$front") >= events)) || { log "$n workers: the answer never covered $events events"; exit 1; }
  echo "$n worker(s) end-to-end: $(python3 -c "print(f'{$events / ($t1 - $t0):,.0f}')") events/s ($events events in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s, answered at worker 1; load average $load)"

  # 2. freshness at $rate events/s, polled at the first worker.
  load=$(loadavg)
  if ((profile && n == 3)); then
    perf record -q -F 499 -o "$work/perf.data" -p "$(IFS=,; echo "${worker_pids[*]}")" -- sleep "$seconds" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  cpu_before=$(cpu_seconds "${worker_pids[@]}")
  "$kafka_load" --brokers "$bootstrap" --topic "w$n" --port "$front" --rate "$rate" --seconds "$seconds" \
    >"$work/fresh-$n.json"
  cpu_after=$(cpu_seconds "${worker_pids[@]}")
  echo "$n worker(s) freshness at worker 1: $(cat "$work/fresh-$n.json") (load average $load)"
  echo "  CPU seconds per worker during it (user+system; worker 1 first): $(python3 -c "
b, a = '$cpu_before'.split(), '$cpu_after'.split()
print(' '.join(f'{float(y) - float(x):.2f}' for x, y in zip(b, a)))")"
  if ((profile && n == 3)); then
    wait "$perf_pid" || true
    echo "profile of the 3 workers during the freshness run (share of samples by library, then the top symbols):"
    perf report -i "$work/perf.data" --sort dso --stdio 2>/dev/null | grep '%' | grep -v '^#' | head -8 | sed 's/^/  /' || true
    perf report -i "$work/perf.data" --sort dso,sym --stdio 2>/dev/null | grep '%' | grep -v '^#' | head -25 |
      sed 's/^/  /' || true
  fi

  # 3. query latency through worker 1 (a non-owner of most partitions when n > 1).
  sleep 1
  load=$(loadavg)
  python3 - "$front" "$queries" <<'PY'
import http.client, sys, time
port, q = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
def run(path):
    t = []
    for _ in range(q):
        s = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        t.append((time.perf_counter() - s) * 1000)
    t.sort()
    return "p50 %.2f ms, p99 %.2f ms" % (t[len(t) // 2], t[min(len(t) - 1, int(len(t) * 0.99))])
print("view " + run("/v1/views/revenue_by_product?format=tsv") + "; key lookup " +
      run("/v1/views/revenue_by_product?ProductName=product1&format=tsv"), end="")
PY
  echo " ($n worker(s), $queries each through worker 1; load average $load)"
  curl -s "127.0.0.1:$front/v1/status" | python3 -c 'import json,sys; g=json.load(sys.stdin)["group"]["gathers"]; print("  worker 1 gathers:", json.dumps(g))'

  for p in "${worker_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${worker_pids[@]}"; do wait "$p" 2>/dev/null || true; done
done
