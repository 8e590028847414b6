#!/usr/bin/env python3
"""Time to ready of a restarted Tracker against the orders retained (issue 15).

For each size (RESTORE_SIZES, default 1000000,5000000,10000000 orders on 3 partitions): fill a
topic with the Order service's generator, let a Tracker process it all and stop (it commits and
writes its partition snapshots), then time, from process start to /readyz 200:
  - a checkpointed restart: the same group, starting from the snapshots;
  - a full replay: the same group with a state topic that holds no snapshot, so every partition
    is read from its log start (what every restart did before).
Each run checks that the restarted view's totals count every order exactly once.

Run tests/bench/run.sh once first (it builds build/bin), or build the release preset yourself;
then: /usr/bin/python3 tests/bench/restore_bench.py (RESTORE_BIN=build-ci/bin for the ci build's
binaries). Starts its own broker on free loopback ports
(deploy/local/kafka.sh) and stops everything it started. Writes restore-results.json and prints
the BENCHMARKS.md table. Reuses bench.py's process and HTTP helpers.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SIZES = [int(s) for s in os.environ.get("RESTORE_SIZES", "1000000,5000000,10000000").split(",")]
# Another build's binaries, e.g. build-ci/bin (same -O2 as release).
if os.environ.get("RESTORE_BIN"):
    bench.ORDER = os.path.join(os.environ["RESTORE_BIN"], "order-service")
    bench.TRACKER = os.path.join(os.environ["RESTORE_BIN"], "tracker-service")


def by_item_total(port):
    code, body = bench.http(f"http://127.0.0.1:{port}/stats", timeout=10)
    if code != 200:
        return -1
    return sum(t["orders"] for t in json.loads(body)["by_item"].values())


def tracker(name, topic, group, extra=()):
    port = bench.free_port()
    p = bench.start(name, [bench.TRACKER, "--bootstrap-servers", bench.BOOT, "--topic", topic,
                           "--group-id", group, "--http-listen", f"127.0.0.1:{port}",
                           "--quiet-orders", *extra])
    return p, port


def time_to_ready(name, topic, group, n, extra=()):
    t0 = time.monotonic()
    p, port = tracker(name, topic, group, extra)
    bench.wait_ready(port, p, timeout=3600)
    seconds = time.monotonic() - t0
    total = by_item_total(port)
    bench.stop(p)
    if total != n:
        raise RuntimeError(f"{name}: the restarted view counts {total} orders, not {n}")
    return seconds


def one_size(n):
    topic = f"restore-{n}"
    group = f"{topic}-group"
    t0 = time.monotonic()
    bench.run_timed(f"{topic}-fill", [bench.ORDER, "--bootstrap-servers", bench.BOOT, "--topic",
                                      topic, "--generate-rate", "0", "--count", str(n),
                                      "--no-http", "--log-level", "warn"], timeout=3600)
    bench.log(f"{n} orders written in {time.monotonic() - t0:.1f} s")
    p, port = tracker(f"{topic}-first", topic, group)
    deadline = time.monotonic() + 3600
    while by_item_total(port) != n:
        if time.monotonic() > deadline or p.poll() is not None:
            raise RuntimeError(f"the first Tracker did not count {n} orders")
        time.sleep(0.5)
    time.sleep(2)  # idle: the last commit and its snapshots are written
    bench.stop(p)
    snap = time_to_ready(f"{topic}-checkpointed", topic, group, n)
    bench.log(f"{n}: checkpointed restart ready in {snap:.2f} s")
    full = time_to_ready(f"{topic}-full", topic, group, n,
                         ("--state-topic", f"{topic}.no-snapshots"))
    bench.log(f"{n}: full replay ready in {full:.2f} s")
    return {"orders": n, "checkpointed_s": round(snap, 2), "full_replay_s": round(full, 2)}


def main():
    if not os.path.exists(bench.TRACKER):
        sys.exit(f"missing {bench.TRACKER}: build the release preset first")
    port = bench.free_port(pair=True)
    ks = subprocess.run([bench.KAFKA_SH, "start", "--fresh", "--port", str(port), "--dir",
                         bench.KDIR], capture_output=True, text=True)
    if ks.returncode != 0:
        sys.exit(f"broker did not start: {ks.stdout[-1000:]}{ks.stderr[-1000:]}")
    bench.BOOT = ks.stdout.strip().splitlines()[-1]
    rows = []
    try:
        for n in SIZES:
            rows.append(one_size(n))
    finally:
        for p in list(bench.children):
            bench.stop(p)
        subprocess.run([bench.KAFKA_SH, "stop", "--dir", bench.KDIR], capture_output=True)
    with open(os.path.join(bench.ROOT, "restore-results.json"), "w") as f:
        json.dump({"machine": bench.machine(), "load_avg": bench.load(), "rows": rows}, f, indent=1)
    print("| Orders retained (3 partitions) | Checkpointed restart: ready after | "
          "Full replay: ready after |")
    print("|---:|---:|---:|")
    for r in rows:
        print(f"| {r['orders']:,} | {r['checkpointed_s']:.2f} s | {r['full_replay_s']:.2f} s |")


if __name__ == "__main__":
    main()
