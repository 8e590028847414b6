"""One scenario's system: a Kafka cluster, the `orders` topic, an Order service and Trackers,
plus the run loop every scenario shares: load, a fault at a seeded moment, drain, account."""
import time

import checker
import services
from cluster import Cluster
from load import Load


class Stack:
    def __init__(self, ctx, name, nodes=1, replication=1, min_isr=None, partitions=3, trackers=1,
                 order_extra=(), tracker_extra=(), topic="orders", topic_config=None,
                 group_config=None):
        self.ctx, self.name, self.topic = ctx, name, topic
        self.tracker_extra = [*ctx.tracker_args, *tracker_extra]
        t0 = time.monotonic()
        self.cluster = Cluster(ctx.workdir, nodes).start()
        config = dict(topic_config or {})
        if min_isr:
            config["min.insync.replicas"] = str(min_isr)
        self.cluster.create_topic(topic, partitions, replication, config)
        ctx.log(f"{name}: {nodes}-node cluster at {self.cluster.bootstrap} in "
                f"{time.monotonic() - t0:.0f}s; topic {topic}: {partitions} partitions, "
                f"replication {replication}, {config or 'broker defaults'}")
        if group_config:
            self.cluster.set_group_config(f"{name}-group", group_config)
        self.order = services.order_service(ctx.bin_dir, ctx.workdir, self.cluster.bootstrap, topic,
                                            name=f"{name}-order", extra=order_extra)
        self.trackers = []      # running now
        self.all_trackers = []  # ever started: their logs count
        for _ in range(trackers):
            self.add_tracker(wait=False)
        self.order.wait_ready()
        for t in self.trackers:
            t.wait_ready()

    def add_tracker(self, wait=True):
        t = services.tracker(self.ctx.bin_dir, self.ctx.workdir, self.cluster.bootstrap,
                             self.topic, f"{self.name}-group",
                             name=f"{self.name}-tracker{len(self.all_trackers)}",
                             extra=self.tracker_extra)
        self.trackers.append(t)
        self.all_trackers.append(t)
        if wait:
            t.wait_ready()
        return t

    def remove_tracker(self, t):
        self.trackers.remove(t)
        return t.proc.stop()

    def run(self, label, fault, rate=200, before=2.0, after=4.0, workers=32):
        """Load at `rate`; `fault()` at before + a seeded 0-1.5 s; `after` seconds more load.
        Returns the Load (its attempts) and whatever `fault` returned."""
        load = Load(self.order.port, user=label, rate=rate, workers=workers).start()
        time.sleep(before + self.ctx.rng.uniform(0, 1.5))
        info = fault()
        time.sleep(after)
        load.stop()
        return load, info

    def check(self, label, load, settle_timeout=90):
        return checker.check(label, self.cluster, self.topic, load, self.all_trackers,
                             settle_timeout=settle_timeout)

    def close(self):
        for s in [self.order, *self.trackers]:
            s.proc.stop()
        self.cluster.stop()
