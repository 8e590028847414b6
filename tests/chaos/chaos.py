#!/usr/bin/python3
"""Fault-injection driver: runs named scenarios against real Kafka and the real services, each
with its own broker on free loopback ports, and prints the checker's closing line for every run.

  tests/chaos/chaos.py --bin-dir build/bin --scenario order_kill9 [--repeats 3] [--seed 7]
  tests/chaos/chaos.py --list

Exit status 0 when every target of every run was met, 1 otherwise, 2 on bad usage. Every process
it starts is stopped by pid on the way out, whatever the outcome."""
import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import procs  # noqa: E402  (registers the clean-up first)
import cluster  # noqa: E402
from context import Context  # noqa: E402
import scenarios_brokers  # noqa: E402
import scenarios_group  # noqa: E402
import scenarios_input  # noqa: E402
import scenarios_services  # noqa: E402
import scenarios_snapshots  # noqa: E402

SCENARIOS = {}
for module in (scenarios_services, scenarios_brokers, scenarios_input, scenarios_group,
               scenarios_snapshots):
    SCENARIOS.update(module.SCENARIOS)
try:
    import hostile  # noqa: E402

    SCENARIOS.update(hostile.SCENARIOS)
except ImportError:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", help="directory with order-service and tracker-service")
    ap.add_argument("--scenario", action="append", default=[], help="scenario name (repeatable)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per scenario, each with its "
                    "fault at another moment")
    ap.add_argument("--seed", type=int, default=None, help="seed of the fault moments")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs) afterwards")
    ap.add_argument("--group-protocol", choices=["classic", "consumer"], default=None,
                    help="the Trackers' consumer group protocol (-X group.protocol); default: "
                    "the Tracker's own default")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for name, fn in SCENARIOS.items():
            print(f"{name:24} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    unknown = [s for s in a.scenario if s not in SCENARIOS]
    if not a.bin_dir or not a.scenario or unknown:
        ap.print_usage(sys.stderr)
        print(f"chaos: need --bin-dir and known --scenario names (unknown: {unknown}); --list",
              file=sys.stderr)
        return 2
    seed = a.seed if a.seed is not None else int(time.time()) % 100000
    workdir = tempfile.mkdtemp(prefix="chaos.")
    ctx = Context(os.path.abspath(a.bin_dir), workdir, seed, a.repeats)
    if a.group_protocol:
        ctx.tracker_args = ["-X", f"group.protocol={a.group_protocol}"]
    ctx.log(f"seed {seed}, work dir {workdir}")
    try:
        for name in a.scenario:
            t0 = time.monotonic()
            try:
                SCENARIOS[name](ctx)
            except Exception as e:  # a scenario that cannot finish has missed its targets
                traceback.print_exc()
                ctx.expect(False, f"{name}: {type(e).__name__}: {e}")
            ctx.log(f"{name}: done in {time.monotonic() - t0:.0f}s")
    finally:
        procs.cleanup()
        for c in list(cluster.CLUSTERS):
            c.stop()
        if a.keep or ctx.failures:
            print(f"chaos: logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if ctx.failures:
        print(f"chaos: FAIL ({len(ctx.failures)} missed): " + "; ".join(ctx.failures))
        return 1
    print("chaos: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
