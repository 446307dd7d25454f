#!/usr/bin/env bash
# The quick demo: installs what is missing, builds, produces 10,000 seed
# events (the paper's KinesisProducer shape) and evaluates examples/views.sql
# over them, printing every view as a table.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "demo: building (Release) into ${BUILD_ROOT:-.}/build ..." >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! scripts/build.sh >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo: build failed" >&2
  exit 1
fi
lambdaflow=${BUILD_ROOT:-.}/build/src/cli/lambdaflow
"$lambdaflow" produce --count 10000 |
  "$lambdaflow" eval --views examples/views.sql --format table
