#!/usr/bin/env bash
# Configures and builds lambdaflow (Release, Ninja) into build/.
#
#   scripts/build.sh [extra cmake -D options...]
#
# JOBS=N overrides the parallelism (default: number of cores); BUILD_ROOT=DIR
# puts the build directory at DIR/build instead of ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_ROOT:-.}/build
generator=()
# An existing build directory keeps the generator it was configured with.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  generator=(-G Ninja)
fi
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}"
