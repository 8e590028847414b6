#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build with the CI preset
# (warnings are errors), run every test ctest knows by default (unit, real-broker integration,
# interop with the seed's Python clients). Each test executable starts and stops its own broker.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci -j2 "$@"
