#!/usr/bin/env bash
# End-to-end benchmark of `lambdaflow eval` over 10M seed events, against
# DuckDB (same two views, read_ndjson, 2 threads) and against the simdjson
# parse-only floor (bench/simdjson_floor.cc, 1 and 2 threads).
#
#   bench/eval_bench.sh [--events N] [--runs R]
#
# Environment: LF_BUILD_DIR (default build) is the Release build directory.
#
# Builds lambdaflow and simdjson_floor in Release if needed, generates
# bench/data/events.ndjson once (`lambdaflow produce --count N --seed 7`;
# reused if present), installs the DuckDB node package into bench/node_modules
# if missing (`npm ci`), then times each contender best of R runs (default 3)
# with its peak RSS, checks that lambdaflow and DuckDB agree, prints a table
# and appends it to bench/results/eval-<date>.md.
#
# Times: lambdaflow and the floor are whole-process wall times (they include
# reading the file and, for lambdaflow, writing the TSV answers); DuckDB is the
# time of each view query inside one process (node start-up and DuckDB
# start-up excluded), and its sum is the time of the two views. The file is
# read from the page cache in every run after the first.
set -euo pipefail

events=10000000
runs=3
while (($# > 0)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval_bench: unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${LF_BUILD_DIR:-build}
lf=$build/src/cli/lambdaflow
floor=$build/bench/simdjson_floor
data=bench/data/events.ndjson
views=bench/seed_views.sql
if ((events != 10000000)); then
  data=bench/data/events-$events.ndjson
fi

log() { echo "eval_bench: $*" >&2; }

# --- build ------------------------------------------------------------------
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ ! -f $build/CMakeCache.txt ]]; then
  log "configuring $build (Release)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLF_BENCHMARKS=ON >/dev/null
elif [[ $build_type != Release ]]; then
  log "reconfiguring $build as Release (was '${build_type}')"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLF_BENCHMARKS=ON >/dev/null
fi
cmake --build "$build" --target lambdaflow simdjson_floor >/dev/null

source bench/lib.sh

log "lambdaflow eval, $runs runs"
for ((i = 1; i <= runs; i++)); do
  rm -rf "$work/lf_out" && mkdir -p "$work/lf_out"
  measure "$work/lf" "$lf" eval --views "$views" --out "$work/lf_out" "$data" >>"$work/lf.runs" || fail "lambdaflow eval" "$work/lf"
done

log "DuckDB (node, threads=2), $runs runs"
mkdir -p "$work/duck_out"
for ((i = 1; i <= runs; i++)); do
  measure "$work/duck" node bench/duckdb_views.mjs "$data" "$work/duck_out" 2 >>"$work/duck.runs" || fail "DuckDB" "$work/duck"
  cat "$work/duck.out" >>"$work/duck.json"
done

for t in 1 2; do
  log "simdjson floor, $t thread(s), $runs runs"
  for ((i = 1; i <= runs; i++)); do
    measure "$work/floor$t" "$floor" "$data" "$t" >>"$work/floor$t.runs" || fail "simdjson_floor" "$work/floor$t"
  done
done

# --- report -----------------------------------------------------------------
date=$(date +%Y-%m-%d)
report=bench/results/eval-$date.md
python3 - "$work" "$lines" "$bytes" "$runs" "$report" "$("$lf" --version 2>/dev/null | head -1 || true)" <<'PY'
import json, math, os, platform, subprocess, sys
from datetime import datetime, timezone

work, lines, nbytes, runs, report, lf_version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]

def runs_of(name):
    with open(os.path.join(work, name + ".runs")) as f:
        return [tuple(float(x) for x in l.split()) for l in f if l.strip()]

def best(name):
    r = runs_of(name)  # wall, peak RSS, load average, CPU seconds
    return min(x[0] for x in r), max(x[1] for x in r)

lf_t, lf_rss = best("lf")
duck_runs = [json.loads(l) for l in open(os.path.join(work, "duck.json")) if l.strip()]
duck_rss = max(x[1] for x in runs_of("duck"))
v1 = min(r["revenue_by_product"] for r in duck_runs)
v2 = min(r["orders_by_zip_hour"] for r in duck_runs)
f1_t, f1_rss = best("floor1")
f2_t, f2_rss = best("floor2")

rows = [
    ("lambdaflow eval (both views)", lf_t, lf_rss),
    ("DuckDB revenue_by_product", v1, duck_rss),
    ("DuckDB orders_by_zip_hour", v2, duck_rss),
    ("DuckDB sum of both views", v1 + v2, duck_rss),
    ("simdjson floor, 1 thread", f1_t, f1_rss),
    ("simdjson floor, 2 threads", f2_t, f2_rss),
]

# --- do the answers agree? ---
def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        return header, [l.rstrip("\n").split("\t") for l in f if l.strip()]

def ts_ms(s):
    if s == "\\N":
        return None
    if s.lstrip("-").isdigit():
        return int(s)
    d = datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return round(d.timestamp() * 1000)

