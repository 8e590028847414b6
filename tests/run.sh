#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build with the CI preset
# (warnings are errors, in build-ci/), then run every test ctest knows by default: unit, real-broker integration, interop with the seed's Python
# clients, the fault-injection smoke subset and the `fuzz` test (both libFuzzer targets for
# FUZZ_SECONDS each, built with clang in build-ci/fuzz/) and the compose file run on a Docker engine
# (`compose_test`). ORDER_TRACKER_ASAN=1 adds the ASan+UBSan
# build (build-asan/) and its tests. Each test executable that needs Kafka
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
# The sanitized run (`ORDER_TRACKER_ASAN=1 ./tests/run.sh`): the asan preset's build and its
# tests. Not yet in the default run: its build time on a fresh machine is still to be measured
# against CI's 45 minutes (README, "Tests").
if [ "${ORDER_TRACKER_ASAN:-0}" = 1 ]; then
  step "asan configure+build" sh -c 'cmake --preset asan && cmake --build --preset asan'
  step "asan tests" ctest --preset asan -j2
fi
ctest --preset ci -j2 "$@"
