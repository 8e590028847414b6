#!/usr/bin/env python3
"""What 50 open /orders/stream clients cost the Tracker (issue 17): CPU per order at a steady
1,000 orders/s with no stream open, against the same with 50 streams being read.

Usage: /usr/bin/python3 tests/bench/sse_bench.py [--bin-dir build/bin] [--streams 50]
         [--rate 1000] [--seconds 10] [--rounds 4] [--flush-ms MS]

Starts its own broker (tests/live/live_harness.py: free loopback ports, a temp dir, everything
stopped by pid at the end), one Tracker (--quiet-orders) and, per phase, a generator-only Order
service placing rate x seconds orders. Phases alternate (0 streams, N streams, 0, N, ...) so that
drift on a shared machine hits both alike. For each phase: the Tracker's CPU time (utime + stime
from /proc/PID/stat) from the phase's first order processed to its last, divided by the orders.
The readers run in this process on one thread (a selector over N sockets, counting events, not
parsing them) and must receive every order; their CPU is not the Tracker's and is not counted.
Prints one line per phase and the ratios of the means and of the medians, N streams / 0 streams; the issue's bound is
1.20. Not part of ctest: the figures are noisy on a 2-core machine, compare ratios in one run.
"""

import argparse
import os
import selectors
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))
from live_harness import Failure, Harness, Interrupted, check, say, wait_until  # noqa: E402

NAME = "sse_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Readers:
    """N stream clients read on one thread; counts the events each got."""

    def __init__(self, port, n):
        self.sel = selectors.DefaultSelector()
        self.counts = {}
        self.socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /orders/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.counts[s] = 0
            self.socks.append(s)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            for key, _ in self.sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(262144)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(key.fileobj)
                    continue
                # An event boundary split across reads is counted once, by its "\ndata: " line.
                self.counts[key.fileobj] += data.count(b"\ndata: ")

    def min_count(self):
        return min(self.counts.values()) if self.counts else 0

    def close(self):
        self.stopping = True
        self.thread.join()
        for s in self.socks:
            s.close()


def processed(t):
    return t.metric("tracker_orders_processed_total") or 0.0


def phase(h, tracker, label, streams, rate, seconds):
    readers = Readers(tracker.port, streams) if streams else None
    if readers:
        check(wait_until(lambda: tracker.metric("tracker_streams_open") == streams, 10),
              f"{streams} streams did not open")
    count = rate * seconds
    base = processed(tracker)
    gen = h.start("order-service", label, "--no-http", "--generate-rate", str(rate), "--count",
                  str(count), "--log-level", "warn", http=False)
    # From the first order processed, so that the generator's start-up is not in the figure.
    check(wait_until(lambda: processed(tracker) > base, 60, 0.01), f"{label}: nothing processed")
    cpu0, n0, t0 = cpu_seconds(tracker.proc.pid), processed(tracker), time.monotonic()
    check(wait_until(lambda: processed(tracker) >= base + count, seconds * 4 + 60, 0.01),
          f"{label}: the Tracker did not process {count} orders")
    cpu1, n1, t1 = cpu_seconds(tracker.proc.pid), processed(tracker), time.monotonic()
    check(gen.proc.wait(timeout=60) == 0, f"{label}: the generator failed")
    dropped = tracker.metric("tracker_streams_dropped_total") or 0
    if readers:
        # Every reader gets every order of the phase (the readers count from their connect).
        got = wait_until(lambda: readers.min_count() >= count, 20)
        check(got, f"{label}: a reader got {readers.min_count()} of {count} events")
        readers.close()
        check(wait_until(lambda: tracker.metric("tracker_streams_open") == 0, 10),
              "streams still open")
    orders = n1 - n0
    us = (cpu1 - cpu0) / orders * 1e6
    say(NAME, f"{label}: {streams:3d} streams, {orders:.0f} orders in {t1 - t0:.1f} s "
        f"({orders / (t1 - t0):.0f}/s), Tracker CPU {cpu1 - cpu0:.2f} s = {us:.1f} us/order"
        f"{'' if not dropped else f', {dropped:.0f} streams dropped so far'}")
    check(dropped == 0, "a stream was dropped: the figure would not be the cost of 50 readers")
    return us


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", default=str(Path(__file__).resolve().parents[2] / "build" / "bin"))
    ap.add_argument("--streams", type=int, default=50)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--flush-ms", type=int, default=None,
                    help="the Tracker's --stream-flush-ms (default: its own default)")
    args = ap.parse_args()
    try:
        with Harness(NAME, args.bin_dir, 120 + args.rounds * 2 * (args.seconds * 5 + 60)) as h:
            flags = ["--max-streams", str(args.streams + 10)]
            if args.flush_ms is not None:
                flags += ["--stream-flush-ms", str(args.flush_ms)]
            tracker = h.tracker("tracker", *flags)
            # Warm-up: topic metadata, the first allocations, the page cache.
            phase(h, tracker, "warm-up", 0, args.rate, 3)
            results = {0: [], args.streams: []}
            for r in range(args.rounds):
                for n in (0, args.streams):
                    results[n].append(phase(h, tracker, f"round{r + 1}-{n}streams", n,
                                            args.rate, args.seconds))
            base = sum(results[0]) / len(results[0])
            with_streams = sum(results[args.streams]) / len(results[args.streams])
            say(NAME, f"RESULT: Tracker CPU per order at {args.rate}/s: mean {base:.1f} us with "
                f"no stream, {with_streams:.1f} us with {args.streams} streams: ratio "
                f"{with_streams / base:.2f}; median {statistics.median(results[0]):.1f} vs "
                f"{statistics.median(results[args.streams]):.1f} us: ratio "
                f"{statistics.median(results[args.streams]) / statistics.median(results[0]):.2f} "
                f"(bound 1.20)")
    except (Failure, Interrupted) as e:
        print(f"{NAME}: FAIL: {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
