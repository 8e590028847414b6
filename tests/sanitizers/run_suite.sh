#!/bin/sh
# The `sanitizers` test of a regular build: the unit, Kafka adapter and integration tests of the
# `asan` preset's build (build-asan/, ASan+UBSan, leaks checked, each service they spawn sanitized
# too), then the report check (tests/CMakeLists.txt). tests/run.sh builds that preset first; this
# brings it up to date and runs `ctest --preset asan`, whose summary ends the output.
#   run_suite.sh SOURCE_DIR
# Without build-asan/ it fails in CI (CI=true) and is skipped elsewhere, with the reason.
set -eu
cd "$1"
if [ ! -f build-asan/CTestTestfile.cmake ]; then
  echo "sanitizers: build-asan/ is not configured: cmake --preset asan && cmake --build --preset asan"
  if [ "${CI:-}" = true ]; then
    echo "sanitizers: CI=true, so a missing sanitizer build is a failure, not a skip"
    exit 1
  fi
  exit 77
fi
cmake --build --preset asan
exec ctest --preset asan -j2
