#!/usr/bin/env python3
"""deploy/docker-compose.yml, run for real (ctest `compose_test`, label `compose`).

Starts a Docker engine if none runs, makes the images (Debian base from Debian's archive, the
project's Kafka image in place of apache/kafka:4.4.0, the services' image built by docker-compose
from deploy/Dockerfile), brings the unchanged compose file up (only KAFKA_IMAGE is set), then:
healthy in dependency order, an order over HTTP tracked by the Tracker, the seed's producer.py
from the host tracked, `--scale tracker-service=3` sharing the partitions with every order tracked
exactly once, `stop` with both services exiting 0 after their flush and commit, `up` again with
nothing lost, `down -v` leaving nothing behind. Prints every figure and each phase's time.

Exit 0 passed, 1 failed, 77 skipped (no Docker engine can run here; the reason is printed).
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import images
import scenario
from compose_project import (LOOPBACK, Failure, OrderPlacer, docker_time, expect,
                             inspect, place_order, tracker_answers, up_and_wait, wait_for,
                             wait_healthy)
from docker_engine import REPO

COMPOSE_FILE = REPO / "deploy" / "docker-compose.yml"
PROJECT = "order-tracker-ci"
ORDER_PORT = 8080
RECEIVED = re.compile(r"Received order ([0-9a-f-]{36})")
LAYERS = [{"kafka": "service"}, {"topic-init": "job"},
          {"order-service": "service", "tracker-service": "service"}]
GRACE_S = 30  # stop_grace_period of both services in the compose file


def received_counts(project, containers, since=None):
    """{order id: number of 'Received order' lines} over the given containers' logs."""
    counts = {}
    for c in containers:
        for oid in RECEIVED.findall(project.logs(c, since=since)):
            counts[oid] = counts.get(oid, 0) + 1
    return counts


