"""Accounts for every order of a run: what the clients were told, what the topic holds (read
independently of the services) and what the Tracker processed, and prints the closing line:

  <scenario>: acked=N lost=N tracker_missed=N phantom=N log_dups=N redeliveries=N applied_twice=N

lost: acknowledged (201) but not in the topic at the partition and offset the 201 named.
tracker_missed: acknowledged but not found by GET /orders/{id} on one live Tracker chosen at
  random for each order and each round (any instance answers for any order: issue 15).
phantom: a definite failure whose order is in the topic anyway.
log_dups: records beyond the first for one client identity (trace id).
redeliveries: records a Tracker applied again after some Tracker had applied them (restarts).
applied_twice: counts of an order beyond its first, in the final views' totals (held by several
  views, or counted again in one), or by one Tracker process applying it twice while its view held
  the partition (between two applications a logged revoke or loss of the partition resets it)."""
import collections
import json
import random
import time

import services

# Asks a Tracker for its own view only, as another Tracker forwarding a request does: the view
# counts below are per instance, not what the group answers.
LOCAL_ONLY = {"Tracker-Forwarded-By": "checker"}


def trace_of(msg):
    for k, v in msg.headers() or []:
        if k == "traceparent" and v:
            parts = v.decode(errors="replace").split("-")
            if len(parts) == 4:
                return parts[1]
    return None


class Result:
    FIELDS = ("acked", "lost", "tracker_missed", "phantom", "log_dups", "redeliveries",
              "applied_twice")

    def __init__(self, scenario):
        self.scenario = scenario
        self.values = dict.fromkeys(self.FIELDS, 0)
        self.extra = {}
        self.redelivered_from = collections.Counter()  # Proc -> its orders others applied again

    def line(self):
        return f"{self.scenario}: " + " ".join(f"{k}={self.values[k]}" for k in self.FIELDS)

    def __getitem__(self, k):
        return self.values[k]


def check(scenario, cluster, topic, load, trackers, settle_timeout=90):
    """`load`: the run's Load (its attempts and user); `trackers`: every Tracker service of the
    run (their logs); the ones still running hold the final views."""
    r = Result(scenario)
    attempts = load.attempts
    traces = {a.trace for a in attempts}
    acked = [a for a in attempts if a.outcome == "ok"]
    failed = {a.trace for a in attempts if a.outcome == "fail"}
    r.values["acked"] = len(acked)
    r.extra["fail"] = len(failed)
    r.extra["unknown"] = sum(1 for a in attempts if a.outcome == "unknown")

    by_trace = collections.defaultdict(list)
    at = {}
    for m in cluster.read_all(topic):
        t = trace_of(m)
        if t in traces:
            by_trace[t].append(m)
            at[(m.partition(), m.offset())] = t
    r.values["lost"] = sum(1 for a in acked if at.get((a.partition, a.offset)) != a.trace)
    r.values["phantom"] = sum(1 for t in failed if by_trace.get(t))
    r.values["log_dups"] = sum(len(v) - 1 for v in by_trace.values() if len(v) > 1)
    ids = {}
    for t, ms in by_trace.items():
        for m in ms:
            try:
                ids[json.loads(m.value())["order_id"]] = t
            except (ValueError, KeyError, TypeError):
                pass

    live = [t for t in trackers if t.proc.alive()]
    # The final views: wait until they hold every acknowledged order (or give up and count).
    missing = {a.order_id for a in acked}
    deadline = time.monotonic() + settle_timeout
    while missing and live:
        for oid in list(missing):
            # One instance, whichever: it finds the order through the group (a 503 while the
            # group rebalances or an owner is down is asked again in the next round).
            if random.choice(live).get(f"/orders/{oid}", timeout=5)[0] == 200:
                missing.discard(oid)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    r.values["tracker_missed"] = len(missing) if live else len(acked)

    # Counted per order, so that one order missing from the totals cannot hide another counted
    # twice. An order in two live views is in both views' totals: counted once per view beyond
    # the first. Within one view, each order it holds is in its totals once; whatever its totals
    # count beyond the orders it holds was counted twice (the view keeps every order's detail at
    # these loads, so nothing counted is missing from it for another reason). Orders a view does
    # not hold are not in that sum at all: they are tracker_missed, above, and cancel nothing.
    twice, counted, holders, surplus = _view_counts(live, ids, load.user)
    r.extra["view_orders"] = counted
    r.extra["distinct_in_log"] = len(ids)
    r.extra["in_several_views"] = sum(1 for n in holders.values() if n > 1)
    r.extra["view_surplus"] = surplus

    first = {}  # (partition, offset) -> the Proc that applied it first
    redeliveries = 0
    for t in trackers:
        for proc, incarnation in zip(t.incarnations, services.received_lines(t)):
            # Per partition: a partition the view dropped (revoked, lost) starts from zero, and
            # applying its orders again after a new assignment counts them once, as the view does.
            applied = collections.defaultdict(collections.Counter)
            for event in incarnation:
                if event[0] == "drop":
                    done = applied.pop(event[1], collections.Counter())
                    twice += sum(n - 1 for n in done.values() if n > 1)
                    continue
                _, oid, p, o = event
                if oid not in ids:
                    continue
                applied[p][oid] += 1
                if (p, o) in first:
                    redeliveries += 1
                    r.redelivered_from[first[(p, o)]] += 1
                else:
                    first[(p, o)] = proc
            twice += sum(n - 1 for c in applied.values() for n in c.values() if n > 1)
    r.values["redeliveries"] = redeliveries
    r.values["applied_twice"] = twice
    return r


def _view_counts(live, ids, user, attempts=3):
    """The final views' double counts of this run's orders (`ids`, from the log) for `user`:
    (twice, counted, holders, surplus). `holders`: order id -> how many live views hold it;
    `surplus`: view name -> what its totals count beyond the orders it holds. Stats are read
    before and after asking for every order, and again while they change, so that an order a
    view applies mid-count is neither a surplus nor a miss."""
    for _ in range(attempts):
        before = [_user_orders(t, user) for t in live]
        holders = collections.Counter()
        held = [0] * len(live)
        for i, t in enumerate(live):
            for oid in ids:
                if t.get(f"/orders/{oid}", timeout=5, headers=LOCAL_ONLY)[0] == 200:
                    holders[oid] += 1
                    held[i] += 1
        after = [_user_orders(t, user) for t in live]
        if before == after:
            break
    surplus = {t.name: after[i] - held[i] for i, t in enumerate(live)}
    twice = sum(n - 1 for n in holders.values() if n > 1) + sum(max(0, n) for n in surplus.values())
    return twice, sum(after), holders, surplus


def _user_orders(tracker, user):
    """The orders `tracker`'s totals count for `user`; 0 when /stats does not answer."""
    status, stats = tracker.get("/stats")
    return stats.get("by_user", {}).get(user, {}).get("orders", 0) if status == 200 else 0
