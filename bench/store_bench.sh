#!/usr/bin/env bash
# The shared store's bulk path: a 64 MiB object (a big sealed segment)
# written through the streaming writer, read whole, and read in 8 MiB
# ranges, on the local directory store (a temporary directory) and on the
# S3 store against s3rver (tests/aws's emulator), bare and behind the
# tests' shim (which adds a hop and checks every signature and payload
# hash). Requests per object are counted by the S3 store.
#
#   bench/store_bench.sh [--mib N] [--runs R]
#
# Environment: LF_BUILD_DIR (default build) is the Release build directory.
# Needs node and tests/aws/node_modules (scripts/install-deps.sh). Prints
# the figures with the 1-minute load average and appends them to
# bench/results/store-<date>.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${LF_BUILD_DIR:-$root/build}
mib=64
runs=3
while (($#)); do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "store_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target store_bench >/dev/null
bin=$build/bench/store_bench
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

load() { cut -d' ' -f1 /proc/loadavg; }

# start_emulator NAME [--bare]: sets $port (not in a subshell: the pid
# must reach `pids` for the cleanup).
start_emulator() {
  local name=$1; shift
  mkdir -p "$work/$name"
  node --openssl-legacy-provider "$root/tests/aws/s3_emulator.mjs" --dir "$work/$name" --bucket bench "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q port "$work/$name.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$work/$name.out")
}

out=$root/bench/results/store-$(date -u +%F).md
run() {
  echo "## store_bench $(date -u +%FT%TZ), commit $(git -C "$root" rev-parse --short HEAD), ${mib} MiB, ${runs} runs"
  echo
  echo "### local directory (load $(load))"
  "$bin" --local "$work/local" --mib "$mib" --runs "$runs"
  for mode in bare shim; do
    if [[ $mode == bare ]]; then start_emulator bare --bare; else start_emulator shim; fi
    echo
    echo "### S3 store, s3rver $mode (load $(load))"
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port \
      "$bin" --s3 "s3://bench/$mode" --mib "$mib" --runs "$runs"
  done
  echo
  echo "load at the end: $(load)"
}
run >"$work/report.md"
cat "$work/report.md" | tee -a "$out"
