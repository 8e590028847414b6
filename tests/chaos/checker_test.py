"""checker.check's applied_twice counts per order: against fake Trackers and a fake topic, an order
counted twice is found even when another order is missing from every view, which the totals minus
the distinct ids used to hide. And tracker_missed asks one instance at random per order, which
answers for the whole group (routing), while the view counts ask each instance for its own view
only. Standard library only; no broker, no services.

  /usr/bin/python3 tests/chaos/checker_test.py"""
import collections
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402

USER = "chaos-user"


class Msg:
    def __init__(self, trace, oid, partition, offset):
        self._trace, self._oid, self._p, self._o = trace, oid, partition, offset

    def headers(self):
        return [("traceparent", f"00-{self._trace}-00f067aa0ba902b7-01".encode())]

    def value(self):
        return json.dumps({"order_id": self._oid}).encode()

    def partition(self):
        return self._p

    def offset(self):
        return self._o


class Cluster:
    def __init__(self, msgs):
        self.msgs = msgs

    def read_all(self, topic):
        return self.msgs


class Attempt:
    def __init__(self, n):
        self.trace = f"{n:032x}"
        self.order_id = f"order-{n}"
        self.outcome = "ok"
        self.partition, self.offset = n % 2, n


class Load:
    def __init__(self, attempts):
        self.attempts, self.user = attempts, USER


class Proc:
    def __init__(self, log=""):
        self.log = log

    def alive(self):
        return True

    def log_text(self):
        return self.log


class Tracker:
    """A live Tracker whose view holds `held` and whose totals count `counted` orders. Asked
    without the forwarding header, it answers for the whole group (`group`), as routing does;
    `routed` counts those requests per order."""

    def __init__(self, name, held, counted):
        self.name, self.held, self.counted = name, set(held), counted
        self.proc = Proc()
        self.incarnations = [self.proc]
        self.group = [self]
        self.routed = collections.Counter()

    def get(self, path, timeout=5.0, headers=None):
        if path == "/stats":
            return 200, {"by_user": {USER: {"orders": self.counted}}}
        oid = path.rsplit("/", 1)[1]
        if "Tracker-Forwarded-By" in (headers or {}):
            return (200, {}) if oid in self.held else (404, {})
        self.routed[oid] += 1
        return (200, {}) if any(oid in t.held for t in self.group) else (404, {})


def run(trackers, n=4):
    for t in trackers:
        t.group = trackers
    attempts = [Attempt(i) for i in range(n)]
    msgs = [Msg(a.trace, a.order_id, a.partition, a.offset) for a in attempts]
    return checker.check("t", Cluster(msgs), "orders", Load(attempts), trackers, settle_timeout=0)


class AppliedTwice(unittest.TestCase):
    def test_every_order_once_is_clean(self):
        r = run([Tracker("a", ["order-0", "order-1"], 2), Tracker("b", ["order-2", "order-3"], 2)])
        self.assertEqual((r["applied_twice"], r["tracker_missed"]), (0, 0))

    def test_a_missing_order_does_not_hide_a_double_count(self):
        # order-3 is in no view; view a counts order-0 twice: totals 4 == 4 distinct ids.
        r = run([Tracker("a", ["order-0", "order-1"], 3), Tracker("b", ["order-2"], 1)])
        self.assertEqual((r["applied_twice"], r["tracker_missed"]), (1, 1))

    def test_an_order_in_two_views_is_counted_twice(self):
        r = run([Tracker("a", ["order-0", "order-1"], 2),
                 Tracker("b", ["order-1", "order-2", "order-3"], 3)])
        self.assertEqual(r["applied_twice"], 1)


class AppliedAgainInOneProcess(unittest.TestCase):
    """A Tracker that applies an order twice counts it twice, unless its view dropped the
    order's partition (revoked or lost, as it logs) in between: then it starts that partition
    afresh, as after a snapshot lookup that timed out and a full replay."""

    OID = "0b0e0c0d-0000-4000-8000-000000000001"

    def received(self, partition, offset):
        return (f"2026-12-03T01:00:00.000Z info  [tracker] Received order {self.OID}: user "
                f"chaos-user (partition {partition}, offset {offset})\n")

    def run_with_log(self, log):
        attempt = Attempt(1)
        attempt.order_id = self.OID
        msgs = [Msg(attempt.trace, self.OID, attempt.partition, attempt.offset)]
        t = Tracker("a", [self.OID], 1)
        t.proc = Proc(log)
        t.incarnations = [t.proc]
        t.group = [t]
        return checker.check("t", Cluster(msgs), "orders", Load([attempt]), [t],
                             settle_timeout=0)

    def test_applied_twice_while_held_is_counted(self):
        r = self.run_with_log(self.received(1, 1) + self.received(1, 1))
        self.assertEqual((r["applied_twice"], r["redeliveries"]), (1, 1))

    def test_applied_again_after_its_partition_was_revoked_is_not(self):
        for how in ("revoked", "lost"):
            log = (self.received(1, 1) +
                   f"2026-12-03T01:00:01.000Z info  [tracker] {how} orders-0, orders-1\n" +
                   self.received(1, 1))
            r = self.run_with_log(log)
            self.assertEqual((r["applied_twice"], r["redeliveries"]), (0, 1), how)

    def test_revoking_another_partition_resets_nothing(self):
        log = (self.received(1, 1) + "2026-12-03T01:00:01.000Z info  [tracker] revoked orders-0\n" +
               self.received(1, 1))
        self.assertEqual(self.run_with_log(log)["applied_twice"], 1)


class OneInstancePerOrder(unittest.TestCase):
    def test_every_order_is_found_through_one_instance_whichever_holds_it(self):
        trackers = [Tracker("a", ["order-0", "order-1"], 2), Tracker("b", ["order-2"], 1),
                    Tracker("c", ["order-3"], 1)]
        r = run(trackers)
        self.assertEqual((r["tracker_missed"], r["applied_twice"]), (0, 0))
        asked = collections.Counter()
        for t in trackers:
            asked.update(t.routed)
        self.assertEqual(asked, collections.Counter({f"order-{i}": 1 for i in range(4)}))

    def test_view_counts_ask_each_view_for_its_own_orders_only(self):
        # Routed answers would put every order in every view: 4 orders counted twice.
        r = run([Tracker("a", ["order-0", "order-1"], 2), Tracker("b", ["order-2", "order-3"], 2)])
        self.assertEqual(r.extra["in_several_views"], 0)
        self.assertEqual(r["applied_twice"], 0)

    def test_an_order_no_view_holds_is_missed_whichever_instance_is_asked(self):
        r = run([Tracker("a", ["order-0"], 1), Tracker("b", ["order-1", "order-2"], 2)])
        self.assertEqual(r["tracker_missed"], 1)


if __name__ == "__main__":
    unittest.main()
