"""Scenario 10: poison records written straight to the topic among valid orders."""
import json
import os
import time

from confluent_kafka import Producer

from stack import Stack


def poison_values(rng):
    """(kind, value bytes) of each kind of poison, in a seeded order."""
    good = {"order_id": "6f1d4a52-9a43-4c1e-8c3b-2c1f0e7a9b10", "user": "p", "item": "Book",
            "quantity": 1, "schema_version": 1}
    kinds = [
        ("random_bytes", bytes(rng.getrandbits(8) for _ in range(200))),
        ("truncated_json", json.dumps(good).encode()[:40]),
        ("wrong_types", json.dumps(dict(good, quantity="two")).encode()),
        ("missing_field", json.dumps({k: v for k, v in good.items() if k != "user"}).encode()),
        ("bad_order_id", json.dumps(dict(good, order_id="not-a-uuid")).encode()),
        ("unknown_schema", json.dumps(dict(good, schema_version=99)).encode()),
        ("not_an_object", b"[1,2,3]"),
        ("empty", b""),
        ("deep_nesting", b"[" * 100_000),
        ("invalid_utf8", b'{"order_id":"\xff\xfe"}'),
        # Within the broker's and the dead-letter producer's 1 MB limits, headers included.
        ("one_megabyte", b'{"pad":"' + b"x" * 990_000 + b'"}'),
    ]
    rng.shuffle(kinds)
    return kinds


def poison(ctx):
    """Poison records (random bytes, truncated JSON, wrong types, 1 MB, ...) written to the topic
    among valid orders: all in orders.dlq with a reason, all valid orders processed, no restart."""
    s = Stack(ctx, "poison")
    try:
        for i in range(ctx.repeats):
            written = {}

            def fault():
                p = Producer({"bootstrap.servers": s.cluster.bootstrap, "acks": "all",
                              "message.max.bytes": 1_000_000})
                for n, (kind, value) in enumerate(poison_values(ctx.rng)):
                    key = f"poison-{i}-{n}-{kind}"
                    p.produce(s.topic, value=value, key=key,
                              partition=ctx.rng.randrange(3))
                    written[key] = kind
                    p.poll(0)
                    time.sleep(ctx.rng.uniform(0, 0.3))
                left = p.flush(30)
                if left:
                    raise RuntimeError(f"{left} poison records not written")
            pids = [t.proc.pid for t in s.trackers]
            load, _ = s.run(f"poison[{i}]", fault, after=4)
            r = s.check(f"poison[{i}]", load)
            dead = {}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    records = s.cluster.read_all(f"{s.topic}.dlq")
                except (KeyError, RuntimeError):
                    records = []
                dead = {m.key().decode(): dict(m.headers() or []) for m in records
                        if m.key() and m.key().decode() in written}
                if len(dead) == len(written):
                    break
                time.sleep(1)
            no_reason = [k for k, h in dead.items() if not h.get("dlq-reason")]
            ctx.closing(r, poison=len(written), in_dlq=len(dead), without_reason=len(no_reason))
            ctx.expect_clean(r)
            missing = sorted(written[k] for k in written if k not in dead)
            ctx.expect(not missing, f"poison[{i}]: not dead-lettered: {missing}")
            ctx.expect(not no_reason, f"poison[{i}]: dead letters without dlq-reason: {no_reason}")
            ctx.expect([t.proc.pid for t in s.trackers] == pids and
                       all(t.proc.alive() for t in s.trackers), f"poison[{i}]: a Tracker restarted")
    finally:
        s.close()


SCENARIOS = {"poison": poison}
