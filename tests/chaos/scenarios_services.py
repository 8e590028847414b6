"""Scenarios 1-5: the services crash, stop, restart, scale and stall under load."""
import signal
import time

from stack import Stack

# The stall scenario's short session, so that a paused Tracker is thrown out of the group within
# the run, as it would be after 45 s with the defaults: a client setting under the classic
# protocol, a group setting on the broker under KIP-848.
SHORT_SESSION = ("-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=1000")
SHORT_GROUP_SESSION = {"consumer.session.timeout.ms": "6000",
                       "consumer.heartbeat.interval.ms": "1000"}
GRACE_S = 10  # both services' default --shutdown-timeout-ms
STALE_GENERATION = "final offset commit: Broker: Specified group generation id is not valid"
FINAL_COMMIT_RETRIED = "final offset commit refused during a rebalance"


def order_kill9(ctx):
    """Order service kill -9 under load, then restarted."""
    s = Stack(ctx, "order_kill9")
    try:
        for i in range(ctx.repeats):
            def fault():
                s.order.proc.kill9()
                s.order.start().wait_ready()
            load, _ = s.run(f"order_kill9[{i}]", fault)
            r = s.check(f"order_kill9[{i}]", load)
            ctx.closing(r)
            ctx.expect_clean(r)
    finally:
        s.close()


def order_sigterm(ctx):
    """Order service SIGTERM under load: orders in flight are answered, then it exits in time."""
    s = Stack(ctx, "order_sigterm")
    try:
        for i in range(ctx.repeats):
            def fault():
                rc, took = s.order.proc.stop(timeout=GRACE_S + 5)
                s.order.start().wait_ready()
                return rc, took
            load, (rc, took) = s.run(f"order_sigterm[{i}]", fault)
            r = s.check(f"order_sigterm[{i}]", load)
            ctx.closing(r, exit_code=rc, stop_s=f"{took:.2f}")
            ctx.expect_clean(r, graceful=True)
            ctx.expect(rc == 0, f"order_sigterm[{i}]: exit code {rc}")
            ctx.expect(took < GRACE_S / 2, f"order_sigterm[{i}]: stop took {took:.1f}s")
    finally:
        s.close()


def tracker_kill9(ctx):
    """Tracker kill -9 under load, then restarted in the same group."""
    s = Stack(ctx, "tracker_kill9")
    try:
        for i in range(ctx.repeats):
            def fault():
                t = s.trackers[0]
                t.proc.kill9()
                time.sleep(ctx.rng.uniform(0, 2))
                t.start().wait_ready()
            load, _ = s.run(f"tracker_kill9[{i}]", fault)
            r = s.check(f"tracker_kill9[{i}]", load)
            ctx.closing(r)
            ctx.expect_clean(r)
    finally:
        s.close()


def tracker_rolling(ctx):
    """Trackers scale 1 -> 3, restart one by one (SIGTERM), scale back to 1, under load."""
    s = Stack(ctx, "tracker_rolling")
    try:
        for i in range(ctx.repeats):
            stops = []

            def fault():
                s.add_tracker()
                s.add_tracker()
                time.sleep(2)
                for t in list(s.trackers):
                    stops.append(t.proc.stop(timeout=GRACE_S + 5))
                    t.start().wait_ready()
                    time.sleep(1)
                for t in s.trackers[1:]:
                    stops.append(s.remove_tracker(t))
            load, _ = s.run(f"tracker_rolling[{i}]", fault)
            r = s.check(f"tracker_rolling[{i}]", load)
            worst = max(took for _, took in stops)
            # Under the classic protocol a final commit sent while another member joins or leaves
            # is refused and sent again once the member has rejoined: counted for the record.
            retried = sum(p.log_text().count(FINAL_COMMIT_RETRIED)
                          for t in s.all_trackers for p in t.incarnations)
            refused = sum(1 for t in s.all_trackers for p in t.incarnations
                          if STALE_GENERATION in p.log_text())
            ctx.closing(r, stops=len(stops), slowest_stop_s=f"{worst:.2f}",
                        final_commits_retried=retried, final_commits_refused=refused)
            ctx.expect_clean(r)
            ctx.expect(r["redeliveries"] == 0,
                       f"tracker_rolling[{i}]: {r['redeliveries']} redeliveries after graceful "
                       f"stops ({refused} final commits refused)")
            ctx.expect(all(rc == 0 for rc, _ in stops),
                       f"tracker_rolling[{i}]: exit codes {[rc for rc, _ in stops]}")
            ctx.expect(worst < GRACE_S / 2, f"tracker_rolling[{i}]: a stop took {worst:.1f}s")
    finally:
        s.close()


def tracker_sigstop(ctx):
    """One of two Trackers SIGSTOPped past its session timeout, then SIGCONT."""
    if "group.protocol=classic" in ctx.tracker_args:
        s = Stack(ctx, "tracker_sigstop", trackers=2, tracker_extra=SHORT_SESSION)
    else:
        s = Stack(ctx, "tracker_sigstop", trackers=2, group_config=SHORT_GROUP_SESSION)
    try:
        for i in range(ctx.repeats):
            def fault():
                t = s.trackers[i % 2]
                t.proc.send(signal.SIGSTOP)
                time.sleep(9)
                t.proc.send(signal.SIGCONT)
            load, _ = s.run(f"tracker_sigstop[{i}]", fault, after=8)
            r = s.check(f"tracker_sigstop[{i}]", load)
            ctx.closing(r)
            ctx.expect_clean(r)
            ctx.expect(all(t.proc.alive() and len(t.incarnations) == 1 for t in s.trackers),
                       f"tracker_sigstop[{i}]: a Tracker died")
    finally:
        s.close()


SCENARIOS = {
    "order_kill9": order_kill9,
    "order_sigterm": order_sigterm,
    "tracker_kill9": tracker_kill9,
    "tracker_rolling": tracker_rolling,
    "tracker_sigstop": tracker_sigstop,
}
