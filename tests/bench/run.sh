#!/usr/bin/env bash
# The benchmark of issue 6, in one command: tests/bench/run.sh
# Builds what it needs with the release preset, starts its own Kafka broker on free loopback ports
# in a temp dir, measures kcat, the seed's Python clients, the Order and Tracker services and a
# minimal librdkafka pair side by side, stops everything it started, and writes BENCHMARKS.md and
# bench-results.json at the repository root. Not part of ctest. Takes ~10 minutes (5 of them the
# steady RSS run: BENCH_STEADY_S=0 skips it). Knobs: see tests/bench/bench.py.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/bin/time ] || need+=(time)
command -v kcat >/dev/null || need+=(kcat)
/usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null || need+=(python3-confluent-kafka)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y "${need[@]}"; else sudo apt-get install -y "${need[@]}"; fi
fi

cmake --preset release >/dev/null
cmake --build --preset release --target order-service tracker-service bench_e2e_floor

/usr/bin/python3 tests/bench/http_bench.py --build --json http-bench-results.json
exec /usr/bin/python3 tests/bench/bench.py "$@"
