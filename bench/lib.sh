# Shared by the scripted benchmarks (eval_bench.sh, batch_bench.sh); sourced,
# not run. Expects: $lf (the lambdaflow binary), $data, $events, and log().
# Provides: the events file, the DuckDB node package, $lines and $bytes of
# the events file, $work (a temporary folder removed at exit), loadavg,
# measure and fail.

# --- data -------------------------------------------------------------------
mkdir -p bench/data bench/results
if [[ ! -s $data ]]; then
  log "generating $events events into $data"
  "$lf" produce --count "$events" --seed 7 >"$data.tmp"
  mv "$data.tmp" "$data"
fi
lines=$(wc -l <"$data")
bytes=$(stat -c %s "$data")
if ((lines != events)); then
  log "warning: $data holds $lines events, not $events (delete it to regenerate)"
fi

# --- node deps --------------------------------------------------------------
if [[ ! -d bench/node_modules/@duckdb/node-api ]]; then
  log "installing the DuckDB node package (npm ci)"
  (cd bench && npm ci --silent --no-audit --no-fund)
fi

# --- measuring --------------------------------------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

loadavg() { cut -d' ' -f1 /proc/loadavg; }

# measure OUT_PREFIX CMD...: runs CMD once with stdout to OUT_PREFIX.out and
# stderr to OUT_PREFIX.err; echoes "<wall seconds> <peak RSS KiB> <load avg>
# <CPU seconds>" (the load average when it started; user + system CPU time).
if [[ -x /usr/bin/time ]]; then
  measure() {
    local prefix=$1; shift
    local t0 t1 load
    load=$(loadavg)
    t0=$(date +%s%N)
    /usr/bin/time -f "%e %M %U %S" -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err" || return 1
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000))e-6 $(tail -1 "$prefix.time" | awk '{print $2, "'"$load"'", $3 + $4}')"
  }
else
  # No GNU time: the same numbers from wait4(2).
  measure() {
    local prefix=$1; shift
    python3 - "$prefix" "$@" <<'PY'
import os, subprocess, sys, time
prefix, cmd = sys.argv[1], sys.argv[2:]
load = os.getloadavg()[0]
with open(prefix + ".out", "wb") as out, open(prefix + ".err", "wb") as err:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err)
    _, status, usage = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(os.waitstatus_to_exitcode(status) or 1)
print(f"{t1 - t0:.6f} {usage.ru_maxrss} {load:.2f} {usage.ru_utime + usage.ru_stime:.2f}")
PY
  }
fi

fail() {
  log "$1 failed; its stderr:"
  cat "$2.err" >&2
  exit 1
}
