#!/usr/bin/env bash
# The paper's pipeline in one command, without a cloud account: Kinesis →
# lambdaflow (speed layer + batch layer on S3) → merged views.
#
#   scripts/demo-aws.sh [--count N]
#
# Starts kinesalite (Kinesis) and s3rver behind the tests' shim (S3, with
# conditional writes) from tests/aws, creates the stream `events` (4 shards)
# and the bucket `lambdaflow`, puts N seed events (default 50000) with
# `lambdaflow produce --to kinesis://events`, runs
# `lambdaflow run --source kinesis://events --store s3://lambdaflow/demo`
# until every event is served and a batch version covers part of them,
# prints the merged views with their watermarks, then stops everything.
# Installs what it needs (scripts/install-deps.sh) and builds (Release)
# first. Against AWS itself: the same two commands, with AWS's own
# environment variables instead of the endpoints set here (README, "On AWS").
set -euo pipefail
cd "$(dirname "$0")/.."

count=50000
while (($#)); do
  case "$1" in
    --count) count=$2; shift 2 ;;
    *) echo "demo-aws: unknown argument $1 (usage: scripts/demo-aws.sh [--count N])" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh >/dev/null
echo "demo-aws: building (Release) into ${BUILD_ROOT:-.}/build ..." >&2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if ! scripts/build.sh >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "demo-aws: build failed" >&2
  exit 1
fi
lambdaflow=${BUILD_ROOT:-.}/build/src/cli/lambdaflow

# start NAME CMD...: runs an emulator that prints {"port":P,...} first; sets $port.
start() {
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q '"port"' "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  if ! grep -q '"port"' "$work/$name.out"; then
    cat "$work/$name.err" >&2
    echo "demo-aws: $name did not start" >&2
    exit 1
  fi
  port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$work/$name.out")
}

mkdir -p "$work/s3"
start kinesalite node tests/aws/kinesis_emulator.mjs --stream events --shards 4
kinesis_port=$port
start s3 node --openssl-legacy-provider tests/aws/s3_emulator.mjs --dir "$work/s3" --bucket lambdaflow
s3_port=$port
echo "demo-aws: Kinesis (kinesalite) on 127.0.0.1:$kinesis_port, stream events, 4 shards;" \
  "S3 (s3rver + shim) on 127.0.0.1:$s3_port, bucket lambdaflow" >&2

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$kinesis_port AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port

"$lambdaflow" produce --to kinesis://events --count "$count"

"$lambdaflow" run --data "$work/data" --source kinesis://events --store s3://lambdaflow/demo \
  --listen 127.0.0.1:0 --seal-events 2000 --seal-age 2 --batch-interval 1 >"$work/run.out" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
for _ in $(seq 200); do
  grep -q "listening on" "$work/run.out" 2>/dev/null && break
  if ! kill -0 "$run_pid" 2>/dev/null; then
    cat "$work/run.log" >&2
    echo "demo-aws: lambdaflow run did not start" >&2
    exit 1
  fi
  sleep 0.1
done
cat "$work/run.out"
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/run.out")

# Until the speed layer serves every event and a batch version is in.
status() { curl -s "$url/v1/status"; }
sum() { tr ',' '\n' | awk '{s += $1} END {print s + 0}'; }
for _ in $(seq 600); do
  st=$(status)
  speed=$(echo "$st" | sed 's/.*"speed":\[\([0-9,]*\)\].*/\1/' | sum)
  batch=$(echo "$st" | sed 's/.*"batch":\[\([0-9,]*\)\].*/\1/' | sum)
  ((speed >= count && batch > 0)) && break
  sleep 0.1
done
echo
echo "watermarks: $(status | sed 's/.*"watermarks":\({[^}]*}\).*/\1/')  (batch W ≤ speed S per partition;" \
  "answers = batch view over [0, W) ⊕ speed layer over [W, S))"
for view in $(sed -n 's/^CREATE VIEW \([A-Za-z_0-9]*\).*/\1/p' examples/views.sql); do
  echo
  "$lambdaflow" query --server "$url" "SELECT * FROM $view LIMIT 8" --format table
done
echo
echo "the lambdaflow run log:"
cat "$work/run.log"
kill -TERM "$run_pid"
wait "$run_pid" || true
echo
echo "demo-aws: stopped lambdaflow run and the emulators"
