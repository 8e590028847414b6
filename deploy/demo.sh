#!/usr/bin/env bash
# The demo: install what is missing, build, start a local Kafka broker and both services, and show
# orders flowing. Ctrl+C stops the services (each flushes or commits, then exits) and the broker.
set -euo pipefail
# Job control: each service gets its own process group, so Ctrl+C reaches only this script, whose
# trap then stops each service exactly once (a second signal would cut their flush short).
set -m
cd "$(dirname "$0")/.."

rate="${GENERATE_RATE:-2}"
./deploy/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target order-service tracker-service

kafka=./deploy/local/kafka.sh
bootstrap=$("$kafka" start | tail -n 1)
echo "demo: broker at $bootstrap; orders at ${rate}/s from the generator and from POST :8080/orders"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping the services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$kafka" stop
}
trap stop_all INT TERM EXIT

# Each service's lines are prefixed with its name; both write their log to stderr.
./build/bin/tracker-service --bootstrap-servers "$bootstrap" --http-listen 127.0.0.1:8081 2>&1 | sed -u 's/^/tracker | /' &
pids+=("$(jobs -p | tail -n 1)")
./build/bin/order-service --bootstrap-servers "$bootstrap" --http-listen 127.0.0.1:8080 --generate-rate "$rate" 2>&1 | sed -u 's/^/order   | /' &
pids+=("$(jobs -p | tail -n 1)")
wait
