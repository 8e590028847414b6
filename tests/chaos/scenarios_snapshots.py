"""Scenario 13: the Tracker's partition snapshots (the `<topic>.tracker-state` topic) damaged in
every way the issue names, under load. Each kind stops the Tracker, does its damage, and starts it
again; the totals must stay exactly what a full replay gives, and the restart must say which way
it restored (from the snapshot, or from the log start after a warning and a metric):

  kill9_after_write  kill -9 the moment a new snapshot reaches the broker, before the next commit
  behind             an older genuine snapshot made the newest again (behind the committed offset)
  ahead              the group's committed offsets moved back: the snapshot is ahead of them
  deleted            the state topic deleted
  compacted_away     tombstones for the snapshots' keys, as compaction leaves a removed key
  old_version        snapshots in a format version this Tracker does not know (version 0)
"""
import json
import subprocess
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import cluster
from scenarios_services import SHORT_GROUP_SESSION, SHORT_SESSION
from stack import Stack

PARTITIONS = 3
KINDS = ("kill9_after_write", "behind", "ahead", "deleted", "compacted_away", "old_version")
# Kinds whose restart must fall back to the log start; the others must start from a snapshot.
FALLBACK_KINDS = {"deleted", "compacted_away", "old_version"}
SHIFT_BACK = 150  # offsets the `ahead` kind moves each partition's committed offset back by


def metric(tracker, name):
    status, text = tracker.get("/metrics")
    if status != 200 or not isinstance(text, str):
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class StateTopic:
    """The state topic as the scenario sees it, through clients of its own."""

    def __init__(self, s):
        self.bootstrap = s.cluster.bootstrap
        self.name = f"{s.topic}.tracker-state"
        self.group = f"{s.name}-group"

    def _consumer(self):
        return Consumer({"bootstrap.servers": self.bootstrap, "group.id": "chaos-state-reader",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 10,
                         "enable.partition.eof": True})

    def records(self, timeout=30):
        """Every record of this group's keys, oldest first: [(partition, key, value)]."""
        c = self._consumer()
        try:
            c.assign([TopicPartition(self.name, p, 0) for p in range(PARTITIONS)])
            out, eof, deadline = [], set(), time.monotonic() + timeout
            while len(eof) < PARTITIONS and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == -191:  # _PARTITION_EOF
                        eof.add(m.partition())
                    continue
                key = (m.key() or b"").decode()
                if key.startswith(self.group + "/"):
                    out.append((m.partition(), key, m.value()))
            return out
        finally:
            c.close()

    def wait_for_new(self, timeout=20):
        """Blocks until a snapshot of this group reaches the broker after the call; True if one
        did."""
        c = self._consumer()
        try:
            tps = [TopicPartition(self.name, p, -1) for p in range(PARTITIONS)]  # OFFSET_END
            c.assign(tps)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                m = c.poll(0.05)
                if m is not None and not m.error() and \
                        (m.key() or b"").decode().startswith(self.group + "/"):
                    return True
            return False
        finally:
            c.close()

    def write(self, records):
        """Produces [(partition, key, value or None)] and waits for them."""
        p = Producer({"bootstrap.servers": self.bootstrap, "acks": "all"})
        errors = []
        for part, key, value in records:
            p.produce(self.name, key=key, value=value, partition=part,
                      on_delivery=lambda err, _m: err and errors.append(err))
        p.flush(30)
        if errors:
            raise RuntimeError(f"writing {self.name}: {errors}")

    def delete(self, timeout=60):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for f in admin.delete_topics([self.name], operation_timeout=30).values():
            f.result(timeout=timeout)
        deadline = time.monotonic() + timeout
        while self.name in admin.list_topics(timeout=10).topics:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} still listed after deletion")
            time.sleep(0.2)


def latest_by_key(records):
    latest = {}
    for part, key, value in records:
        latest[key] = (part, key, value)
    return latest


