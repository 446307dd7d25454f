#!/usr/bin/env bash
# Benchmark of the batch layer over 10M seed events: `lambdaflow ingest` into a
# fresh data directory, `lambdaflow batch --full` over the sealed master
# dataset, `lambdaflow batch` with cached states after 1% new events, against
# DuckDB computing the same two views over an in-memory table of the same
# events (bench/duckdb_table.mjs, 2 threads).
#
#   bench/batch_bench.sh [--events N] [--new N] [--runs R]
#
# Environment: LF_BUILD_DIR (default build) is the Release build directory.
#
# Builds lambdaflow in Release if needed, generates bench/data/events.ndjson
# once (`lambdaflow produce --count N --seed 7`; reused if present), installs
# the DuckDB node package into bench/node_modules if missing (`npm ci`), then:
#
#  1. ingest: best of R runs of `lambdaflow ingest` of the file into a fresh
#     data directory (views bench/seed_views.sql, default fsync policy, sealing
#     every 1M events as it goes); the data directory's size. Ingest does not
#     report its sealing time, so it is measured two ways: the same ingest with
#     sealing off (--seal-events above N, best of R) subtracted from it, and
#     the wall time of a `lambdaflow batch` that seals all N events of such a
#     directory at once minus the batch's own reported time.
#  2. full recompute: `lambdaflow batch` once (seals the tail, if any), then
#     best of R runs of `lambdaflow batch --full --no-seal`, with the
#     load/scan/write phases it prints.
#  3. cached recompute: R times, on a fresh copy of that directory, ingest
#     --new more events (`lambdaflow produce --count NEW --seed 8`) and time
#     `lambdaflow batch` (seals them and scans only the new segment); then a
#     `lambdaflow batch` with nothing new. The views after the cached run are
#     checked against a `--full` recompute of the same directory.
#  4. DuckDB: one process loads the file into a table (timed apart), then
#     runs each view R times over it; best of R per view.
#  5. `lambdaflow query VIEW --format tsv` over the N events vs DuckDB's rows.
#
# Every figure is printed with the 1-minute load average when its best run
# started. The table is printed and appended to bench/results/batch-<date>.md.
set -euo pipefail

events=10000000
new=100000
runs=3
while (($# > 0)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --new) new=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "batch_bench: unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${LF_BUILD_DIR:-build}
lf=$build/src/cli/lambdaflow
data=bench/data/events.ndjson
views=bench/seed_views.sql
if ((events != 10000000)); then
  data=bench/data/events-$events.ndjson
fi

log() { echo "batch_bench: $*" >&2; }

# --- build ------------------------------------------------------------------
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ ! -f $build/CMakeCache.txt ]]; then
  log "configuring $build (Release)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
elif [[ $build_type != Release ]]; then
  log "reconfiguring $build as Release (was '${build_type}')"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target lambdaflow >/dev/null
# The source the binary was built from (other work may change it meanwhile).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- src CMakeLists.txt cmake 2>/dev/null) ]]; then
  commit="$commit + uncommitted changes"
fi

source bench/lib.sh

# run NAME CMD...: measures CMD, appends "<wall> <rss> <load> <cpu> <stderr's last line>"
# to NAME.runs.
run() {
  local name=$1; shift
  local m
  m=$(measure "$work/$name" "$@") || fail "$name ($*)" "$work/$name"
  echo "$m $(tail -1 "$work/$name.err")" >>"$work/$name.runs"
}

