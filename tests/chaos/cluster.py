"""A real Kafka cluster (deploy/local/kafka.sh) on free loopback ports, and the faults the suite
injects into it: kill -9, SIGSTOP/SIGCONT, clean stop and start of one node."""
import os
import signal
import subprocess
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import procs

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KAFKA_SH = os.path.join(REPO, "deploy", "local", "kafka.sh")
CLUSTERS = []  # every cluster started, stopped by the driver on the way out


class Cluster:
    def __init__(self, workdir, nodes=1):
        self.nodes = nodes
        self.dir = os.path.join(workdir, f"kafka{nodes}")
        self.port = procs.free_ports(2 * nodes)
        self.bootstrap = None
        self._admin = None

    def _sh(self, *args, timeout=180):
        out = subprocess.run([KAFKA_SH, *args, "--dir", self.dir], capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"kafka.sh {' '.join(args)}: {out.stderr[-1500:]}")
        return out.stdout

    def start(self):
        CLUSTERS.append(self)
        out = self._sh("start", "--nodes", str(self.nodes), "--port", str(self.port), "--fresh")
        self.bootstrap = out.strip().splitlines()[-1]
        self._admin = AdminClient({"bootstrap.servers": self.bootstrap})
        return self

    def stop(self):
        self._admin = None  # its connections would log the broker's exit
        for i in range(self.nodes):
            self.resume(i)
        subprocess.run([KAFKA_SH, "stop", "--dir", self.dir], capture_output=True, timeout=120)

    def node_pid(self, i):
        out = subprocess.run([KAFKA_SH, "pid", str(i), "--dir", self.dir], capture_output=True,
                             text=True)
        return int(out.stdout.strip()) if out.returncode == 0 else None

    def kill9(self, i):
        pid = self.node_pid(i)
        if pid:
            os.kill(pid, signal.SIGKILL)
            # kafka.sh's pid file may outlive the process briefly; wait until it is gone.
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)

    def pause(self, i):
        pid = self.node_pid(i)
        if pid:
            os.kill(pid, signal.SIGSTOP)

    def resume(self, i):
        pid = self.node_pid(i)
        if pid:
            os.kill(pid, signal.SIGCONT)

    def stop_node(self, i):
        self._sh("stop-node", str(i))

    def start_node(self, i):
        self._sh("start-node", str(i))

    def set_group_config(self, group, config):
        """KIP-848 group-level settings (e.g. consumer.session.timeout.ms), within the broker's
        group.consumer.min.* bounds that kafka.sh lowers."""
        pairs = ",".join(f"{k}={v}" for k, v in config.items())
        # `cli` hands everything after the tool's name to the tool: --dir goes first.
        out = subprocess.run([KAFKA_SH, "cli", "--dir", self.dir, "kafka-configs",
                              "--bootstrap-server", self.bootstrap, "--alter", "--entity-type",
                              "groups", "--entity-name", group, "--add-config", pairs],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"kafka-configs {group} {pairs}: {out.stderr[-1500:]}")

    def create_topic(self, name, partitions=3, replication=1, config=None):
        fs = self._admin.create_topics([NewTopic(name, partitions, replication,
                                                 config=config or {})], request_timeout=30)
        for f in fs.values():
            f.result(timeout=60)
        # Wait until every partition has a leader, so the first produce does not race metadata.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            md = self._admin.list_topics(name, timeout=10).topics.get(name)
            if md and not md.error and len(md.partitions) == partitions and all(
                    p.leader >= 0 for p in md.partitions.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"topic {name} has no leaders")

    def leader_node(self, topic, partition=0):
        """Index (0-based, as kafka.sh counts) of the partition's leader, or None."""
        md = self._admin.list_topics(topic, timeout=10).topics[topic]
        leader = md.partitions[partition].leader
        return leader - 1 if leader > 0 else None  # kafka.sh: node.id = index + 1

    def read_all(self, topic, timeout=60):
        """Every record of `topic` from the beginning to the high watermark at call time."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "chaos-reader",
                      "enable.auto.commit": False, "enable.partition.eof": True,
                      "fetch.message.max.bytes": 2 * 1024 * 1024})
        try:
            md = c.list_topics(topic, timeout=20).topics[topic]
            ends = {}
            for p in md.partitions:
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=20)
                if hi > lo:
                    ends[p] = hi
            c.assign([TopicPartition(topic, p, 0) for p in ends])
            records = []
            deadline = time.monotonic() + timeout
            done = {p: False for p in ends}
            while not all(done.values()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"reading {topic}: timed out ({done})")
                m = c.poll(1.0)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == -191:  # _PARTITION_EOF
                        if m.offset() >= ends.get(m.partition(), 0):
                            done[m.partition()] = True
                        continue
                    raise RuntimeError(f"reading {topic}: {m.error()}")
                records.append(m)
                if m.offset() + 1 >= ends[m.partition()]:
                    done[m.partition()] = True
            return records
        finally:
            c.close()
