#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build with the CI preset
# (warnings are errors, in build-ci/), then run every test ctest knows by default: unit, real-broker integration, interop with the seed's Python
# clients, the fault-injection smoke subset and the `fuzz` test (both libFuzzer targets for
# FUZZ_SECONDS each, built with clang in build-ci/fuzz/), the compose file run on a Docker engine
# (`compose_test`), and the unit, Kafka adapter and integration tests again under
# ASan+UBSan+LeakSanitizer (the `sanitizers` test, on build-asan/). Each test executable that needs Kafka
# starts and stops its own broker. Ends with ctest's summary; arguments go to that ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints how long a step took, so that CI logs show where its time goes.
step() {
  local name="$1" started=$SECONDS
  shift
  "$@"
  echo "run.sh: $name took $((SECONDS - started)) s"
}

step "install-deps" ./deploy/install-deps.sh
step "ci configure+build" sh -c 'cmake --preset ci && cmake --build --preset ci'
# The sanitized build (build-asan/, -O0 to keep its build time down); the ci run's `sanitizers`
# test runs its tests (tests/sanitizers/run_suite.sh). Built here so its time has a line of its own.
step "asan configure+build" sh -c 'cmake --preset asan && cmake --build --preset asan'
ctest --preset ci -j2 "$@"