dir=$work/data
sizes() { # sizes NAME DIR: bytes of DIR and of its top-level entries
  { echo "total $(du -sb "$1" | cut -f1)"
    for d in "$1"/*; do echo "$(basename "$d") $(du -sb "$d" | cut -f1)"; done; } >"$work/$2.sizes"
}

# 1. ingest
log "ingest of $lines events, default fsync and sealing, $runs runs"
for ((i = 1; i <= runs; i++)); do
  rm -rf "$dir"
  sync
  run ingest "$lf" ingest --data "$dir" --views "$views" "$data"
done
sizes "$dir" after_ingest

log "ingest without sealing (--seal-events $((lines + 1))), $runs runs"
for ((i = 1; i <= runs; i++)); do
  rm -rf "$work/unsealed"
  sync
  run ingest_noseal "$lf" ingest --data "$work/unsealed" --views "$views" --seal-events $((lines + 1)) "$data"
done
log "batch sealing all $lines events of that directory at once"
run seal_all "$lf" batch --data "$work/unsealed"
rm -rf "$work/unsealed"

# 2. full recompute
log "batch (seals the tail), then batch --full --no-seal, $runs runs"
run batch_first "$lf" batch --data "$dir"
for ((i = 1; i <= runs; i++)); do
  run batch_full "$lf" batch --data "$dir" --full --no-seal
done
for v in revenue_by_product orders_by_zip_hour; do
  run "query_$v" "$lf" query --data "$dir" "$v" --format tsv
  mkdir -p "$work/lf_out" && cp "$work/query_$v.out" "$work/lf_out/$v.tsv"
done

# 3. cached recompute after --new more events
log "batch after $new new events (cached states), $runs runs"
"$lf" produce --count "$new" --seed 8 >"$work/new.ndjson"
for ((i = 1; i <= runs; i++)); do
  rm -rf "$work/inc"
  cp -a "$dir" "$work/inc"
  sync
  run ingest_new "$lf" ingest --data "$work/inc" "$work/new.ndjson"
  run batch_inc "$lf" batch --data "$work/inc"
done
sizes "$work/inc" after_inc
run batch_nothing "$lf" batch --data "$work/inc"
mkdir -p "$work/inc_out" "$work/full_out"
for v in revenue_by_product orders_by_zip_hour; do
  "$lf" query --data "$work/inc" "$v" --format tsv >"$work/inc_out/$v.tsv" 2>/dev/null
done
run batch_full_after "$lf" batch --data "$work/inc" --full --no-seal
for v in revenue_by_product orders_by_zip_hour; do
  "$lf" query --data "$work/inc" "$v" --format tsv >"$work/full_out/$v.tsv" 2>/dev/null
done
rm -rf "$work/inc"

# 4. DuckDB
log "DuckDB (node, in-memory table, threads=2), each view $runs runs"
mkdir -p "$work/duck_out"
run duck node bench/duckdb_table.mjs "$data" "$work/duck_out" 2 "$runs"
cp "$work/duck.out" "$work/duck.json"

# --- report -----------------------------------------------------------------
date=$(date +%Y-%m-%d)
report=bench/results/batch-$date.md
python3 - "$work" "$lines" "$bytes" "$new" "$runs" "$report" "$("$lf" --version 2>/dev/null | head -1 || true)" "$commit" <<'PY'
import json, os, platform, re, subprocess, sys
from datetime import datetime, timezone

work, lines, nbytes, new, runs, report, lf_version, commit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8]

def runs_of(name):
    out = []
    with open(os.path.join(work, name + ".runs")) as f:
        for l in f:
            if not l.strip():
                continue
            t, rss, load, cpu, *rest = l.split(" ", 4)
            out.append({"wall": float(t), "rss": int(rss), "load": float(load), "cpu": float(cpu),
                        "err": rest[0].strip() if rest else ""})
    return out

def best(name):
    r = runs_of(name)
    b = min(r, key=lambda x: x["wall"])
    return dict(b, rss=max(x["rss"] for x in r), n=len(r))

def ingest_line(err):
    m = re.search(r" in ([\d.]+) s \(([\d.]+) M events/s, (\d+) MB/s\)", err)
    return (float(m.group(1)), float(m.group(2)), float(m.group(3))) if m else (None, None, None)

def batch_line(err):
    m = re.search(r"; ([\d.]+) s \((.*)\)\s*$", err)
    if not m:
        return None, {}
    phases = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+) s", m.group(2))}
    return float(m.group(1)), phases

def sizes(name):
    with open(os.path.join(work, name + ".sizes")) as f:
        return {k: int(v) for k, v in (l.split() for l in f if l.strip())}

mb = nbytes / 1e6
rows, notes = [], []
def row(step, b, secs=None, rate="", extra=""):
    rows.append((step, b["wall"], b["cpu"], secs, rate, b["rss"] / 1024 if b.get("rss") else None, b["load"], extra))

# 1. ingest
ing = best("ingest")
ing_s, ing_evs, ing_mbs = ingest_line(ing["err"])
row(f"ingest {lines:,} events (default fsync, seal every 1M)", ing, ing_s,
    f"{ing_evs:.2f} M ev/s, {ing_mbs:.0f} MB/s")
nos = best("ingest_noseal")
nos_s, nos_evs, nos_mbs = ingest_line(nos["err"])
row("ingest, sealing off (--seal-events > N)", nos, nos_s, f"{nos_evs:.2f} M ev/s, {nos_mbs:.0f} MB/s")
seal_diff = ing_s - nos_s
rows.append(("sealing during ingest (difference of the two)", None, ing["cpu"] - nos["cpu"], seal_diff,
             f"{lines / seal_diff / 1e6:.2f} M ev/s" if seal_diff > 0 else "", None, ing["load"], ""))
sa = best("seal_all")
sa_batch, sa_ph = batch_line(sa["err"])
sa_seal = sa["wall"] - sa_batch
rows.append((f"sealing all {lines:,} at once (`batch` wall − its reported time)", sa["wall"], sa["cpu"], sa_seal,
             f"{lines / sa_seal / 1e6:.2f} M ev/s", sa["rss"] / 1024, sa["load"], ""))

# 2. full
bf1 = best("batch_first")
bf1_s, _ = batch_line(bf1["err"])
def sealed(err):
    m = re.search(r"sealed (\d+) event", err)
    return int(m.group(1)) if m else 0
row("batch (first; seals the tail)", bf1, bf1_s, f"sealed {sealed(bf1['err']):,} events left by ingest",
    f"seal+open ≈ {bf1['wall'] - bf1_s:.3f}")
full = best("batch_full")
full_s, full_ph = batch_line(full["err"])
row("batch --full --no-seal", full, full_s, f"{lines / full_ph.get('scan', full_s) / 1e6:.1f} M rows/s scanned",
    " ".join(f"{k} {v:.3f}" for k, v in full_ph.items()))
for v in ("revenue_by_product", "orders_by_zip_hour"):
    q = best("query_" + v)
    row(f"query {v} --format tsv", q)

# 3. cached
ingn = best("ingest_new")
ingn_s, ingn_evs, _ = ingest_line(ingn["err"])
row(f"ingest {new:,} new events", ingn, ingn_s, f"{ingn_evs:.2f} M ev/s")
inc = best("batch_inc")
inc_s, inc_ph = batch_line(inc["err"])
m = re.search(r"(\d+) segment\(s\) scanned, (\d+) reused, (\d+) rows", inc["err"])
inc_scanned = f"{m.group(1)} scanned / {m.group(2)} reused segments, {int(m.group(3)):,} rows" if m else ""
row(f"batch after {new:,} new events (cached)", inc, inc_s, inc_scanned,
    " ".join(f"{k} {v:.3f}" for k, v in inc_ph.items()) + f"; seal+open ≈ {inc['wall'] - inc_s:.3f}")
nth = best("batch_nothing")
nth_s, nth_ph = batch_line(nth["err"])
row("batch with nothing new", nth, nth_s, "", " ".join(f"{k} {v:.3f}" for k, v in nth_ph.items()))

# 4. DuckDB
duck = json.load(open(os.path.join(work, "duck.json")))
dk = best("duck")
v1, v2 = duck["revenue_by_product"], duck["orders_by_zip_hour"]
rows.append(("DuckDB: CREATE TABLE events AS read_ndjson", None, dk["cpu"], duck["load"], f"{duck['rows']:,} rows", dk["rss"] / 1024, dk["load"], ""))
rows.append(("DuckDB revenue_by_product (table)", None, None, v1, f"{lines / v1 / 1e6:.1f} M rows/s", None, dk["load"],
             "runs " + " ".join(f"{x:.3f}" for x in duck["runs"]["revenue_by_product"])))
rows.append(("DuckDB orders_by_zip_hour (table)", None, None, v2, f"{lines / v2 / 1e6:.1f} M rows/s", None, dk["load"],
             "runs " + " ".join(f"{x:.3f}" for x in duck["runs"]["orders_by_zip_hour"])))
rows.append(("DuckDB sum of both views", None, None, v1 + v2, f"{lines / (v1 + v2) / 1e6:.1f} M rows/s", None, dk["load"], ""))

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

def compare(problems, a_dir, a_name, b_dir, b_name, view, key_cols, exact_cols, approx_cols, key_fn):
    try:
        ah, arows = read_tsv(os.path.join(a_dir, view + ".tsv"))
        bh, brows = read_tsv(os.path.join(b_dir, view + ".tsv"))
    except OSError as e:
        problems.append(f"{view}: missing output ({e})")
        return
    def index(h, rows, who):
        missing = [c for c in key_cols + exact_cols + approx_cols if c not in h]
        if missing:
            problems.append(f"{view}: {who} output lacks columns {missing} (has {h})")
            return None
        pos = {c: h.index(c) for c in h}
        return {key_fn(tuple(r[pos[c]] for c in key_cols)): r for r in rows}, pos, len(rows)
    ai, bi = index(ah, arows, a_name), index(bh, brows, b_name)
    if ai is None or bi is None:
        return
    (am, ap, an), (bm, bp, bn) = ai, bi
    if an != len(am) or bn != len(bm):
        problems.append(f"{view}: duplicate groups ({a_name} {an} rows / {len(am)} keys, {b_name} {bn} rows / {len(bm)} keys)")
    if am.keys() != bm.keys():
        only_a = sorted(am.keys() - bm.keys(), key=str)[:3]
        only_b = sorted(bm.keys() - am.keys(), key=str)[:3]
        problems.append(f"{view}: groups differ ({len(am)} vs {len(bm)}; only {a_name}: {only_a}; only {b_name}: {only_b})")
    bad = 0
    for k in am.keys() & bm.keys():
        a, b = am[k], bm[k]
        for c in exact_cols:
            if num(a[ap[c]]) != num(b[bp[c]]):
                bad += 1
                if bad <= 3: problems.append(f"{view} {k} {c}: {a_name} {a[ap[c]]} {b_name} {b[bp[c]]}")
        for c in approx_cols:
            if not close(num(a[ap[c]]), num(b[bp[c]])):
                bad += 1
                if bad <= 3: problems.append(f"{view} {k} {c}: {a_name} {a[ap[c]]} {b_name} {b[bp[c]]}")
    if bad > 3:
        problems.append(f"{view}: {bad} mismatching values in all")

def check(a_dir, a_name, b_dir, b_name):
    problems = []
    compare(problems, a_dir, a_name, b_dir, b_name, "revenue_by_product", ["ProductName"],
            ["orders", "min_price", "max_price"], ["revenue", "avg_price"], lambda k: k[0])
    compare(problems, a_dir, a_name, b_dir, b_name, "orders_by_zip_hour", ["zipcode", "hour"],
            ["orders"], ["revenue"], lambda k: (k[0], ts_ms(k[1])))
    return problems

def groups(d, view):
    return len(read_tsv(os.path.join(d, view + ".tsv"))[1])

vs_duck = check(os.path.join(work, "lf_out"), "lambdaflow", os.path.join(work, "duck_out"), "DuckDB")
inc_vs_full = check(os.path.join(work, "inc_out"), "cached", os.path.join(work, "full_out"), "full")

# --- the tables ---
def f3(x):
    return "" if x is None else f"{x:.3f}"
table = ["| step | wall (s) | CPU (s) | reported (s) | rate | peak RSS (MiB) | load avg | phases (s) / notes |",
         "|---|---:|---:|---:|---|---:|---:|---|"]
for step, wall, cpu, secs, rate, rss, load, extra in rows:
    table.append(f"| {step} | {f3(wall)} | {'' if cpu is None else f'{cpu:.2f}'} | {f3(secs)} | {rate} | {'' if rss is None else f'{rss:.0f}'} | {load:.2f} | {extra} |")

sz = sizes("after_ingest")
szi = sizes("after_inc")
def mib(x):
    return f"{x / 2**20:.0f} MiB"
size_line = (f"data directory after ingest: {mib(sz['total'])} ({sz['total'] / lines:.1f} B/event; "
             + ", ".join(f"{k} {mib(v)}" for k, v in sz.items() if k != "total" and v > 4096)
             + f"); after the full runs and +{new:,} events: {mib(szi['total'])} ("
             + ", ".join(f"{k} {mib(v)}" for k, v in szi.items() if k != "total" and v > 4096) + ")")

sum_duck = v1 + v2
recompute = inc_ph.get("load", 0) + inc_ph.get("scan", 0)
def verdict(ok):
    return "met" if ok else "NOT met"
ratios = [
    "| measure | value | target | |", "|---|---:|---:|---|",
    f"| ingest events/s (default fsync, sealing) | {ing_evs:.2f} M | ≥ 5 M | {verdict(ing_evs >= 5)} |",
    f"| batch --full peak RSS | {full['rss'] / 1024:.0f} MiB | < 256 MiB | {verdict(full['rss'] / 1024 < 256)} |",
    f"| cached recompute after +{new:,} (load + scan) | {recompute * 1000:.0f} ms | < 20 ms | {verdict(recompute < 0.020)} |",
    f"| cached batch, whole command | {inc['wall'] * 1000:.0f} ms | | |",
    f"| full scan phase / DuckDB (sum of both views) | {full_ph.get('scan', float('nan')) / sum_duck:.2f} | ≤ 0.5 | {verdict(full_ph.get('scan', 1e9) / sum_duck <= 0.5)} |",
    f"| full batch whole command / DuckDB (sum of both views) | {full['wall'] / sum_duck:.2f} | ≤ 0.5 | {verdict(full['wall'] / sum_duck <= 0.5)} |",
]

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
load = os.getloadavg()
agree = "OK" if not vs_duck else "MISMATCH"
agree_inc = "OK" if not inc_vs_full else "MISMATCH"
text = "\n".join([
    f"## lambdaflow batch benchmark, {datetime.now().strftime('%Y-%m-%d %H:%M')}",
    "",
    f"- input: {lines:,} seed events (`lambdaflow produce --seed 7`), {mb:.0f} MB NDJSON, from the page cache; "
    f"+{new:,} events (`--seed 8`) for the cached run",
    f"- views: bench/seed_views.sql (revenue_by_product, orders_by_zip_hour)",
    f"- machine: {cpu or platform.processor()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
    f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    + (" (other work was running: figures are pessimistic and noisy)" if load[0] > 0.5 * (os.cpu_count() or 1) else ""),
    f"- {lf_version or 'lambdaflow (version unknown)'} built from commit {commit}; DuckDB {duck.get('version', '?')} (node, threads=2, in-memory table)",
    f"- best of {runs} runs except single runs of the first batch, the all-at-once seal and the no-op batch; peak RSS is the "
    "largest of the runs (DuckDB's includes node and the table); load avg is the 1-minute load when the best run started",
    "- wall: whole process; CPU: its user + system time (the DuckDB row: the whole node process); reported: the time the command prints (ingest: its run; batch: after opening and sealing); "
    "DuckDB: per-query time inside one process, the table already loaded",
    f"- {size_line}",
    "",
    *table,
    "",
    *ratios,
    "",
    f"Answers of `lambdaflow query --format tsv` and DuckDB over {lines:,} events: **{agree}** "
    f"({groups(os.path.join(work, 'lf_out'), 'revenue_by_product')} + {groups(os.path.join(work, 'lf_out'), 'orders_by_zip_hour')} groups)"
    + ("" if not vs_duck else "\n\n" + "\n".join("- " + p for p in vs_duck)),
    "",
    f"Views after the cached batch vs a `--full` recompute of the same directory: **{agree_inc}**"
    + ("" if not inc_vs_full else "\n\n" + "\n".join("- " + p for p in inc_vs_full)),
    "",
])
with open(report, "a") as f:
    f.write(text + "\n")
print(text)
print(f"(appended to {report})")
sys.exit(0 if not vs_duck and not inc_vs_full else 3)
PY
