"""What the live-view tests and the SSE benchmark share: a broker of their own, the two services
as processes, and a small Server-Sent Events client over a plain socket.

Everything started here is stopped by pid (SIGTERM, SIGKILL after a grace), the broker with
`kafka.sh stop --dir`, on success, failure, a signal or the deadline; the services also get
PR_SET_PDEATHSIG so that a killed test cannot leave them behind. Loopback only.
"""

import collections
import ctypes
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "local" / "kafka.sh"
T0 = time.monotonic()


class Failure(Exception):
    """A check did not hold."""


class Interrupted(BaseException):
    """A signal or the deadline: not an Exception, so no handler swallows it."""


def say(name, msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {name}: {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_until(pred, timeout, interval=0.1):
    """Calls pred until it returns something truthy (returned) or timeout passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_base_port():
    """An even port with it and the next free on 127.0.0.1 (kafka.sh: client, controller)."""
    for _ in range(200):
        base = random.randrange(20000, 30000, 2)  # below the ephemeral range
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
    raise Failure("no free port pair for the broker")


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Service:
    """One order-service or tracker-service process, its log file and its HTTP port."""

    def __init__(self, binary, argv, log_path, port):
        self.port = port
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([str(binary), *argv], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=_die_with_parent)

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=5.0):
        """(status, headers, body text); status None when the connection failed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return (res.status, {k.lower(): v for k, v in res.getheaders()},
                    res.read().decode(errors="replace"))
        except (OSError, http.client.HTTPException) as e:
            return None, {}, f"{type(e).__name__}: {e}"
        finally:
            conn.close()

    def get_json(self, path):
        status, _, text = self.request("GET", path)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None

    def metric(self, name):
        """The value of an unlabelled series in /metrics, or None."""
        status, _, text = self.request("GET", "/metrics")
        if status != 200:
            return None
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == name:
                return float(parts[1])
        return None

    def ready(self):
        return self.request("GET", "/readyz")[0] == 200

    def place(self, user, item, quantity):
        """POST /orders; the answer's JSON ({"order_id","partition","offset"})."""
        body = json.dumps({"user": user, "item": item, "quantity": quantity})
        status, _, text = self.request("POST", "/orders", body,
                                       {"Content-Type": "application/json"}, timeout=35)
        check(status == 201, f"POST /orders answered {status}: {text}")
        return json.loads(text)

    def stop(self, grace=15.0):
        """SIGTERM, then SIGKILL after `grace`; returns (exit code, seconds, killed)."""
        t = time.monotonic()
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=grace), time.monotonic() - t, False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(), time.monotonic() - t, True


class Harness:
    """A broker on free loopback ports and the services started against it; a context manager
    that tears everything down, also on a signal or when `deadline` seconds have passed."""

    def __init__(self, name, bin_dir, deadline):
        self.name = name
        self.bin_dir = Path(bin_dir).resolve()
        self.deadline = deadline
        self.services = []
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{name}."))
        self.cluster = self.tmp / "cluster"
        self.broker_log = self.tmp / "kafka.sh.log"
        self.bootstrap = None

    def __enter__(self):
        def on_signal(signum, _frame):
            raise Interrupted("deadline passed" if signum == signal.SIGALRM
                              else f"got {signal.Signals(signum).name}")
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
            signal.signal(s, on_signal)
        signal.alarm(int(self.deadline))
        base = pick_base_port()
        rc, out = self._kafka_sh(["start", "--port", str(base), "--dir", str(self.cluster),
                                  "--timeout", "75"], timeout=100)
        lines = [line for line in out.splitlines() if line.strip()]
        check(rc == 0 and lines, f"kafka.sh start failed (rc {rc}): "
              f"{self.broker_log.read_text(errors='replace')[-2000:]}")
        self.bootstrap = lines[-1].strip()
        say(self.name, f"broker up at {self.bootstrap}")
        return self

    def __exit__(self, exc_type, exc, tb):
        # Cleanup must finish even if another signal arrives.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        signal.alarm(0)
        if exc is not None:
            for svc in self.services:
                print(f"----- {svc.log_path.name} (pid {svc.proc.pid}) log tail:", flush=True)
                for line in svc.log_text().splitlines()[-15:]:
                    print(f"  {line}", flush=True)
        for svc in self.services:
            if svc.alive():
                svc.stop()
        if self.cluster.exists():
            self._kafka_sh(["stop", "--dir", str(self.cluster)], timeout=60)
        if exc is None and not os.environ.get("KEEP_TMP"):
            subprocess.run(["rm", "-rf", str(self.tmp)], check=False)
        return False

    def _kafka_sh(self, args, timeout):
        with open(self.broker_log, "ab") as err:
            proc = subprocess.Popen(["bash", str(KAFKA_SH), *args], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err, start_new_session=True)
            try:
                out, _ = proc.communicate(timeout=timeout)
                return proc.returncode, out.decode(errors="replace")
            except BaseException:
                proc.terminate()
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                raise

    def start(self, binary, label, *flags, http=True):
        port = free_port() if http else None
        argv = ["--bootstrap-servers", self.bootstrap, "--shutdown-timeout-ms", "5000", *flags]
        if http:
            argv += ["--http-listen", f"127.0.0.1:{port}"]
        svc = Service(self.bin_dir / binary, argv, self.tmp / f"{label}.log", port)
        self.services.append(svc)
        return svc

    def tracker(self, label, *flags, group=None):
        svc = self.start("tracker-service", label, "--group-id", group or f"{label}-group",
                         "--quiet-orders", *flags)
        check(wait_until(svc.ready, 60), f"{label} not ready within 60 s")
        return svc

    def order_service(self, label="order", *flags):
        svc = self.start("order-service", label, *flags)
        check(wait_until(svc.ready, 60), f"{label} not ready within 60 s")
        return svc


def run_test(name, bin_dir, deadline, body):
    """Runs body(harness) and prints "<name>: PASS" or "<name>: FAIL: ..."; the exit code."""
    try:
        with Harness(name, bin_dir, deadline) as h:
            body(h)
    except (Failure, Interrupted) as e:
        print(f"{name}: FAIL: {e}", flush=True)
        return 1
    print(f"{name}: PASS", flush=True)
    return 0


class SseClient:
    """GET /orders/stream on a plain socket, parsed as the SSE spec says (enough of it)."""

    def __init__(self, port, last_event_id=None, rcvbuf=None, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Set before connecting, so that the window the client advertises is small too.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        req = "GET /orders/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if last_event_id is not None:
            req += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        self.buf = b""
        self.blocks = collections.deque()
        self.closed = False
        head = self._read_until(b"\r\n\r\n")
        check(head is not None, "the stream closed before its header")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.comments = []

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def _read_until(self, sep):
        while sep not in self.buf:
            if self.closed or not self._fill():
                return None
        head, _, self.buf = self.buf.partition(sep)
        return head

    def body_rest(self):
        """For an error answer: the rest until close."""
        while self._fill():
            pass
        return self.buf.decode(errors="replace")

    def next_event(self):
        """The next block as {"id","event","data"}, or None at close or timeout. A block without
        data (comments, `retry:`) has data None; comments are collected in self.comments."""
        # Every complete block of a read at once: slicing the buffer per block would copy the
        # rest each time, which a reader of thousands of events per second cannot afford.
        while not self.blocks:
            *complete, self.buf = self.buf.split(b"\n\n")
            self.blocks.extend(complete)
            if not self.blocks and (self.closed or not self._fill()):
                return None
        block = self.blocks.popleft()
        ev = {"id": None, "event": "message", "data": None}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                self.comments.append(line)
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field in ("id", "event", "data"):
                ev[field] = value
        return ev

    def events(self, count, timeout):
        """Up to `count` events within `timeout` seconds."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            ev = self.next_event()
            if ev is None:
                if self.closed:
                    break
                continue
            if ev["data"] is not None:
                out.append(ev)
        return out

    def close(self):
        self.sock.close()
