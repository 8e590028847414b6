"""Consumer group timing: how long the group takes to settle when a second Tracker joins and when
it leaves again, under load, with the protocol the Trackers run (chaos.py --group-protocol)."""
import time

from services import http_get
from stack import Stack

PARTITIONS = 6
POLL_S = 0.05


def owned(tracker):
    status, body = http_get(tracker.port, "/stats", timeout=2)
    if status != 200 or not isinstance(body, dict):
        return None
    return set(body.get("partitions", []))


def wait_settled(trackers, expect_each_nonempty, timeout=60.0):
    """Seconds until every partition is owned by exactly one of `trackers` (each owning some when
    `expect_each_nonempty`) and each answers /readyz 200; None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        sets = [owned(t) for t in trackers]
        if all(s is not None for s in sets):
            union = set().union(*sets)
            disjoint = sum(len(s) for s in sets) == len(union)
            nonempty = all(sets) if expect_each_nonempty else True
            if union == set(range(PARTITIONS)) and disjoint and nonempty and all(
                    http_get(t.port, "/readyz", timeout=2)[0] == 200 for t in trackers):
                return time.monotonic() - t0
        time.sleep(POLL_S)
    return None


def group_settle(ctx):
    """A second Tracker joins, then leaves (SIGTERM), under load: seconds until the group settles."""
    protocol = next((a.split("=", 1)[1] for a in ctx.tracker_args if a.startswith("group.protocol=")),
                    "default")
    s = Stack(ctx, "group_settle", partitions=PARTITIONS)
    try:
        for i in range(ctx.repeats):
            figures = {}

            def fault():
                second = s.add_tracker(wait=False)
                figures["join_s"] = wait_settled(s.trackers, True)
                rc, took = s.remove_tracker(second)
                figures["stop_s"] = took
                figures["stop_rc"] = rc
                figures["leave_s"] = wait_settled(s.trackers, True)
            load, _ = s.run(f"group_settle[{i}]", fault)
            r = s.check(f"group_settle[{i}]", load)
            fmt = lambda v: "timeout" if v is None else f"{v:.2f}"  # noqa: E731
            ctx.closing(r, protocol=protocol, join_settle_s=fmt(figures["join_s"]),
                        leave_settle_s=fmt(figures["leave_s"]),
                        stop_s=f"{figures['stop_s']:.2f}")
            ctx.expect_clean(r)
            ctx.expect(figures["join_s"] is not None, f"group_settle[{i}]: join never settled")
            ctx.expect(figures["leave_s"] is not None, f"group_settle[{i}]: leave never settled")
            ctx.expect(figures["stop_rc"] == 0, f"group_settle[{i}]: exit {figures['stop_rc']}")
    finally:
        s.close()


SCENARIOS = {"group_settle": group_settle}
