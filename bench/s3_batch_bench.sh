#!/usr/bin/env bash
# A batch run with the shared store in a local directory next to one with
# the store on S3 (s3rver behind the tests' shim, tests/aws): the same
# seed events ingested into two data directories, then
#   `batch`          seal the log into master segments and recompute;
#   `batch --full`   recompute again from the segments (S3: from the local
#                    segment cache, written through on seal);
#   `batch --full`   once more with the cache deleted (S3: every segment
#                    downloaded by ranged GETs);
# and the S3 requests each step sent (the shim's counts), per sealed segment.
#
#   bench/s3_batch_bench.sh [--events N] [--seal-events N]
#
# Environment: LF_BUILD_DIR (default build). Needs node and
# tests/aws/node_modules (scripts/install-deps.sh). Prints the figures with
# the 1-minute load average and appends them to bench/results/s3-batch-<date>.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${LF_BUILD_DIR:-$root/build}
events=1000000
seal=100000
while (($#)); do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --seal-events) seal=$2; shift 2 ;;
    *) echo "s3_batch_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target lambdaflow >/dev/null
lf=$build/src/cli/lambdaflow
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
load() { cut -d' ' -f1 /proc/loadavg; }

mkdir -p "$work/emulator"
node --openssl-legacy-provider "$root/tests/aws/s3_emulator.mjs" --dir "$work/emulator" --bucket bench \
  >"$work/s3.out" 2>"$work/s3.err" &
pids+=($!)
for _ in $(seq 100); do
  if grep -q port "$work/s3.out" 2>/dev/null; then break; fi
  sleep 0.1
done
port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$work/s3.out")
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
shim() { curl -s -X "$1" "http://127.0.0.1:$port/_shim/$2"; }
requests() { shim GET stats | sed 's/.*"requests":\([0-9]*\).*/\1/'; }

"$lf" produce --count "$events" --seed 7 >"$work/events.ndjson"
views=$root/examples/views.sql

# timed LABEL CMD...: runs CMD, prints "LABEL: S s".
timed() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  printf '%s: %.2f s (load %s)\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(load)"
}

run() {
  echo "## s3_batch_bench $(date -u +%FT%TZ), commit $(git -C "$root" rev-parse --short HEAD), $events events, --seal-events $seal"
  echo
  local segs=$(( (events + seal - 1) / seal ))
  for mode in local s3; do
    local store
    if [[ $mode == local ]]; then store=$work/local-store; else store=s3://bench/b; fi
    echo "### store: $mode"
    "$lf" ingest --data "$work/$mode" --store "$store" --views "$views" --quiet "$work/events.ndjson" >/dev/null 2>&1
    shim POST reset >/dev/null
    timed "batch (seal $segs segments + recompute)" "$lf" batch --data "$work/$mode" --seal-events "$seal" --quiet
    [[ $mode == s3 ]] && echo "  S3 requests: $(requests) ($(echo "scale=1; $(requests) / $segs" | bc) per sealed segment, the batch version and garbage collection included)"
    shim POST reset >/dev/null
    timed "batch --full (segments from the cache)" "$lf" batch --data "$work/$mode" --full --no-seal --quiet
    [[ $mode == s3 ]] && echo "  S3 requests: $(requests)"
    rm -rf "$work/$mode/cache"
    shim POST reset >/dev/null
    timed "batch --full (cache deleted)" "$lf" batch --data "$work/$mode" --full --no-seal --quiet
    [[ $mode == s3 ]] && echo "  S3 requests: $(requests) (GET: $(shim GET stats | sed 's/.*"GET":\([0-9]*\).*/\1/'))"
    echo
  done
  echo "load at the end: $(load)"
}
mkdir -p "$root/bench/results"
run >"$work/report.md"
tee -a "$root/bench/results/s3-batch-$(date -u +%F).md" <"$work/report.md"
