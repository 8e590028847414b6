#!/bin/sh
# Stands in for seed_interop_test when the seed's clients are not where CMake looked for them:
# a failure in CI, where the interop check must run, and a skip with its reason elsewhere.
#   seed_missing.sh SEED_DIR
echo "seed_interop_test: the seed's producer.py and consumer.py are not in $1;" \
  "put the seed there or configure with -DORDER_TRACKER_SEED_DIR=<dir>"
if [ "${CI:-}" = true ]; then
  echo "seed_interop_test: CI=true, so a missing seed is a failure, not a skip"
  exit 1
fi
exit 77
