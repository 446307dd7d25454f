#!/usr/bin/env bash
# Benchmarks of `lambdaflow run` over HTTP on this machine (client and
# server share its cores):
#
#  1. ingest: `lambdaflow produce --to` sends N seed events (default 10M) in
#     batches of 1,000 over C keep-alive connections (default 16) to a fresh
#     server with the example views and the default fsync policy; events/s,
#     acknowledgment latency percentiles; then, once the served views cover
#     all N events, the server's peak RSS (VmHWM).
#  2. freshness: a fresh server with bench/serving_views.sql; `serve_load
#     freshness` sends 100,000 events/s for 20 s and polls a view: the time
#     from a batch's send to the first answer that includes it, p50/p99;
#     then the same on a fresh server while H connections (default 1) run
#     heavy queries back to back over the 100,000-key view (a 120,000-item
#     IN list; every row sorted by revenue).
#  3. queries: on a fresh such server, `serve_load query` loads one event per key of
#     a 100,000-key view, then runs key lookups and top-10 queries on 2
#     keep-alive connections for 5 s each, alone and while ingesting 100,000
#     events/s.
#
#   bench/serving_bench.sh [--events N] [--connections C] [--heavy H] [--only freshness]
#
# --only freshness runs step 2 alone.
#
# Environment: LF_BUILD_DIR (default build) is the Release build directory.
# Results: printed, and appended to bench/results/serving-<date>.md.
set -euo pipefail

events=10000000
connections=16
heavy=1
only=
while (($# > 0)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --heavy) heavy=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serving_bench: unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${LF_BUILD_DIR:-build}
lf=$build/src/cli/lambdaflow
load=$build/bench/serve_load
log() { echo "serving_bench: $*" >&2; }

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target lambdaflow serve_load >/dev/null
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src bench CMakeLists.txt 2>/dev/null) ]] || commit="$commit + uncommitted changes"

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME ARGS...: a fresh server on a free port; sets $port.
start_server() {
  local name=$1; shift
  "$lf" run --data "$work/$name" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.log" &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
  [[ -n $port ]] || { cat "$work/$name.log" >&2; log "server $name did not start"; exit 1; }
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=
}
out=bench/results/serving-$(date -u +%Y-%m-%d).md
load_avg=$(cut -d' ' -f1-3 /proc/loadavg)

# 2. freshness, alone and while heavy queries run
freshness() {
  log "freshness: 100000 events/s for 20 s"
  start_server serving --views bench/serving_views.sql
  "$load" freshness --port "$port" --rate 100000 --seconds 20 --batch 1000 --view revenue_by_product >"$work/fresh.json"
  stop_server
  log "freshness: 100000 events/s for 20 s while $heavy connections run heavy queries"
  start_server heavy --views bench/serving_views.sql
  "$load" freshness --port "$port" --rate 100000 --seconds 20 --batch 1000 --view revenue_by_product \
    --heavy "$heavy" >"$work/fresh_heavy.json"
  stop_server
}
freshness_rows() {
  python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
for name in ("fresh.json", "fresh_heavy.json"):
    fr = json.load(open(os.path.join(work, name)))
    h = fr["heavy"]
    what = f"freshness at {fr['achieved_rate']:,.0f} events/s"
    if h["connections"]:
        what += (f", while {h['connections']} connection(s) ran {h['n']} heavy queries ({h['ok']} answered, "
                 f"{h['timeout']} over the time budget, {h['other']} other; p50 {h.get('p50_ms', 0):.0f} ms)")
    print(f"| {what} | p50 {fr['p50_ms']:.1f} ms, p99 {fr['p99_ms']:.1f} ms, max {fr['max_ms']:.1f} ms | p99 < 100 ms |")
PY
}
if [[ $only == freshness ]]; then
  freshness
  {
    echo "## serving_bench --only freshness $(date -u +%FT%TZ) (commit $commit, $(nproc) cores, load average $load_avg at the start)"
    echo
    echo "| Measure | Figure | Target |"
    echo "|---|---|---|"
    freshness_rows
    echo
  } | tee -a "$out"
  log "appended to $out"
  exit 0
fi

# 1. ingest over HTTP, then peak RSS
log "ingest: $events events, batches of 1000, $connections connections"
start_server ingest
"$lf" produce --to "http://127.0.0.1:$port" --count "$events" --batch 1000 --connections "$connections" \
  --report-json "$work/ingest.json" 2>"$work/produce.err" || { cat "$work/produce.err" >&2; exit 1; }
t0=$(date +%s.%N)
until [[ $(python3 -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$port/v1/status'))['watermarks']['speed'][0])") -ge $events ]]; do
  sleep 0.1
done
catch_up=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.2f}')")
sleep 1
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
status_json=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$port/v1/status').read().decode())")
stop_server

freshness

# 3. queries, on a fresh server (so that the view holds exactly the loaded keys)
log "queries: alone, then while ingesting 100000 events/s"
start_server queries --views bench/serving_views.sql
"$load" query --port "$port" --seconds 5 --clients 2 >"$work/query.json"
"$load" query --port "$port" --seconds 5 --clients 2 --ingest-rate 100000 >"$work/query_ingest.json"
stop_server

{
python3 - "$work" "$events" "$connections" "$rss_kib" "$catch_up" "$commit" "$status_json" "$load_avg" <<'PY'
import json, sys, os
work, events, conns, rss, catch_up, commit, status, load_avg = sys.argv[1:9]
ing = json.load(open(os.path.join(work, "ingest.json")))
q = json.load(open(os.path.join(work, "query.json")))
qi = json.load(open(os.path.join(work, "query_ingest.json")))
st = json.loads(status)
lat = ing["latency_ms"]
print(f"## serving_bench {os.popen('date -u +%FT%TZ').read().strip()} (commit {commit}, {os.cpu_count()} cores, load average {load_avg} at the start)\n")
print("| Measure | Figure | Target |\n|---|---|---|")
print(f"| HTTP ingest, {int(events):,} events, batches of 1000, {conns} connections | {ing['events_per_s']:,.0f} events/s "
      f"(ack p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms) | >= 1,000,000 events/s |")
print(f"| speed layer caught up after the last ack | {catch_up} s | |")
print(f"| peak RSS of `run` after {int(events):,} events | {int(rss)/1024:.0f} MiB | < 512 MiB |")
def find(o, key):
    if isinstance(o, dict):
        if key in o: return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None: return r
    return None
served = find(st, "served_memory_bytes")
if served is not None:
    print(f"| served state (`served_memory_bytes` of /v1/status) after {int(events):,} events | {int(served)/2**20:.0f} MiB "
          f"(peak RSS {int(rss)*1024/max(int(served),1):.1f}x) | peak <= 1.5x served + 256 MiB |")
print(f"| batch versions during ingest | {st['batch_runs']} runs, {st['segments_sealed']} segments | |")
for name, r in (("alone", q), (f"while ingesting {qi['ingest_rate']:,.0f} events/s", qi)):
    k, t = r["key_lookup"], r["top10"]
    print(f"| key lookup, 100k-key view, {r['clients']} connections, {name} | {k['qps']:,.0f} q/s, p50 {k['p50_ms']:.3f} ms, p99 {k['p99_ms']:.3f} ms | p99 < 1 ms, >= 20,000 q/s |")
    print(f"| top-10 of the 100k-key view, {name} | {t['qps']:,.0f} q/s, p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms | |")
PY
freshness_rows
echo
} | tee -a "$out"
log "appended to $out"
