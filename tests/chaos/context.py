"""What every scenario gets: the binaries, a work dir, a seeded random source for the moments of
its faults, a log, and the list of targets it missed."""
import random
import time

T0 = time.monotonic()


class Context:
    def __init__(self, bin_dir, workdir, seed, repeats):
        self.bin_dir = bin_dir
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.repeats = repeats
        self.failures = []
        self.lines = []  # closing lines, in order
        self.tracker_args = []  # given to every Tracker a scenario starts (e.g. group.protocol)

    def log(self, msg):
        print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)

    def expect(self, ok, what):
        """Records a target: a missed one fails the scenario (after it has run to the end)."""
        if not ok:
            self.failures.append(what)
            self.log(f"MISSED: {what}")
        return ok

    def closing(self, result, **extra):
        """Prints the checker's closing line, and the run's context on a line of its own."""
        self.lines.append(result.line())
        print(result.line(), flush=True)
        details = dict(result.extra, **extra)
        self.log("  " + " ".join(f"{k}={v}" for k, v in details.items()))

    def expect_clean(self, r, graceful=False, producer_resends_allowed=False):
        """The targets of every crash, restart and broker-failure run. `producer_resends_allowed`:
        duplicates written by the producer itself (same order_id, one client attempt) are
        reported on the closing line but are not a miss."""
        keys = ["lost", "tracker_missed", "phantom", "applied_twice"]
        if not producer_resends_allowed:
            keys.append("log_dups")
        for k in keys:
            self.expect(r[k] == 0, f"{r.scenario}: {k}={r[k]}")
        self.expect(r["acked"] > 0, f"{r.scenario}: no order was acknowledged at all")
        if graceful:
            self.expect(r["redeliveries"] == 0, f"{r.scenario}: redeliveries={r['redeliveries']}")
