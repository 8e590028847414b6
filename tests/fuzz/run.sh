#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in a build directory of their own, runs each for a fixed
# time on a scratch copy of its seed corpus, and fails on any crash, leak, timeout, out-of-memory,
# broken property or sanitizer report. Prints one line per target.
#
#   tests/fuzz/run.sh [BUILD_DIR]   BUILD_DIR defaults to $FUZZ_BUILD_DIR, else build/fuzz
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_JOBS      build parallelism (default 2)
#   FUZZ_FINDINGS  where failing inputs and logs are kept (default BUILD_DIR/findings)
#
# Needs clang and libclang-rt-14-dev besides the usual build tools: deploy/install-deps.sh.
set -euo pipefail

src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-${FUZZ_BUILD_DIR:-$src/build/fuzz}}"
seconds="${FUZZ_SECONDS:-60}"
jobs="${FUZZ_JOBS:-2}"
findings="${FUZZ_FINDINGS:-$build/findings}"
targets=(decode_order_placed_fuzz http_request_fuzz)
# Inputs longer than the server's 8 KiB header limit, so that the fuzzer reaches the 431 path too.
declare -A max_len=([decode_order_placed_fuzz]=4096 [http_request_fuzz]=16384)

for tool in clang clang++ cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool not found; run deploy/install-deps.sh" >&2
    exit 2
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/order-tracker-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Ctrl-C or a kill also stops the fuzzer in hand; stop here too rather than start the next one.
trap 'exit 130' INT
trap 'exit 143' TERM

# Fails the script with the tail of `log` when the command fails.
run_logged() {
  local what="$1" log="$2"
  shift 2
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $what failed (log above)" >&2
    exit 1
  fi
}

started=$SECONDS
# Full paths: CMake keeps the compiler in its cache and starts over if a later run names another.
run_logged configure "$work/configure.log" \
  env CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER="$(command -v clang)" -DCMAKE_CXX_COMPILER="$(command -v clang++)" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDER_TRACKER_BUILD_TESTS=ON -DORDER_TRACKER_FUZZ=ON
run_logged build "$work/build.log" cmake --build "$build" -j "$jobs" --target "${targets[@]}"
echo "fuzz: configured and built ${targets[*]} with clang in $((SECONDS - started)) s"

# What a failed run's log says happened, worst first.
verdict() {
  local log="$1" rc="$2"
  if grep -q 'ERROR: LeakSanitizer' "$log"; then
    echo leak
  elif grep -q 'ERROR: AddressSanitizer' "$log"; then
    echo "asan: $(grep -m1 -o 'ERROR: AddressSanitizer: [a-z-]*' "$log" | cut -d' ' -f3)"
  elif grep -q 'runtime error:' "$log"; then
    echo ubsan
  elif grep -q 'fuzz: property broken' "$log"; then
    echo "property: $(grep -m1 'fuzz: property broken' "$log" | cut -d: -f3- | sed 's/^ //')"
  elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
    echo timeout
  elif grep -q -e 'ERROR: libFuzzer: out-of-memory' -e 'ERROR: libFuzzer: malloc' "$log"; then
    echo out-of-memory
  elif grep -q 'ERROR: libFuzzer' "$log"; then
    echo "crash: $(grep -m1 -o 'ERROR: libFuzzer: [a-z -]*' "$log" | cut -d' ' -f3-)"
  elif ((rc != 0)); then
    echo "failed (exit $rc)"
  fi
}

failed=0
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus"
  artifacts="$work/$t/artifacts"
  log="$work/$t/fuzz.log"
  mkdir -p "$corpus" "$artifacts"
  rm -rf "${findings:?}/$t"  # what is left there afterwards is this run's
  # A copy: libFuzzer adds the inputs it finds to the first corpus directory.
  if [ -d "$src/tests/fuzz/corpus/$t" ]; then
    cp -R "$src/tests/fuzz/corpus/$t/." "$corpus/"
  fi
  seeds=$(find "$corpus" -type f | wc -l)

  begin=$SECONDS
  rc=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$build/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$t]}" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "$corpus" >"$log" 2>&1 || rc=$?
  took=$((SECONDS - begin))

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  result=$(verdict "$log" "$rc")
  if [ -z "$result" ] && [ -n "$(ls -A "$artifacts")" ]; then
    result="failed (left $(ls "$artifacts"))"
  fi
  if [ -z "$result" ]; then
    result=ok
  else
    failed=1
    mkdir -p "$findings/$t"
    cp -R "$artifacts/." "$findings/$t/"
    cp "$log" "$findings/$t/fuzz.log"
    # The report: from the first line of it to the end, without libFuzzer's progress lines.
    sed -n '/^==[0-9]*==\|ERROR: \|runtime error:\|^fuzz: property broken/,$p' "$log" |
      grep -v -e '^#[0-9]' -e 'NEW_FUNC' | head -n 80 >&2 || true
    echo "fuzz: $t: inputs and log kept in $findings/$t" >&2
  fi
  inputs=$(find "$corpus" -type f | wc -l)
  echo "fuzz: $t: ${runs:-0} executions in $took s, corpus $seeds -> $inputs inputs, $result"
done

echo "fuzz: done in $((SECONDS - started)) s"
exit "$failed"
