#!/usr/bin/env python3
"""deploy/docker-compose.3-brokers.yml, run for real (ctest `compose_full_test`, label
`compose-full`, not in the default run).

The same engine and images as compose_test.py. Brings the unchanged three-broker file up (only
KAFKA_IMAGE is set) and checks: every node healthy, `orders` and `orders.dlq` with replication 3
and min.insync.replicas=2, orders flowing; then, while orders are placed over HTTP, `docker kill`
of the broker leading partition 0: acknowledged orders keep coming, and none is lost (each 201's
partition and offset holds that order in the topic, read back as the chaos checker does); the
broker started again rejoins every ISR. Prints each figure.

Exit 0 passed, 1 failed, 77 skipped (no Docker engine can run here).
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import scenario
from compose_project import (OrderPlacer, docker, expect, place_order, tracker_answers, up_and_wait,
                             wait_for)
from docker_engine import REPO

sys.path.insert(0, str(REPO / "tests" / "chaos"))
import cluster  # noqa: E402  (the chaos suite's topic reader)

COMPOSE_FILE = REPO / "deploy" / "docker-compose.3-brokers.yml"
PROJECT = "order-tracker-ci-3brokers"
ORDER_PORT = 8080
NODES = ("kafka-1", "kafka-2", "kafka-3")
LAYERS = [{n: "service" for n in NODES}, {"topic-init": "job"},
          {"order-service": "service", "tracker-service": "service"}]
BOOTSTRAP = "kafka-1:29092,kafka-2:29092,kafka-3:29092"


def describe(project, topic):
    """[(partition, leader, replicas, isr)] and the topic's configs, from kafka-topics.sh."""
    node = next(c for n in NODES for c in project.containers(n, all_states=False))
    out = project.exec(node, "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", BOOTSTRAP,
                       "--describe", "--topic", topic)
    parts, header = [], ""
    for line in out.splitlines():
        if "Partition:" in line:
            f = dict(re.findall(r"(\w+): (\S*)", line))
            parts.append((int(f["Partition"]), f["Leader"], f["Replicas"].split(","),
                          [i for i in f["Isr"].split(",") if i]))
        elif line.startswith("Topic:"):
            header = line
    return parts, header


def read_topic(topic):
    """{(partition, offset): order id} of every record in the topic, read from the host with the
    chaos suite's own reader (tests/chaos/cluster.py), through the published localhost:9092."""
    records = cluster.Cluster.read_all(SimpleNamespace(bootstrap="localhost:9092"), topic)
    found = {}
    for m in records:
        try:
            found[(m.partition(), m.offset())] = json.loads(m.value())["order_id"]
        except (ValueError, KeyError, TypeError):
            found[(m.partition(), m.offset())] = None
    return found


class ThreeBrokers:
    def __init__(self, project, phases):
        self.project, self.phases = project, phases

    def topics(self):
        for topic in ("orders", "orders.dlq"):
            parts, header = describe(self.project, topic)
            expect(len(parts) == 3, f"{topic}: {len(parts)} partitions")
            for p, leader, replicas, isr in parts:
                expect(len(replicas) == 3 and len(isr) == 3,
                       f"{topic}-{p}: replicas {replicas}, isr {isr}")
            expect("min.insync.replicas=2" in header, f"{topic}: {header}")
            self.phases.figure(f"{topic}", "3 partitions, replication 3, every ISR 3, "
                                          "min.insync.replicas=2")

    def orders_flow(self):
        status, body = place_order(ORDER_PORT, "Jane Doe", "Phone", 1)
        expect(status == 201, f"POST /orders: {status} {body}")
        tracker_answers(self.project, self.project.container("tracker-service"), body["order_id"])
        self.phases.figure("orders flow", f"201 and tracked: {body['order_id']}")

    def broker_kill(self):
        parts, _ = describe(self.project, "orders")
        victim = f"kafka-{parts[0][1]}"
        container = self.project.container(victim)
        placer = OrderPlacer(ORDER_PORT, rate=20, item="Failover")
        placer.start()
        time.sleep(10)
        killed = time.time()
        docker("kill", container)
        self.phases.figure("broker killed", f"{victim} (leader of orders-0), docker kill, "
                                            f"{sum(1 for a in placer.acked)} orders acked before")
        time.sleep(30)
        restarted = time.time()
        docker("start", container)

        def full_isr():
            parts, _ = describe(self.project, "orders")
            return all(len(isr) == 3 for _, _, _, isr in parts)
        wait_for(f"{victim} back in every ISR of orders", full_isr, 180, 2)
        rejoined = time.time() - restarted
        time.sleep(5)
        placer.finish()

        during = [a for a in placer.acked if killed + 5 <= a[0] < restarted]
        expect(during, "no order was acknowledged while the broker was down")
        self.phases.figure(f"{victim} rejoined every ISR", f"{rejoined:.1f} s after docker start")
        self.phases.figure("orders while the broker was down",
                           f"{len(during)} acked from 5 s after the kill until the restart")

        found = read_topic("orders")
        lost = [(oid, p, o) for _, oid, p, o in placer.acked if found.get((p, o)) != oid]
        expect(not lost, f"{len(lost)} acknowledged orders not in the topic where their 201 said: "
                         f"{lost[:5]}")
        tracker = self.project.container("tracker-service")
        port = self.project.host_port(tracker, 8081)
        for _, oid, _, _ in placer.acked:
            tracker_answers(self.project, tracker, oid, timeout=60, port=port)
        refused = len(placer.failed)
        self.phases.figure("broker kill under load",
                           f"acked={len(placer.acked)} lost=0 tracker_missed=0 "
                           f"refused_or_failed={refused}")

    def down(self):
        self.project.compose("down", "-v", "--remove-orphans", "--timeout", "30", timeout=300)
        left = self.project.leftovers()
        expect(not any(left.values()), f"down -v left {left}")
        self.phases.figure("down -v", "no container, network or volume of the project left")


def checks(project, phases):
    r = ThreeBrokers(project, phases)
    phases.run("up", up_and_wait, project, phases, "up", LAYERS, 420)
    phases.run("topics", r.topics)
    phases.run("orders flow", r.orders_flow)
    phases.run("broker kill", r.broker_kill)
    phases.run("down -v", r.down)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", default=str(REPO / "build-ci" / "compose-full"))
    args = ap.parse_args()
    return scenario.run(args.work_dir, PROJECT, COMPOSE_FILE, checks)


if __name__ == "__main__":
    sys.exit(main())
