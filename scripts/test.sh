#!/usr/bin/env bash
# The full test run, as CI does it:
#   1. install missing packages (scripts/install-deps.sh --bench: also node and
#      the DuckDB npm package the differential test compares with)
#   2. Release build in build/, every CTest test
#   3. ASan+UBSan build in build-asan/, the unit tests (label "unit")
#   4. ThreadSanitizer build in build-tsan/ of the concurrent unit tests
#      (served views, pipeline, speed layer, log), each run once
#   5. clang's thread-safety analysis (-Wthread-safety) over every library
#      source, syntax-only (scripts/thread_safety.sh)
#   6. clang libFuzzer build in build-fuzz/, every fuzz/*_fuzz.cc target run
#      for FUZZ_SECONDS (default 10) from its seed corpus fuzz/corpus/<target>/
# and ends with the line "N passed, N failed" (CTest results of both builds
# plus one per TSan test binary, one for the analysis and one per fuzz
# target; a build that fails counts as one failure).
# Exits non-zero if anything failed.
#
# Environment: JOBS (default 2), FUZZ_SECONDS (default 10), BUILD_ROOT (where
# build/, build-asan/, build-tsan/ and build-fuzz/ go; default the
# repository root).
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-2}
root=${BUILD_ROOT:-.}
release_dir=$root/build
asan_dir=$root/build-asan
tsan_dir=$root/build-tsan
fuzz_dir=$root/build-fuzz
fuzz_seconds=${FUZZ_SECONDS:-10}
# Fuzz targets the project is expected to have; a missing source is a warning.
expected_fuzz_targets=(sql_parser_fuzz json_decoder_fuzz log_segment_fuzz)

passed=0
failed=0
flaky=()
start_time=$SECONDS

section() { printf '\n==== %s (%ds)\n' "$*" $((SECONDS - start_time)); }
warn() { printf 'test.sh: warning: %s\n' "$*" >&2; }
fail() {
  printf 'test.sh: FAILED: %s\n' "$*" >&2
  failed=$((failed + 1))
}

# configure DIR [cmake args...]: configures DIR with Ninja unless it already
# has a cache (which keeps its generator).
configure() {
  local dir=$1
  shift
  local generator=()
  [[ -f $dir/CMakeCache.txt ]] || generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" "$@"
}

# build DIR [TARGET...]: builds (default: all) and keeps going past a failed
# target, so that the tests that did build still run.
build() {
  local dir=$1
  shift
  local targets=() keep_going=(-k 0)
  for t in "$@"; do targets+=(--target "$t"); done
  grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt" || keep_going=(-k)
  cmake --build "$dir" -j "$jobs" "${targets[@]}" -- "${keep_going[@]}"
}

# run_ctest DIR [ctest args...]: runs CTest and adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log=$dir/test.sh-ctest.log
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # "97% tests passed, 1 tests failed out of 40"
  local summary
  summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -n $summary ]]; then
    local nfail ntotal
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
    ntotal=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
    # Integration tests start real processes and race real clocks; on a
    # loaded machine one may lose a race it should win. Tests that failed
    # run once more, alone: one that passes then counts as passed but is
    # named as flaky (its first failure's output is above), one that fails
    # again counts as failed.
    local reran=0
    if ((nfail > 0 && nfail <= 3)); then
      local failed_list=$dir/Testing/Temporary/LastTestsFailed.log
      local names
      names=$(cut -d: -f2- "$failed_list" 2>/dev/null | paste -sd' ')
      warn "running the $nfail failed test(s) of $dir again, alone: $names"
      if ctest --test-dir "$dir" --output-on-failure -j 1 --rerun-failed 2>&1 | tee "$log.rerun" &&
          grep -qE '100% tests passed' "$log.rerun"; then
        warn "FLAKY (failed once, passed alone): $names"
        flaky+=("$names")
        nfail=0
        reran=1
      fi
    fi
    passed=$((passed + ntotal - nfail))
    failed=$((failed + nfail))
    if ((rc != 0 && nfail == 0 && reran == 0)); then fail "ctest in $dir exited with $rc"; fi
  elif grep -q 'No tests were found' "$log"; then
    warn "no tests found in $dir $*"
  else
    fail "ctest in $dir did not run (exit $rc)"
  fi
}

