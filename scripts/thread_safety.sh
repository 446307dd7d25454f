#!/usr/bin/env bash
# Clang's thread-safety analysis over every library source (not tests or
# benchmarks): members GUARDED_BY a mutex (src/common/mutex.h) touched
# without it, functions that REQUIRES a mutex called without it, ... are
# errors. Syntax-only: nothing is compiled or linked, so it takes a minute.
#
#   scripts/thread_safety.sh [BUILD_DIR]
#
# BUILD_DIR (default build) must hold a configured build's
# compile_commands.json (the project's CMakeLists exports it). Environment:
# JOBS (default 2), CLANGXX (default clang++-14).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${JOBS:-2}
clangxx=${CLANGXX:-clang++-14}
[[ -f $build/compile_commands.json ]] || { echo "thread_safety: no $build/compile_commands.json (configure first)" >&2; exit 2; }
python3 - "$build/compile_commands.json" "$clangxx" <<'PY' | xargs -0 -n 1 -P "$jobs" sh -c
import json, os, shlex, sys
commands, clangxx = sys.argv[1], sys.argv[2]
root = os.getcwd()
for entry in json.load(open(commands)):
    source = os.path.relpath(entry["file"], root)
    if not source.startswith("src/") or source.endswith(("_test.cc", "_benchmark.cc")):
        continue
    args = entry.get("arguments") or shlex.split(entry["command"])
    keep = []
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD", "-Werror", "-Wall", "-Wextra") or a.startswith("-fsanitize"):
            continue
        keep.append(a)
    cmd = [clangxx, "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety"] + keep
    sys.stdout.write(f"cd {shlex.quote(entry['directory'])} && {shlex.join(cmd)}\0")
PY
echo "thread_safety: clean"