def older_by_key(records, back=3):
    """Per key, the record `back` writes before its newest (or its oldest, if it has fewer)."""
    by_key = {}
    for rec in records:
        by_key.setdefault(rec[1], []).append(rec)
    return [recs[max(0, len(recs) - 1 - back)] for recs in by_key.values()]


def shift_committed_back(s, n):
    """Moves the (empty) group's committed offsets back by `n` with Kafka's own tool."""
    out = subprocess.run([cluster.KAFKA_SH, "cli", "--dir", s.cluster.dir, "kafka-consumer-groups",
                          "--bootstrap-server", s.cluster.bootstrap, "--group", f"{s.name}-group",
                          "--topic", s.topic, "--reset-offsets", "--shift-by", str(-n),
                          "--execute"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"kafka-consumer-groups --reset-offsets: {out.stderr[-1500:]}")


def damage(s, state, kind, ctx):
    """Stops the Tracker, does `kind`'s damage, starts it again. Returns a note for the log."""
    t = s.trackers[0]
    if kind == "kill9_after_write":
        seen = state.wait_for_new()
        t.proc.kill9()
        note = "killed right after a snapshot write" if seen else "no snapshot seen in 20 s"
        ctx.expect(seen, "snapshot_kill9_after_write: no snapshot was written under load")
    elif kind == "ahead":
        # A clean stop leaves the group empty, so that its offsets can be moved.
        t.proc.stop()
        shift_committed_back(s, SHIFT_BACK)
        note = f"committed offsets moved back by {SHIFT_BACK}"
    else:
        t.proc.kill9()
        records = state.records()
        if kind == "behind":
            state.write(older_by_key(records))
            note = "older snapshots made the newest"
        elif kind == "deleted":
            state.delete()
            note = "state topic deleted"
        elif kind == "compacted_away":
            state.write([(p, k, None) for p, k, _ in latest_by_key(records).values()])
            note = "tombstones written"
        else:  # old_version
            forged = []
            for p, k, v in latest_by_key(records).values():
                doc = json.loads(v)
                doc["version"] = 0
                forged.append((p, k, json.dumps(doc).encode()))
            state.write(forged)
            note = "snapshots rewritten as format version 0"
    t.start().wait_ready(timeout=90)
    return note


def snapshot_faults(ctx):
    """Every kind of snapshot damage, one after another on one system, under load."""
    # A short session, so that a killed Tracker's partitions come back within seconds rather than
    # the default 45 s: what is under test is the restore, not the session timeout.
    if "group.protocol=classic" in ctx.tracker_args:
        s = Stack(ctx, "snapshot_faults", partitions=PARTITIONS, tracker_extra=SHORT_SESSION)
    else:
        s = Stack(ctx, "snapshot_faults", partitions=PARTITIONS, group_config=SHORT_GROUP_SESSION)
    state = StateTopic(s)
    try:
        for i in range(ctx.repeats):
            for kind in KINDS:
                label = f"snapshot_{kind}[{i}]"
                notes = {}

                def fault(kind=kind, notes=notes):
                    notes["what"] = damage(s, state, kind, ctx)
                    t = s.trackers[0]
                    notes["restores"] = metric(t, "tracker_snapshot_restores_total")
                    notes["fallbacks"] = metric(t, "tracker_snapshot_fallbacks_total")
                load, _ = s.run(label, fault)
                r = s.check(label, load)
                ctx.closing(r, damage=notes["what"], from_snapshot=notes["restores"],
                            full_replays=notes["fallbacks"])
                ctx.expect_clean(r)
                if kind in FALLBACK_KINDS:
                    ctx.expect(notes["fallbacks"] == PARTITIONS,
                               f"{label}: {notes['fallbacks']} of {PARTITIONS} partitions fell "
                               "back to a full replay")
                else:
                    ctx.expect(notes["restores"] == PARTITIONS and notes["fallbacks"] == 0,
                               f"{label}: {notes['restores']} restores from a snapshot, "
                               f"{notes['fallbacks']} full replays, of {PARTITIONS} partitions")
    finally:
        s.close()


SCENARIOS = {"snapshot_faults": snapshot_faults}