section "install dependencies"
if ! scripts/install-deps.sh --bench; then
  fail "install-deps.sh"
  if ((${#flaky[@]} > 0)); then echo "flaky (failed once, then passed alone): ${flaky[*]}"; fi
echo "$passed passed, $failed failed"
  exit 1
fi

section "Release build ($release_dir)"
# The configuration of scripts/build.sh.
if configure "$release_dir" -DCMAKE_BUILD_TYPE=Release; then
  build "$release_dir" || fail "Release build (some targets did not build)"
  section "Release tests"
  run_ctest "$release_dir"
else
  fail "Release configure"
fi

section "ASan+UBSan build ($asan_dir)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -O1 -g1 (asserts on): what the sanitizers recommend, and about half the
# compile time of -O2 -g, which dominates this script's run time. Only the
# unit tests are built and run here; the integration tests ran above.
checked_build=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" -DLF_BENCHMARKS=OFF)
if configure "$asan_dir" "${checked_build[@]}" -DLF_SANITIZE=ON; then
  build "$asan_dir" lf_unit_tests || fail "ASan+UBSan build (some unit tests did not build)"
  section "ASan+UBSan unit tests"
  run_ctest "$asan_dir" -L unit
else
  fail "ASan+UBSan configure"
fi

section "ThreadSanitizer build ($tsan_dir)"
# Only the tests whose code runs threads against each other; a race report
# fails the binary (halt_on_error).
tsan_tests=(serving_test pipeline_test pipeline_source_test speed_layer_test log_test plan_test source_test)
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
if configure "$tsan_dir" "${checked_build[@]}" "-DCMAKE_CXX_FLAGS=-fsanitize=thread" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"; then
  build "$tsan_dir" "${tsan_tests[@]}" || fail "TSan build (some tests did not build)"
  section "ThreadSanitizer tests"
  for t in "${tsan_tests[@]}"; do
    binary=$(find "$tsan_dir/src" -name "$t" -type f -perm -u+x | head -n 1)
    if [[ -z $binary ]]; then
      fail "TSan: $t was not built"
    elif "$binary" --gtest_brief=1; then
      passed=$((passed + 1))
    else
      fail "TSan: $t (a data race or a failed test, see above)"
    fi
  done
else
  fail "TSan configure"
fi

section "thread-safety analysis (clang -Wthread-safety)"
if scripts/thread_safety.sh "$release_dir"; then
  passed=$((passed + 1))
else
  fail "thread-safety analysis (scripts/thread_safety.sh)"
fi

section "libFuzzer build ($fuzz_dir)"
# Warnings are enforced by the gcc builds above; clang's extra ones must not
# keep the fuzzers from running.
if CC=clang-14 CXX=clang++-14 configure "$fuzz_dir" "${checked_build[@]}" -DLF_FUZZ=ON -DLF_WERROR=OFF; then
  targets=()
  for name in "${expected_fuzz_targets[@]}"; do
    [[ -f fuzz/$name.cc ]] || warn "fuzz/$name.cc does not exist yet; skipping it"
  done
  for source in fuzz/*_fuzz.cc; do
    [[ -f $source ]] && targets+=("$(basename "$source" .cc)")
  done
  for name in "${targets[@]}"; do
    section "fuzz $name (${fuzz_seconds}s)"
    if ! build "$fuzz_dir" "$name"; then
      fail "building fuzz target $name"
      continue
    fi
    # New inputs go to <fuzz build>/corpus/<name>; the checked-in seeds stay as they are.
    work_corpus=$fuzz_dir/corpus/$name
    mkdir -p "$work_corpus" "$fuzz_dir/artifacts"
    seeds=()
    [[ -d fuzz/corpus/$name ]] && seeds=("fuzz/corpus/$name") || warn "no seed corpus fuzz/corpus/$name/"
    dict=()
    [[ -f fuzz/$name.dict ]] && dict=("-dict=fuzz/$name.dict")
    if "$fuzz_dir/fuzz/$name" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$fuzz_dir/artifacts/$name-" "${dict[@]}" \
        "$work_corpus" "${seeds[@]}"; then
      passed=$((passed + 1))
    else
      fail "fuzz target $name (reproducer in $fuzz_dir/artifacts/$name-*)"
    fi
  done
else
  fail "libFuzzer configure"
fi

section "done"
if ((${#flaky[@]} > 0)); then echo "flaky (failed once, then passed alone): ${flaky[*]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