class ComposeRun:
    def __init__(self, project, phases, rdkafka_version):
        self.project = project
        self.phases = phases
        self.rdkafka_version = rdkafka_version
        self.acked = []  # every order id a 201 (or the seed's delivery report) confirmed

    # -- up ----------------------------------------------------------------------------------
    def up(self, label):
        return up_and_wait(self.project, self.phases, label, LAYERS)

    def tracked_by(self, container, oid, timeout=60):
        return tracker_answers(self.project, container, oid, timeout)

    def first_order(self):
        status, body = place_order(ORDER_PORT, "John Doe", "Shoes", 2)
        expect(status == 201, f"POST /orders: {status} {body}")
        oid = body["order_id"]
        self.acked.append(oid)
        self.phases.figure("POST /orders", f"201, order {oid} at partition {body['partition']}, "
                                           f"offset {body['offset']}")
        tracker = self.project.container("tracker-service")
        port = self.project.host_port(tracker, 8081)
        view = self.tracked_by(tracker, oid)
        expect(view.get("quantity") == 2 and view.get("item") == "Shoes", f"Tracker's view: {view}")
        line = wait_for("the Tracker's log line", lambda: next(
            (l for l in self.project.logs(tracker).splitlines() if f"Received order {oid}" in l),
            None), 30)
        self.phases.figure(f"GET /orders/{{id}} on {LOOPBACK}:{port}", "200")
        self.phases.figure("Tracker log line", line.strip())
        for service in ("order-service", "tracker-service"):
            want = f"{service} runs on librdkafka {self.rdkafka_version}"
            expect(want in self.project.logs(self.project.container(service)),
                   f"{service}'s log does not say '{want}'")
        self.phases.figure("librdkafka loaded in the containers", self.rdkafka_version)

    def seed_producer(self, seed_dir):
        r = subprocess.run(["/usr/bin/python3", str(Path(seed_dir) / "producer.py")], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           env={"KAFKA_BOOTSTRAP_SERVERS": "localhost:9092", "PATH": "/usr/bin:/bin"})
        print(r.stdout.strip())
        expect(r.returncode == 0, f"producer.py exited {r.returncode}")
        ids = re.findall(r'"order_id": "([0-9a-f-]{36})"', r.stdout)
        expect(len(ids) == 2, f"producer.py reported {len(ids)} deliveries, want 2")
        tracker = self.project.container("tracker-service")
        for oid in ids:
            self.tracked_by(tracker, oid)
        self.acked += ids
        self.phases.figure("seed producer.py on the host (localhost:9092)",
                           f"2 orders delivered, both tracked: {', '.join(ids)}")

    def group_members(self):
        """{partition: consumer id} of the group order-tracker on `orders`, from Kafka's tool."""
        out = self.project.exec(self.project.container("kafka"),
                                "/opt/kafka/bin/kafka-consumer-groups.sh", "--bootstrap-server",
                                "localhost:29092", "--describe", "--group", "order-tracker")
        owners = {}
        for line in out.splitlines():
            cols = line.split()
            if len(cols) >= 7 and cols[1] == "orders" and cols[2].isdigit():
                owners[int(cols[2])] = cols[6]
        return owners

    def scale_to_three(self):
        placer = OrderPlacer(ORDER_PORT, rate=20, item="Scale")
        placer.start()
        started = time.time()
        self.project.compose("up", "-d", "--scale", "tracker-service=3")
        trackers = wait_healthy(self.project, {"tracker-service": "service"}, started, 180)
        expect(len(trackers) == 3, f"want 3 trackers, have {sorted(trackers)}")

        def shared():
            owners = self.group_members()
            return owners if len(owners) == 3 and len(set(owners.values())) == 3 \
                and "-" not in owners.values() else None
        owners = wait_for("three members sharing the three partitions", shared, 120, 2)
        settled = time.time() - started
        time.sleep(5)  # orders after the scale-up, too
        placer.finish()
        expect(not placer.failed, f"orders refused during the scale-up: {placer.failed[:5]}")
        expect(len(placer.acked) > 50, f"only {len(placer.acked)} orders placed")
        placed = [oid for _, oid, _, _ in placer.acked]
        self.acked += placed
        self.phases.figure("scale to 3: members share the partitions",
                           f"{settled:.1f} s after the scale command; partition -> member "
                           + ", ".join(f"{p}: {m[:20]}..." for p, m in sorted(owners.items())))

        names = sorted(trackers)
        wanted = set(placed)

        def all_tracked():
            counts = received_counts(self.project, names)
            return counts if wanted <= counts.keys() else None
        try:
            counts = wait_for("every order placed during and after the scale-up in a log", all_tracked,
                              60)
        except Failure:
            counts = received_counts(self.project, names)
            raise Failure(f"{len(wanted - counts.keys())} of {len(wanted)} orders never tracked")
        twice = {oid: n for oid, n in counts.items() if oid in wanted and n != 1}
        expect(not twice, f"{len(twice)} orders tracked more than once: {list(twice.items())[:5]}")
        per_replica = {n: len(set(RECEIVED.findall(self.project.logs(n))) & wanted) for n in names}
        self.phases.figure("orders placed during and after the scale-up",
                           f"{len(wanted)}, each tracked exactly once; per replica "
                           + ", ".join(f"{n}: {k}" for n, k in per_replica.items()))
        for n in names:
            expect(per_replica[n] > 0, f"{n} tracked none of the orders after the scale-up")

    def stop(self):
        services = {n: s for s in ("order-service", "tracker-service")
                    for n in self.project.containers(s)}
        started = time.time()
        self.project.compose("stop", timeout=300)
        self.phases.figure("docker-compose stop", f"{time.time() - started:.1f} s")
        for name, service in sorted(services.items()):
            state = inspect(name)["State"]
            took = docker_time(state["FinishedAt"]) - started
            expect(state["ExitCode"] == 0 and not state["OOMKilled"],
                   f"{name} exited {state['ExitCode']} (OOM killed: {state['OOMKilled']})")
            expect(took < GRACE_S, f"{name} took {took:.1f} s, beyond its {GRACE_S} s grace")
            lines = [l for l in self.project.logs(name).splitlines() if l.strip()]
            stopping = next((i for i, l in enumerate(lines) if "stopping (" in l), None)
            expect(stopping is not None, f"{name}: no 'stopping' line in its log")
            tail = lines[stopping:]
            if service == "order-service":
                expect(any("flushing" in l for l in tail) and "stopped:" in tail[-1]
                       and " 0 unfinished" in tail[-1], f"{name}'s last lines: {tail}")
            else:
                expect(any("committing what was processed" in l for l in tail)
                       and "stopped:" in tail[-1], f"{name}'s last lines: {tail}")
                expect(not any("commit failed" in l for l in tail),
                       f"{name}: a commit failed at shutdown: {tail}")
            self.phases.figure(f"stop {name}", f"exit 0 after {took:.1f} s; last lines: "
                               + " | ".join(l.split(" [", 1)[-1] for l in tail[-2:]))

    def restart(self):
        since = str(int(time.time()))
        self.up("up again")
        trackers = sorted(self.project.containers("tracker-service", all_states=False))
        expect(len(trackers) == 1, f"want one Tracker after `up`, have {trackers}")
        tracker = trackers[0]
        started = time.monotonic()
        port = self.project.host_port(tracker, 8081)
        for oid in self.acked:
            tracker_answers(self.project, tracker, oid, timeout=90, port=port)
        again = {oid for oid in RECEIVED.findall(self.project.logs(tracker, since=since))
                 if oid in set(self.acked)}
        expect(not again, f"{len(again)} orders from before were tracked again (not restored)")
        self.phases.figure("after up again", f"the Tracker answers for all {len(self.acked)} orders "
                           f"from before ({time.monotonic() - started:.1f} s), none tracked again")
        status, body = place_order(ORDER_PORT, "Jane Doe", "Phone", 1)
        expect(status == 201, f"POST /orders after the restart: {status} {body}")
        self.tracked_by(tracker, body["order_id"])

    def down(self):
        started = time.time()
        self.project.compose("down", "-v", "--remove-orphans", "--timeout", "30", timeout=300)
        left = self.project.leftovers()
        expect(not any(left.values()), f"down -v left {left}")
        self.phases.figure("down -v", f"{time.time() - started:.1f} s; no container, network or "
                                      "volume of the project left")


def checks(seed_dir):
    def run(project, phases):
        version = phases.run("image checks", images.check_service_image, phases)
        r = ComposeRun(project, phases, version)
        phases.run("up", r.up, "up")
        phases.run("order over HTTP", r.first_order)
        phases.run("seed producer", r.seed_producer, seed_dir)
        phases.run("scale to 3", r.scale_to_three)
        phases.run("stop", r.stop)
        phases.run("up again", r.restart)
        phases.run("down -v", r.down)
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", default=str(REPO / "build-ci" / "compose"))
    ap.add_argument("--seed-dir", default=str(REPO.parent / "shared" / "seed"))
    args = ap.parse_args()
    return scenario.run(args.work_dir, PROJECT, COMPOSE_FILE, checks(args.seed_dir))


if __name__ == "__main__":
    sys.exit(main())