def num(s):
    return None if s == "\\N" else float(s)

def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))

problems = []
def compare(view, key_cols, exact_cols, approx_cols, key_fn):
    try:
        lh, lrows = read_tsv(os.path.join(work, "lf_out", view + ".tsv"))
    except OSError as e:
        problems.append(f"{view}: no lambdaflow output ({e})")
        return
    dh, drows = read_tsv(os.path.join(work, "duck_out", view + ".tsv"))
    def index(h, rows, who):
        missing = [c for c in key_cols + exact_cols + approx_cols if c not in h]
        if missing:
            problems.append(f"{view}: {who} output lacks columns {missing} (has {h})")
            return None
        pos = {c: h.index(c) for c in h}
        return {key_fn(tuple(r[pos[c]] for c in key_cols)): r for r in rows}, pos
    li, di = index(lh, lrows, "lambdaflow"), index(dh, drows, "DuckDB")
    if li is None or di is None:
        return
    (lm, lp), (dm, dp) = li, di
    if lm.keys() != dm.keys():
        only_l = sorted(lm.keys() - dm.keys(), key=str)[:3]
        only_d = sorted(dm.keys() - lm.keys(), key=str)[:3]
        problems.append(f"{view}: groups differ ({len(lm)} vs {len(dm)}; only lambdaflow: {only_l}; only DuckDB: {only_d})")
    bad = 0
    for k in lm.keys() & dm.keys():
        l, d = lm[k], dm[k]
        for c in exact_cols:
            if num(l[lp[c]]) != num(d[dp[c]]):
                bad += 1
                if bad <= 3: problems.append(f"{view} {k} {c}: lambdaflow {l[lp[c]]} DuckDB {d[dp[c]]}")
        for c in approx_cols:
            if not close(num(l[lp[c]]), num(d[dp[c]])):
                bad += 1
                if bad <= 3: problems.append(f"{view} {k} {c}: lambdaflow {l[lp[c]]} DuckDB {d[dp[c]]}")
    if bad > 3:
        problems.append(f"{view}: {bad} mismatching values in all")

compare("revenue_by_product", ["ProductName"], ["orders", "min_price", "max_price"], ["revenue", "avg_price"], lambda k: k[0])
compare("orders_by_zip_hour", ["zipcode", "hour"], ["orders"], ["revenue"], lambda k: (k[0], ts_ms(k[1])))
agree = "OK" if not problems else "MISMATCH"

# --- the table ---
mb = nbytes / 1e6
def fmt_rate(t):
    return f"{lines / t / 1e6:.2f} M", f"{mb / t:.0f}"
table = ["| contender | time (s) | events/s | MB/s | peak RSS (MiB) |", "|---|---:|---:|---:|---:|"]
for name, t, rss in rows:
    ev, mbs = fmt_rate(t)
    table.append(f"| {name} | {t:.3f} | {ev} | {mbs} | {rss / 1024:.0f} |")
r_duck = lf_t / (v1 + v2)
r_floor = lf_t / f2_t
ratios = [
    "| ratio | value | target | |", "|---|---:|---:|---|",
    f"| lambdaflow / DuckDB (sum of both views) | {r_duck:.2f} | ≤ 0.35 | {'met' if r_duck <= 0.35 else 'NOT met'} |",
    f"| lambdaflow / simdjson floor (2 threads) | {r_floor:.2f} | ≤ 1.3 | {'met' if r_floor <= 1.3 else 'NOT met'} |",
]

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
load = os.getloadavg()
duck_version = duck_runs[0].get("version", "?")
text = "\n".join([
    f"# lambdaflow eval benchmark, {datetime.now().strftime('%Y-%m-%d %H:%M')}",
    "",
    f"- input: {lines:,} seed events (`lambdaflow produce --seed 7`), {mb:.0f} MB NDJSON, from the page cache",
    f"- views: bench/seed_views.sql (revenue_by_product, orders_by_zip_hour)",
    f"- machine: {cpu or platform.processor()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
    f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    + (" (other work was running: figures are pessimistic and noisy)" if load[0] > 0.5 * (os.cpu_count() or 1) else ""),
    f"- {lf_version or 'lambdaflow (version unknown)'}; DuckDB {duck_version} (node, threads=2)",
    f"- best of {runs} runs; peak RSS is the largest of the runs (DuckDB's includes node; the floor's includes the mapped file)",
    "- lambdaflow and the floor: whole-process wall time; DuckDB: per-query time inside one process",
    "",
    *table,
    "",
    *ratios,
    "",
    f"Answers of lambdaflow and DuckDB: **{agree}**" + ("" if not problems else "\n\n" + "\n".join("- " + p for p in problems)),
    "",
])
# Appended, as bench/batch_bench.sh does: earlier runs of the day stay.
with open(report, "a") as f:
    if f.tell() > 0:
        f.write("\n")
    f.write(text)
print(text)
print(f"(appended to {report})")
sys.exit(0 if agree == "OK" else 3)
PY
