"""Places orders over HTTP with unique identities and records each outcome.

The identity of an order is the trace id of the W3C traceparent the client sends: the Order
service keeps the trace id in the event's traceparent header, so an independent reader of the
topic can find every attempt, including those whose answer never came back.

Outcomes: ok (201 with order_id, partition, offset), fail (a definite error: the order is not and
will not be on the broker) and unknown (no answer, a cut connection, or an answer that says the
broker may have it)."""
import http.client
import json
import os
import threading
import time

ITEMS = ["Shoes", "Phone", "Laptop", "Book", "Coffee"]
# 503 reasons that mean the order never reached Kafka; every other failure may have.
DEFINITE_503 = {"not_ready", "queue_full", "producer_failed", "delivery_failed"}


class Attempt:
    __slots__ = ("trace", "outcome", "status", "reason", "order_id", "partition", "offset",
                 "sent", "answered")

    def __init__(self, trace):
        self.trace = trace
        self.outcome = "unknown"
        self.status = None
        self.reason = ""
        self.order_id = None
        self.partition = None
        self.offset = None
        self.sent = time.monotonic()
        self.answered = None


class Load:
    """`workers` threads, each with its own keep-alive connection, sharing `rate` orders/s. Every
    order names `user`, so the Tracker's totals for that user count this run's orders alone."""

    def __init__(self, port, user, rate=200, workers=32, timeout=15.0):
        self.port, self.user, self.rate = port, user, rate
        self.workers, self.timeout = workers, timeout
        self.attempts = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._next = 0.0

    def start(self):
        self._next = time.monotonic()
        for _ in range(self.workers):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)
        return self.attempts

    def _slot(self):
        # Paced, without catching up: a worker that waited on a stalled service does not come
        # back as a burst, so the load after a fault looks like the load before it.
        with self._lock:
            now = time.monotonic()
            at = max(self._next, now - 0.1)
            self._next = at + 1.0 / self.rate
        if at > now:
            self._stop.wait(at - now)
        return not self._stop.is_set()

    def _run(self):
        conn = None
        while self._slot():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            a = Attempt(os.urandom(16).hex())
            body = json.dumps({"user": self.user, "item": ITEMS[int(a.trace[:2], 16) % 5],
                               "quantity": 1})
            headers = {"Content-Type": "application/json",
                       "traceparent": f"00-{a.trace}-{os.urandom(8).hex()}-01"}
            try:
                conn.request("POST", "/orders", body, headers)
                r = conn.getresponse()
                text = r.read()
                a.answered = time.monotonic()
                a.status = r.status
                classify(a, r.status, text)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except ConnectionRefusedError:
                a.outcome, a.reason = "fail", "connection refused"
                conn.close()
                conn = None
                self._stop.wait(0.05)
            except (OSError, http.client.HTTPException) as e:
                a.outcome, a.reason = "unknown", type(e).__name__
                conn.close()
                conn = None
            with self._lock:
                self.attempts.append(a)
        if conn is not None:
            conn.close()


def classify(a, status, text):
    try:
        j = json.loads(text)
    except ValueError:
        j = {}
    if status == 201:
        a.outcome = "ok"
        a.order_id, a.partition, a.offset = j["order_id"], j["partition"], j["offset"]
        return
    a.reason = j.get("reason", "") if isinstance(j, dict) else ""
    if 400 <= status < 500 or (status == 503 and a.reason in DEFINITE_503):
        a.outcome = "fail"
    else:
        a.outcome = "unknown"
