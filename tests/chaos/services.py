"""The Order and Tracker services as the suite runs them, with their HTTP ports and logs."""
import http.client
import json
import os
import re
import time

import procs


def http_get(port, path, timeout=5.0, headers=None):
    """(status, parsed JSON or text); (None, error text) when nothing answered."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        c.close()


class Service:
    """One service process; `restart()` starts the same command again on the same port."""

    def __init__(self, kind, bin_dir, workdir, name, args, port=None):
        self.kind, self.bin_dir, self.workdir, self.name = kind, bin_dir, workdir, name
        self.args = list(args)
        self.port = port or procs.free_ports(1)
        self.incarnations = []  # every Proc this service ran, oldest first
        self.start()

    @property
    def proc(self):
        return self.incarnations[-1]

    def start(self):
        n = len(self.incarnations)
        cmd = [os.path.join(self.bin_dir, self.kind), "--http-listen",
               f"127.0.0.1:{self.port}", *self.args]
        log = os.path.join(self.workdir, f"{self.name}.{n}.log")
        self.incarnations.append(procs.Proc(f"{self.name}#{n}", cmd, log))
        return self

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise RuntimeError(f"{self.name} exited: {self.proc.log_text()[-2000:]}")
            status, _ = http_get(self.port, "/readyz", timeout=2)
            if status == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s: {self.proc.log_text()[-2000:]}")

    def get(self, path, timeout=5.0, headers=None):
        return http_get(self.port, path, timeout, headers)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def order_service(bin_dir, workdir, bootstrap, topic, name="order", extra=()):
    return Service("order-service", bin_dir, workdir, name,
                   ["--bootstrap-servers", bootstrap, "--topic", topic, *extra])


def tracker(bin_dir, workdir, bootstrap, topic, group, name="tracker", extra=()):
    return Service("tracker-service", bin_dir, workdir, name,
                   ["--bootstrap-servers", bootstrap, "--topic", topic, "--group-id", group,
                    *extra])


RECEIVED = re.compile(r"Received order ([0-9a-f-]{36}): .* \(partition (\d+), offset (\d+)\)")
# tracker_service::on_revoked: "[tracker] revoked orders-0, orders-2" (or "lost ..."). The view
# drops what it held for those partitions, so a later assignment applies them again legitimately.
DROPPED = re.compile(r"\[tracker\] (?:revoked|lost) (.+)$", re.M)
PARTITION = re.compile(r"-(\d+)$")


def received_lines(service):
    """Per incarnation, in log order: ("order", order_id, partition, offset) for each order it
    applied live, and ("drop", partition) where its view dropped a revoked or lost partition."""
    out = []
    for p in service.incarnations:
        text = p.log_text()
        events = [(m.start(), ("order", m.group(1), int(m.group(2)), int(m.group(3))))
                  for m in RECEIVED.finditer(text)]
        for m in DROPPED.finditer(text):
            for item in m.group(1).split(", "):
                n = PARTITION.search(item.strip())
                if n:
                    events.append((m.start(), ("drop", int(n.group(1)))))
        out.append([e for _, e in sorted(events, key=lambda x: x[0])])
    return out
