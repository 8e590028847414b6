"""One docker compose project driven through Debian's docker-compose, and what the tests ask of it.

The compose file is used as it is; only the variables it documents (KAFKA_IMAGE) are set.
"""

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from docker_engine import COMPOSE, DOCKER, REPO

LOOPBACK = "127.0.0.1"


class Failure(Exception):
    """A check failed; the message says what was expected and what was found."""


def expect(condition, message):
    if not condition:
        raise Failure(message)


class Phases:
    """Prints how long each phase took, as it ends, and keeps the figures for the summary."""

    def __init__(self):
        self.figures = []

    def run(self, name, fn, *args, **kwargs):
        started = time.monotonic()
        print(f"--- {name}", flush=True)
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.monotonic() - started
            print(f"phase {name}: {took:.1f} s", flush=True)
            self.figures.append((f"phase {name}", f"{took:.1f} s"))

    def figure(self, name, value):
        print(f"figure {name}: {value}", flush=True)
        self.figures.append((name, value))

    def summary(self):
        print("=== figures")
        for name, value in self.figures:
            print(f"  {name}: {value}")


def docker(*args, check=True, timeout=120):
    r = subprocess.run([DOCKER, *args], text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if check and r.returncode != 0:
        raise Failure(f"docker {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def inspect(container):
    return json.loads(docker("inspect", container))[0]


def docker_time(text):
    """Seconds since the epoch of Docker's RFC 3339 time with nanoseconds."""
    if not text or text.startswith("0001-"):
        return None
    date, _, frac = text.rstrip("Z").partition(".")
    frac = frac.split("+")[0].split("-")[0]
    base = time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return base + (float("0." + frac) if frac else 0.0)


class Project:
    def __init__(self, name, compose_file, env, log_dir):
        self.name = name
        self.file = Path(compose_file)
        self.env = dict(os.environ, **env)
        self.log_dir = Path(log_dir)

    def compose(self, *args, check=True, timeout=600, capture=True):
        cmd = [COMPOSE, "--ansi", "never", "-p", self.name, "-f", str(self.file), *args]
        r = subprocess.run(cmd, text=True, env=self.env, timeout=timeout, cwd=REPO,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.STDOUT if capture else None)
        if check and r.returncode != 0:
            raise Failure(f"docker-compose {' '.join(args)} failed ({r.returncode}):\n"
                          f"{(r.stdout or '')[-3000:]}")
        return r.stdout or ""

    def compose_async(self, *args):
        log = open(self.log_dir / f"compose-{args[0]}-{time.monotonic_ns()}.log", "w")
        return subprocess.Popen([COMPOSE, "--ansi", "never", "-p", self.name, "-f", str(self.file), *args],
                                text=True, env=self.env, cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT)

    def containers(self, service=None, all_states=True):
        """{container name: id} of this project (of one service), in replica order."""
        filters = ["--filter", f"label=com.docker.compose.project={self.name}"]
        if service:
            filters += ["--filter", f"label=com.docker.compose.service={service}"]
        out = docker("ps", *(["-a"] if all_states else []), *filters,
                     "--format", "{{.Names}} {{.ID}}")
        pairs = [line.split() for line in out.splitlines() if line.strip()]
        return dict(sorted(pairs))

    def container(self, service):
        found = self.containers(service)
        expect(len(found) == 1, f"want one {service} container, found {sorted(found)}")
        return next(iter(found))

    def logs(self, container, since=None):
        args = ["logs"] + (["--since", since] if since else []) + [container]
        r = subprocess.run([DOCKER, *args], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return r.stdout

    def save_logs(self, tag):
        for name in self.containers():
            (self.log_dir / f"{tag}-{name}.log").write_text(self.logs(name))

    def host_port(self, container, port):
        out = docker("port", container, str(port)).strip().splitlines()
        expect(out, f"{container} publishes no port for {port}")
        host, _, p = out[0].rpartition(":")
        expect(host == LOOPBACK, f"{container}: port {port} published on {host}, not {LOOPBACK}")
        return int(p)

    def exec(self, service_container, *cmd, timeout=120):
        return docker("exec", service_container, *cmd, timeout=timeout)

    def leftovers(self):
        label = f"label=com.docker.compose.project={self.name}"
        return {
            "containers": docker("ps", "-aq", "--filter", label).split(),
            "networks": docker("network", "ls", "-q", "--filter", label).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", label).split(),
        }

    def down(self):
        self.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False)


def wait_healthy(project, services, started, timeout, up=None):
    """Waits until every container of `services` is healthy (or, for one-shot jobs, exited 0).

    While `up` (the `docker-compose up` process) still runs, a container not (re)started since
    `started` is still pending: its state is the one from before. Returns {container: (state,
    seconds after `started` it got there, seconds after `started` the container started)}; the
    health time is that of the first passing healthcheck of the container's current run.
    """
    deadline = time.monotonic() + timeout
    done = {}
    while True:
        up_running = up is not None and up.poll() is None
        pending = []
        for service, kind in services.items():
            found = project.containers(service)
            if not found:
                pending.append(service)
            for name in found:
                if name in done:
                    continue
                try:
                    state = inspect(name)["State"]
                except Failure:  # removed since it was listed (`up` scaling down)
                    pending.append(name)
                    continue
                began = docker_time(state["StartedAt"]) or 0.0
                if up_running and began < started:
                    pending.append(name)
                    continue
                if kind == "job":
                    if state["Status"] == "exited":
                        expect(state["ExitCode"] == 0,
                               f"{name} exited {state['ExitCode']}:\n{project.logs(name)[-3000:]}")
                        done[name] = ("exited 0", docker_time(state["FinishedAt"]) - started,
                                      began - started)
                    else:
                        pending.append(name)
                    continue
                health = state.get("Health") or {}
                if state["Status"] == "running" and health.get("Status") == "healthy":
                    ok = [docker_time(h["End"]) for h in health.get("Log", [])
                          if h.get("ExitCode") == 0 and docker_time(h["End"]) >= began]
                    done[name] = ("healthy", (min(ok) if ok else time.time()) - started,
                                  began - started)
                else:
                    expect(state["Status"] in ("created", "running", "restarting") or up_running,
                           f"{name} is {state['Status']} (exit {state.get('ExitCode')}):\n"
                           f"{project.logs(name)[-3000:]}")
                    pending.append(name)
        if not pending:
            return done
        if time.monotonic() > deadline:
            raise Failure(f"not healthy after {timeout} s: {pending}")
        time.sleep(1)


def http(method, url, body=None, headers=None, timeout=10):
    """(status, parsed JSON or text) of one request; connection errors raise."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def place_order(port, user, item, quantity):
    return http("POST", f"http://{LOOPBACK}:{port}/orders",
                {"user": user, "item": item, "quantity": quantity})


def wait_for(what, fn, timeout, interval=0.5):
    """Calls fn until it returns something true; returns it, or raises Failure after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, urllib.error.URLError, Failure) as e:
            last = e
        time.sleep(interval)
    raise Failure(f"{what}: not after {timeout} s (last: {last!r})")


def up_and_wait(project, phases, label, layers, timeout=300):
    """`up -d`, then every service healthy (jobs: exited 0), each layer only after the one before
    it was ready: layers is [{service: "service" | "job"}, ...] in dependency order. Prints when
    each container got there; returns the seconds from `up` until the last one was healthy."""
    services = {name: kind for layer in layers for name, kind in layer.items()}
    started = time.time()
    proc = project.compose_async("up", "-d")
    done = wait_healthy(project, services, started, timeout, up=proc)
    rc = proc.wait(timeout=120)
    expect(rc == 0, f"docker-compose up -d exited {rc}")
    by_service = {}
    for name, (state, at, began) in sorted(done.items(), key=lambda kv: kv[1][1]):
        phases.figure(f"{label}: {name} {state}",
                      f"{at:.1f} s after up (container started at {began:.1f} s)")
        service = inspect(name)["Config"]["Labels"]["com.docker.compose.service"]
        by_service.setdefault(service, []).append((at, began))
    for before, after in zip(layers, layers[1:]):
        ready = max(at for s in before for at, _ in by_service[s])
        for s in after:
            began = min(b for _, b in by_service[s])
            # Docker's times are to the millisecond, ours to the poll: half a second of slack.
            expect(began >= ready - 0.5, f"{s} started at {began:.1f} s, before "
                                         f"{', '.join(before)} were ready ({ready:.1f} s)")
    healthy = max(at for v in by_service.values() for at, _ in v)
    phases.figure(f"{label}: up -> every service healthy", f"{healthy:.1f} s")
    return healthy


def tracker_answers(project, container, oid, timeout=60, port=None):
    """The Tracker's view of one order, waiting until `container` answers 200 for it (on `port`
    if known: asking Docker for it each time costs more than the GET)."""
    port = port or project.host_port(container, 8081)
    url = f"http://{LOOPBACK}:{port}/orders/{oid}"

    def answered():
        status, body = http("GET", url)
        return body if status == 200 else None
    return wait_for(f"GET /orders/{oid} on {container}", answered, timeout)


class OrderPlacer(threading.Thread):
    """Places orders over HTTP at a steady pace until stopped; keeps each answer with its time."""

    def __init__(self, port, rate, item):
        super().__init__(daemon=True)
        self.port, self.rate, self.item = port, rate, item
        self.stop_event = threading.Event()
        self.acked = []   # (time, order id, partition, offset) of each 201
        self.failed = []  # (time, what) of everything else

    def run(self):
        n = 0
        while not self.stop_event.wait(1 / self.rate):
            n += 1
            try:
                status, body = place_order(self.port, f"user {n % 7}", self.item, 1 + n % 3)
            except OSError as e:
                self.failed.append((time.time(), repr(e)))
                continue
            if status == 201:
                self.acked.append((time.time(), body["order_id"], body["partition"],
                                   body["offset"]))
            else:
                self.failed.append((time.time(), f"{status} {body}"))

    def finish(self):
        self.stop_event.set()
        self.join()
