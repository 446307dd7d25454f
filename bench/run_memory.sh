#!/usr/bin/env bash
# Where `lambdaflow run`'s memory goes while events arrive over HTTP: sends N
# seed events (default 10M) with `lambdaflow produce --to` (16 connections,
# batches of 1,000) to a fresh `run` with the example views, samples the
# server's RSS every 0.5 s, and once the served views cover all N events
# prints peak RSS (VmHWM), the served state and the speed-layer buckets
# (/v1/status), each view's groups, and the served bytes per group.
#
#   bench/run_memory.sh [--events N] [--bin PATH] [--run-args "ARGS"]
#
# --bin runs another lambdaflow binary (e.g. a copy of an older build) for
# before/after comparisons; --run-args adds options to `run` (e.g.
# "--batch-interval 100000": no batch run, so no version swap). Results: printed, and appended to
# bench/results/run-memory-<date>.md.
set -euo pipefail

events=10000000
bin=
run_args=
while (($# > 0)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --run-args) run_args=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_memory: unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${LF_BUILD_DIR:-build}
if [[ -z $bin ]]; then
  cmake --build "$build" --target lambdaflow >/dev/null
  bin=$build/src/cli/lambdaflow
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z $(git status --porcelain -- src 2>/dev/null) ]] || commit="$commit + uncommitted changes"
else
  commit="binary given with --bin: $("$bin" --version)"
fi

work=$(mktemp -d)
server_pid=
sampler_pid=
cleanup() {
  [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# shellcheck disable=SC2086
"$bin" run --data "$work/data" --listen 127.0.0.1:0 $run_args >"$work/out" 2>"$work/log" &
server_pid=$!
for _ in $(seq 200); do
  grep -q "listening on" "$work/out" 2>/dev/null && break
  sleep 0.05
done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
[[ -n $port ]] || { cat "$work/log" >&2; echo "run_memory: server did not start" >&2; exit 1; }
url=http://127.0.0.1:$port

# RSS samples (MiB) every 0.5 s.
(while kill -0 "$server_pid" 2>/dev/null; do
   awk '/VmRSS/ {printf "%.0f\n", $2 / 1024}' "/proc/$server_pid/status" 2>/dev/null
   sleep 0.5
 done) >"$work/rss" &
sampler_pid=$!

t0=$(date +%s.%N)
"$bin" produce --to "$url" --count "$events" --batch 1000 --connections 16 --report-json "$work/ingest.json" \
  2>"$work/produce.err" || { cat "$work/produce.err" >&2; exit 1; }
status() { python3 -c "import urllib.request as u; print(u.urlopen('$url/v1/status').read().decode())"; }
until [[ $(status | python3 -c "import json,sys; print(json.load(sys.stdin)['watermarks']['speed'][0])") -ge $events ]]; do
  sleep 0.1
done
wall=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
sleep 1
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
status >"$work/status.json"
for v in revenue_by_product orders_by_zip_hour price_bands_by_day; do
  "$bin" query --server "$url" "SELECT COUNT(*) AS n FROM $v" --format tsv 2>/dev/null | tail -1 >"$work/groups.$v" || echo "?" >"$work/groups.$v"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$sampler_pid"; sampler_pid=
kill "$server_pid"; wait "$server_pid" || true; server_pid=

out=bench/results/run-memory-$(date -u +%Y-%m-%d).md
mkdir -p bench/results
python3 - "$work" "$events" "$hwm" "$rss" "$commit${run_args:+, run $run_args}" "$load_start" "$load_end" "$wall" <<'PY' | tee -a "$out"
import json, os, sys
work, events, hwm, rss, commit, load_start, load_end, wall = sys.argv[1:9]
st = json.load(open(os.path.join(work, "status.json")))
ing = json.load(open(os.path.join(work, "ingest.json")))
served = st["served_memory_bytes"]
speed = st["speed"]["memory_bytes"]
samples = [int(x) for x in open(os.path.join(work, "rss")).read().split()]
groups = {}
for v in ("revenue_by_product", "orders_by_zip_hour", "price_bands_by_day"):
    t = open(os.path.join(work, "groups." + v)).read().strip()
    groups[v] = int(t) if t.isdigit() else None
mib = lambda b: b / 2**20
print(f"## run_memory {os.popen('date -u +%FT%TZ').read().strip()} ({commit}, {os.cpu_count()} cores, "
      f"load average {load_start} at the start, {load_end} at the end)\n")
print("| Measure | Figure |\n|---|---|")
print(f"| events over HTTP | {int(events):,} at {ing['events_per_s']:,.0f} events/s; all served after {wall} s |")
print(f"| peak RSS (VmHWM) | {int(hwm)/1024:.0f} MiB |")
print(f"| RSS once caught up | {int(rss)/1024:.0f} MiB |")
print(f"| served state (`served_memory_bytes`) | {mib(served):.1f} MiB |")
print(f"| speed-layer buckets (`speed.memory_bytes`, {st['speed']['buckets']} buckets) | {mib(speed):.1f} MiB |")
bound = 1.5 * mib(served) + 256
print(f"| goal: peak <= 1.5 x served + 256 MiB | {bound:.0f} MiB ({'met' if int(hwm)/1024 <= bound else 'not met'}) |")
zg = groups.get("orders_by_zip_hour")
print(f"| groups per view | " + ", ".join(f"{k} {v:,}" if v is not None else f"{k} ?" for k, v in groups.items()) + " |")
if zg:
    print(f"| served bytes per group (all views / orders_by_zip_hour's groups) | {served / zg:.0f} |")
print(f"| batch runs, segments sealed | {st['batch_runs']}, {st['segments_sealed']} |")
if samples:
    step = max(1, len(samples) // 24)
    print(f"| RSS every {0.5*step:.1f} s (MiB) | {' '.join(str(s) for s in samples[::step])} |")
print()
PY
echo "run_memory: appended to $out" >&2
