#!/usr/bin/env python3
"""Both services against a Kafka broker that requires SASL, configured only by passthrough.

Usage: sasl_test.py --bin-dir DIR [--keep] [--deadline S]
  DIR holds the built order-service and tracker-service; --keep leaves the temp dir (logs,
  cluster data) behind; --deadline bounds the whole run (default 150 s, under ctest's TIMEOUT).

It starts its own SASL broker (deploy/local/kafka.sh start --sasl: SCRAM-SHA-256, SCRAM-SHA-512
and PLAIN, user alice in all three) on a free loopback base port in a fresh temp dir, then runs
four pairs of services side by side (separate HTTP ports and consumer groups), each configured
either only through the environment (KAFKA_BOOTSTRAP_SERVERS, RDKAFKA_*, HTTP_LISTEN, ... and no
argument at all) or only through flags (--bootstrap-servers, -X ...) with every setting variable
removed from its environment:

  1. PLAIN, 2. SCRAM-SHA-256 and 3. SCRAM-SHA-512, each as alice with the right password: the
     same checks for all three. /readyz 200, POSTed orders get 201 with partition and offset, the
     Tracker answers GET /orders/{id} for each with the same partition and offset, no
     authentication error in either log, and both stop with exit 0 on SIGTERM. A login that
     fails is a test failure (the services need librdkafka >= 2.12, which logs in with SCRAM to
     Kafka 4.x; 2.0.2 could not). The librdkafka version is taken from the services' own
     "runs on librdkafka X" log line.
  4. A wrong password (the Order service with PLAIN, the Tracker with SCRAM-SHA-256): after
     ~15 s both processes still run (started once, never exited), /healthz 200, /readyz 503 with
     a reason, POST /orders 503 at once, an authentication error in the log and no log flood.
     With READYZ_REASON_MUST_NAME_AUTH (on) the /readyz reason must also name the authentication
     failure ("auth" in it, any case); that is checked last, after 4b, so a run shows everything
     else too. Then (4b), since the services read their credentials only at start, they are
     stopped (exit 0 expected) and started again with the right password, and the line says how
     long recovery took.

Every process it starts is stopped by pid (SIGTERM, SIGKILL after a timeout; the services also
get PR_SET_PDEATHSIG so they cannot outlive a killed test), the broker with `kafka.sh stop --dir`,
also on failure, Ctrl-C, SIGTERM or the deadline; the temp dir is removed. Prints one
"sasl_test: PASS" or "sasl_test: FAIL: ..." line at the end; exit 0 only on PASS.
"""

import argparse
import ctypes
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "sasl_test"
REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "local" / "kafka.sh"

USER = "alice"
PASSWORD = "alice-secret"  # deploy/local/kafka.sh --sasl creates alice/alice-secret
WRONG_PASSWORD = "not-alice-secret"

WRONG_PASSWORD_OBSERVE_S = 15.0  # how long a wrongly configured service must stay up
FAST_503_S = 2.0  # POST /orders while not ready must answer within this
MAX_AUTH_LINES = 300  # over the observation window: more means a reconnect storm
SHUTDOWN_TIMEOUT_MS = 5000  # the services' own bound on flush/commit at stop
STOP_GRACE_S = 15.0  # then SIGKILL

# librdkafka 2.14.2, PLAIN: "SASL authentication error: Authentication failed: Invalid username
# or password"; SCRAM: "SASL authentication error: Authentication failed during authentication
# due to invalid credentials with SASL mechanism SCRAM-SHA-256".
AUTH_ERROR = re.compile(r"SASL authentication (error|fail)|Authentication failed", re.IGNORECASE)

# The mechanisms that must log in (kafka.sh --sasl enables all three) and how each pair is
# configured: (mechanism, Order service via, Tracker via, Tracker group, first order number).
LOGINS = [
    ("PLAIN", "env", "flags", None, 0),
    ("SCRAM-SHA-256", "flags", "env", "sasl-scram-sha-256", 100),
    ("SCRAM-SHA-512", "env", "flags", "sasl-scram-sha-512", 110),
]
WRONG_ORDER_MECH = "PLAIN"  # the wrong-password pair: one service per error text
WRONG_TRACKER_MECH = "SCRAM-SHA-256"

# With a wrong password /readyz must be 503 with a reason; with this on, the reason must also
# name the authentication failure rather than only "no broker reachable: 1/1 brokers are down"
# (librdkafka 2.14.2 reports a refused login as a broker going down; only the log says why).
READYZ_REASON_MUST_NAME_AUTH = True
AUTH_REASON = re.compile(r"auth", re.IGNORECASE)

# Settings the services read from the environment: removed from the flag-configured services'
# environment (and from the inherited one), so each service sees exactly one source.
SETTING_VARS = {
    "HTTP_LISTEN", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT_MS", "GENERATE_RATE",
    "ORDER_COUNT", "DELIVERY_TIMEOUT_MS", "MAX_BODY_BYTES", "IDEMPOTENCY_WINDOW_S",
    "IDEMPOTENCY_CAPACITY", "DLQ_TOPIC", "VIEW_MAX_ORDERS", "DEDUP_WINDOW",
}
SETTING_PREFIXES = ("KAFKA_", "RDKAFKA_", "TOPIC_")

T0 = time.monotonic()


class Failure(Exception):
    """A check did not hold."""


class Interrupted(BaseException):
    """A signal or the deadline: not an Exception, so no handler swallows it."""

    def __init__(self, why, signum):
        super().__init__(why)
        self.signum = signum


def say(msg):
    print(f"[{time.monotonic() - T0:5.1f}s] {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_until(pred, timeout, interval=0.2):
    """Calls pred until it returns something truthy (returned) or timeout passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# ----------------------------------------------------------------------------------------------
# Ports and versions


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_base_port():
    """An even base port with base and base+1 free on 127.0.0.1 (kafka.sh: client, controller).

    Binding both is the only real check; kafka.sh refuses busy ports, so a lost race shows up as
    a clear error rather than a broker on someone else's port.
    """
    for _ in range(200):
        base = random.randrange(20000, 30000, 2)  # below Linux's ephemeral range (32768+)
        socks = []
        try:
            for p in (base, base + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise Failure("no free port pair found for the broker")


def librdkafka_version(services):
    """The librdkafka version the services log at start ("... runs on librdkafka X").

    Not ctypes.CDLL("librdkafka.so.1"): that is whatever the dynamic linker gives this Python
    (Debian's 2.0.2), not what the services load (their RUNPATH or LD_LIBRARY_PATH).
    """
    versions = set()
    for svc in services:
        versions.update(re.findall(r"runs on librdkafka (\S+)", svc.log_text()))
    return ", ".join(sorted(versions)) or "unknown"


# ----------------------------------------------------------------------------------------------
# Processes

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec: if this test is SIGKILLed (e.g. by ctest's
    # TIMEOUT), the kernel kills the services too instead of leaving them on their ports.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def clean_environment():
    return {k: v for k, v in os.environ.items()
            if k not in SETTING_VARS and not k.startswith(SETTING_PREFIXES)}


class Service:
    """One order-service or tracker-service process with its log file and HTTP port."""

    def __init__(self, label, binary, port, log_path, argv, env):
        self.label = label
        self.binary = binary
        self.port = port
        self.log_path = log_path
        self.argv = argv
        self.env = env
        self.proc = None
        self.rc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), *self.argv], env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent)
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def auth_errors(self):
        return [line for line in self.log_text().splitlines() if AUTH_ERROR.search(line)]

    def starts(self):
        """How many times the process logged its start line (more than 1 = it restarted)."""
        return len(re.findall(r"\] starting: ", self.log_text()))

    def request(self, method, path, body=None, timeout=5.0):
        """(status, headers, body, seconds); status None when the connection failed."""
        t = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            text = res.read().decode(errors="replace")
            return (res.status, {k.lower(): v for k, v in res.getheaders()}, text,
                    time.monotonic() - t)
        except (OSError, http.client.HTTPException) as e:
            return None, {}, f"{type(e).__name__}: {e}", time.monotonic() - t
        finally:
            conn.close()

    def get_json(self, path):
        status, _, text, _ = self.request("GET", path)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"raw": text}

    def terminate(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self, grace):
        """Waits up to grace seconds after SIGTERM, then SIGKILLs. Returns (rc, killed)."""
        if self.proc is None:
            return None, False
        try:
            self.rc = self.proc.wait(timeout=grace)
            return self.rc, False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            return self.rc, True

    def tail(self, n=15):
        return self.log_text().splitlines()[-n:]


def stop_services(services, grace=STOP_GRACE_S):
    """SIGTERM to all, wait for each (SIGKILL after grace). Returns {label: (rc, s, killed)}."""
    t = time.monotonic()
    running = [s for s in services if s.alive()]
    for s in running:
        s.terminate()
    out = {}
    for s in running:
        rc, killed = s.wait_stopped(max(0.1, grace - (time.monotonic() - t)))
        out[s.label] = (rc, time.monotonic() - t, killed)
    return out


# ----------------------------------------------------------------------------------------------
# The broker


def kafka_sh(args, log_path, timeout):
    """Runs kafka.sh in its own session (signals reach it only from us). Returns (rc, stdout)."""
    with open(log_path, "ab") as err:
        proc = subprocess.Popen(["bash", str(KAFKA_SH), *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            return proc.returncode, out.decode(errors="replace")
        except BaseException:
            # Interrupted or timed out mid-start: kafka.sh traps SIGTERM and stops the nodes it
            # launched; wait for that before the caller's `kafka.sh stop` runs.
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise


# ----------------------------------------------------------------------------------------------
# Service configurations


def sasl_settings(mechanism, password):
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
            "sasl.username": USER, "sasl.password": password}


class Launcher:
    def __init__(self, bin_dir, tmp, bootstrap, registry):
        self.bin_dir = bin_dir
        self.tmp = tmp
        self.bootstrap = bootstrap
        self.registry = registry  # every Service ever started, for cleanup

    def launch(self, kind, label, via, mechanism, password, group=None):
        """kind: order|tracker; via: env (environment only, no argv) or flags (argv only)."""
        port = free_port()
        binary = self.bin_dir / f"{kind}-service"
        props = sasl_settings(mechanism, password)
        env = clean_environment()
        if via == "env":
            env.update({"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                        "HTTP_LISTEN": f"127.0.0.1:{port}",
                        "SHUTDOWN_TIMEOUT_MS": str(SHUTDOWN_TIMEOUT_MS)})
            if group:
                env["KAFKA_GROUP_ID"] = group
            # The documented mapping: RDKAFKA_ + the property upper-cased with dots as '_'.
            env.update({"RDKAFKA_" + k.upper().replace(".", "_"): v for k, v in props.items()})
            argv = []
        else:
            argv = ["--bootstrap-servers", self.bootstrap, "--http-listen", f"127.0.0.1:{port}",
                    "--shutdown-timeout-ms", str(SHUTDOWN_TIMEOUT_MS)]
            if group:
                argv += ["--group-id", group]
            for k, v in props.items():
                argv += ["-X", f"{k}={v}"]
        svc = Service(label, binary, port, self.tmp / f"{label}.log", argv, env)
        self.registry.append(svc)
        svc.start()
        shown = " ".join(argv) if argv else "(no arguments; " + " ".join(
            f"{k}={'***' if 'PASSWORD' in k else v}" for k, v in sorted(env.items())
            if k.startswith(("RDKAFKA_", "KAFKA_", "HTTP_"))) + ")"
        say(f"started {label} pid {svc.pid} on 127.0.0.1:{port} via {via}: "
            f"{shown.replace(password, '***')}")
        return svc


# ----------------------------------------------------------------------------------------------
# Scenarios


def place_order(order_svc, i):
    body = json.dumps({"user": "SASL Tester", "item": f"Item {i}", "quantity": i + 1})
    status, _, text, secs = order_svc.request("POST", "/orders", body=body, timeout=35.0)
    check(status == 201, f"{order_svc.label}: POST /orders #{i} gave {status}: {text}")
    doc = json.loads(text)
    check(isinstance(doc.get("partition"), int) and doc["partition"] >= 0 and
          isinstance(doc.get("offset"), int) and doc["offset"] >= 0 and doc.get("order_id"),
          f"{order_svc.label}: 201 without order_id/partition/offset: {text}")
    return doc, secs


def wait_ready(svc, timeout):
    t = time.monotonic()
    got = wait_until(lambda: svc.get_json("/readyz")[0] == 200 or not svc.alive(), timeout)
    check(svc.alive(), f"{svc.label} exited (rc {svc.proc.poll()}) while getting ready")
    check(got, f"{svc.label}: /readyz not 200 within {timeout:.0f}s: {svc.get_json('/readyz')}")
    return time.monotonic() - t


def wait_tracked(tracker, orders, timeout):
    """Waits until the tracker answers 200 for every order; checks partition and offset."""
    def all_tracked():
        return all(tracker.get_json(f"/orders/{o['order_id']}")[0] == 200 for o in orders)

    t = time.monotonic()
    ok = wait_until(all_tracked, timeout, interval=0.3)
    missing = [o["order_id"] for o in orders
               if tracker.get_json(f"/orders/{o['order_id']}")[0] != 200]
    check(ok and not missing, f"{tracker.label}: orders not tracked within {timeout:.0f}s: "
          f"{missing}; /readyz {tracker.get_json('/readyz')}")
    for o in orders:
        _, doc = tracker.get_json(f"/orders/{o['order_id']}")
        check((doc.get("partition"), doc.get("offset")) == (o["partition"], o["offset"]),
              f"{tracker.label}: order {o['order_id']} at {doc} but the 201 said "
              f"partition {o['partition']} offset {o['offset']}")
    return time.monotonic() - t


def scenario_login(n, mechanism, order_svc, tracker, first):
    """A right password with this mechanism: orders flow end to end, both stop with exit 0."""
    say(f"--- {n}. {mechanism}, right password: order-service via "
        f"{'environment' if not order_svc.argv else '-X'}, tracker via "
        f"{'environment' if not tracker.argv else '-X'}")

    def refused(svc):
        errs = svc.auth_errors()
        return f"; authentication errors: {len(errs)}, first: {errs[0]}" if errs else ""

    for svc in (order_svc, tracker):
        try:
            secs = wait_ready(svc, 45)
        except Failure as e:
            raise Failure(f"{mechanism} login: {e}{refused(svc)}") from None
        say(f"{svc.label} ready after {secs:.1f}s more")
    orders = []
    for i in range(first, first + 3):
        doc, took = place_order(order_svc, i)
        orders.append(doc)
        say(f"POST /orders -> 201 {doc['order_id']} partition {doc['partition']} "
            f"offset {doc['offset']} ({took * 1000:.0f} ms)")
    secs = wait_tracked(tracker, orders, 40)
    say(f"tracker answers GET /orders/{{id}} 200 for all {len(orders)} orders "
        f"(after {secs:.1f}s), partitions and offsets match")
    wait_ready(tracker, 15)
    errs = order_svc.auth_errors() + tracker.auth_errors()
    check(not errs, f"authentication errors logged with the right {mechanism} password: {errs[:1]}")
    stopped = stop_services([order_svc, tracker])
    for label, (rc, secs, killed) in stopped.items():
        check(not killed and rc == 0, f"{label}: SIGTERM gave rc {rc} after {secs:.1f}s"
              f"{' (SIGKILLed)' if killed else ''}")
    say(f"{n}. PASS: orders flow end to end over SASL/{mechanism}; both stopped with exit 0 "
        f"({', '.join(f'{k} {v[1]:.1f}s' for k, v in stopped.items())})")


def scenario_wrong_password(order_svc, tracker, started_at, reasons):
    """Fills reasons {label: /readyz reason at the end of the observation window}."""
    say(f"--- 4. wrong password: order-service {WRONG_ORDER_MECH} via -X, tracker "
        f"{WRONG_TRACKER_MECH} via environment")
    for svc in (order_svc, tracker):
        check(wait_until(lambda s=svc: s.auth_errors() or not s.alive(), 20),
              f"{svc.label}: no authentication error logged within 20s; tail: {svc.tail(5)}")
        check(svc.alive(), f"{svc.label} exited with rc {svc.proc.poll()} on a wrong password; "
              f"tail: {svc.tail(8)}")
        say(f"{svc.label}: log: {svc.auth_errors()[0]}")

    def probe(when):
        for svc in (order_svc, tracker):
            check(svc.alive(), f"{svc.label} exited (rc {svc.proc.poll()}) {when}; "
                  f"tail: {svc.tail(8)}")
            check(svc.starts() == 1, f"{svc.label} logged {svc.starts()} starts {when}")
            status, _, text, _ = svc.request("GET", "/healthz")
            check(status == 200, f"{svc.label}: /healthz {status} {when}: {text}")
            status, doc = svc.get_json("/readyz")
            check(status == 503 and doc.get("status") == "not ready" and doc.get("reason"),
                  f"{svc.label}: /readyz {status} {doc} {when}")
            say(f"{svc.label} {when}: alive, /healthz 200, /readyz 503 {doc['reason']!r}")
        body = json.dumps({"user": "SASL Tester", "item": "Nope", "quantity": 1})
        status, headers, text, secs = order_svc.request("POST", "/orders", body=body, timeout=10)
        check(status == 503 and secs < FAST_503_S,
              f"{order_svc.label}: POST /orders {when} gave {status} after {secs:.2f}s: {text}")
        say(f"{order_svc.label} {when}: POST /orders -> 503 in {secs * 1000:.0f} ms "
            f"(Retry-After {headers.get('retry-after')}) {text}")

    probe("at first")
    left = started_at + WRONG_PASSWORD_OBSERVE_S - time.monotonic()
    if left > 0:
        say(f"waiting {left:.1f}s more to see them stay up")
        time.sleep(left)
    probe(f"after {time.monotonic() - started_at:.0f}s")
    for svc in (order_svc, tracker):
        n = len(svc.auth_errors())
        check(n <= MAX_AUTH_LINES, f"{svc.label}: {n} authentication error lines in "
              f"{time.monotonic() - started_at:.0f}s: a reconnect storm")
        say(f"{svc.label}: {n} authentication error lines in "
            f"{time.monotonic() - started_at:.0f}s (no flood)")
        _, doc = svc.get_json("/readyz")
        reasons[svc.label] = doc.get("reason")
    say("4. PASS: wrong password: no exit, no restart, /healthz 200, /readyz 503, fast 503 on "
        "POST /orders, authentication error in the log")


def scenario_fix_credentials(launcher, wrong_order, wrong_tracker):
    say("--- 4b. fixing the password: the services read credentials only at start "
        "(no reload signal or endpoint), so restart them")
    stopped = stop_services([wrong_order, wrong_tracker])
    for label, (rc, secs, killed) in stopped.items():
        check(not killed and rc == 0, f"{label}: SIGTERM while unauthenticated gave rc {rc} "
              f"after {secs:.1f}s{' (SIGKILLed)' if killed else ''}")
        say(f"{label}: SIGTERM while unauthenticated -> exit 0 in {secs:.1f}s")
    t = time.monotonic()
    order_svc = launcher.launch("order", "order-fixed", "flags", WRONG_ORDER_MECH, PASSWORD)
    tracker = launcher.launch("tracker", "tracker-fixed", "env", WRONG_TRACKER_MECH, PASSWORD,
                              group="sasl-fixed")
    wait_ready(order_svc, 30)
    doc, _ = place_order(order_svc, 200)
    wait_tracked(tracker, [doc], 40)
    say(f"4b. fixing credentials needs a restart (read only at start); after the restart "
        f"order {doc['order_id']} flowed end to end {time.monotonic() - t:.1f}s later")
    stopped = stop_services([order_svc, tracker])
    for label, (rc, secs, killed) in stopped.items():
        check(not killed and rc == 0, f"{label}: SIGTERM gave rc {rc}")


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", required=True, type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--deadline", type=float, default=150.0)
    args = ap.parse_args()
    bin_dir = args.bin_dir.resolve()
    for b in ("order-service", "tracker-service"):
        if not os.access(bin_dir / b, os.X_OK):
            print(f"{NAME}: {bin_dir / b} is not an executable", file=sys.stderr)
            print(f"{NAME}: FAIL: missing binary")
            return 2

    cleaning = {"now": False, "pending": None}

    def on_signal(signum, _frame):
        if cleaning["now"]:  # cleanup is under way: let it finish, exit afterwards
            cleaning["pending"] = cleaning["pending"] or signum
            return
        why = ("deadline of %.0fs passed" % args.deadline if signum == signal.SIGALRM
               else f"got {signal.Signals(signum).name}")
        raise Interrupted(why, signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(int(args.deadline))

    tmp = Path(tempfile.mkdtemp(prefix=f"{NAME}."))
    cluster = tmp / "cluster"
    broker_log = tmp / "kafka.sh.log"
    services = []
    notes = []
    failure = None
    exit_code = 0
    try:
        base = pick_base_port()
        say(f"starting a SASL broker on 127.0.0.1:{base} in {cluster}")
        rc, out = kafka_sh(["start", "--sasl", "--port", str(base), "--dir", str(cluster),
                            "--timeout", "75"], broker_log, timeout=100)
        lines = [line for line in out.splitlines() if line.strip()]
        check(rc == 0 and lines, f"kafka.sh start --sasl failed (rc {rc}): "
              f"{broker_log.read_text(errors='replace')[-2000:]}")
        bootstrap = lines[-1].strip()
        say(f"broker up at {bootstrap} (SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")

        launcher = Launcher(bin_dir, tmp, bootstrap, services)
        # All four pairs at once: the wrong-password pair's 15 s run while 1-3 are checked.
        pairs = []
        for mech, order_via, tracker_via, group, first in LOGINS:
            tag = mech.lower().replace("scram-sha-", "scram")
            pairs.append((mech, first,
                          launcher.launch("order", f"order-{tag}", order_via, mech, PASSWORD),
                          launcher.launch("tracker", f"tracker-{tag}", tracker_via, mech,
                                          PASSWORD, group=group)))
        wrong_started = time.monotonic()
        wrong_order = launcher.launch("order", "order-wrong", "flags", WRONG_ORDER_MECH,
                                      WRONG_PASSWORD)
        wrong_tracker = launcher.launch("tracker", "tracker-wrong", "env", WRONG_TRACKER_MECH,
                                        WRONG_PASSWORD, group="sasl-wrong-password")
        # The services log the librdkafka they run on as their first lines.
        wait_until(lambda: "unknown" not in librdkafka_version(services), 10)
        version = librdkafka_version(services)
        say(f"the services run on librdkafka {version}")

        for n, (mech, first, order_svc, tracker) in enumerate(pairs, start=1):
            scenario_login(n, mech, order_svc, tracker, first)
        reasons = {}
        scenario_wrong_password(wrong_order, wrong_tracker, wrong_started, reasons)
        scenario_fix_credentials(launcher, wrong_order, wrong_tracker)
        unnamed = {k: v for k, v in reasons.items() if not AUTH_REASON.search(v or "")}
        if READYZ_REASON_MUST_NAME_AUTH:
            check(not unnamed, "with a wrong password /readyz's reason does not name the "
                  f"authentication failure (only the log does): {unnamed}")
        else:
            notes.extend(f"{k} /readyz reason does not name the authentication failure: {v!r}"
                         for k, v in unnamed.items())
        say(f"summary: {', '.join(m for m, *_ in LOGINS)} log in and work end to end on "
            f"librdkafka {version}; wrong password handled, /readyz reasons {reasons}; "
            "credentials need a restart to change")
    except Failure as e:
        failure = str(e)
        exit_code = 1
    except Interrupted as e:
        failure = f"interrupted: {e}"
        exit_code = 128 + e.signum if e.signum != signal.SIGALRM else 1
    finally:
        cleaning["now"] = True
        signal.alarm(0)
        if failure:
            for svc in services:
                print(f"----- {svc.label} (pid {svc.pid}) log tail:", file=sys.stderr)
                for line in svc.tail(12):
                    print(f"  {line}", file=sys.stderr)
        leftover = stop_services(services)
        for label, (rc, secs, killed) in leftover.items():
            say(f"cleanup: {label} rc {rc} after {secs:.1f}s{' (SIGKILLed)' if killed else ''}")
        if cluster.exists():
            rc, _ = kafka_sh(["stop", "--dir", str(cluster)], broker_log, timeout=60)
            if rc != 0:
                print(f"{NAME}: kafka.sh stop --dir {cluster} gave rc {rc}", file=sys.stderr)
                if not failure:
                    failure, exit_code = "could not stop the broker", 1
        if failure and broker_log.exists():
            print("----- kafka.sh log tail:", file=sys.stderr)
            print(broker_log.read_text(errors="replace")[-1500:], file=sys.stderr)
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    took = time.monotonic() - T0
    for n in notes:
        print(f"{NAME}: NOTE: {n}")
    if failure:
        print(f"{NAME}: FAIL: {failure} ({took:.0f}s)")
        return exit_code or 1
    if cleaning["pending"]:
        print(f"{NAME}: FAIL: interrupted by {signal.Signals(cleaning['pending']).name} "
              f"during cleanup ({took:.0f}s)")
        return 128 + cleaning["pending"]
    print(f"{NAME}: PASS ({took:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
