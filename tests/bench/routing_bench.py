#!/usr/bin/env python3
"""GET /orders/{id} latency on a group of three Trackers (issue 15): answered from the asked
instance's own view (local), proxied to the owner of the order's partition (routed, one hop),
and an id no one has (searched: the owner, then every other member, then 404).

Starts its own broker on free loopback ports (deploy/local/kafka.sh), an Order service that
places ROUTING_ORDERS orders (default 300) over HTTP, and three Trackers in one group; then, on
one keep-alive connection per Tracker, times ROUTING_GETS requests (default 3000) of each kind,
one at a time, and prints p50/p99 per kind. Stops everything it started.

Build first (tests/bench/run.sh builds build/bin with the release preset), then:
  /usr/bin/python3 tests/bench/routing_bench.py      (ROUTING_BIN=build-ci/bin for the ci build)
Figures are wall-clock on a shared machine: compare the kinds within one run.
"""
import http.client
import json
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ORDERS = int(os.environ.get("ROUTING_ORDERS", "300"))
GETS = int(os.environ.get("ROUTING_GETS", "3000"))
if os.environ.get("ROUTING_BIN"):
    bench.ORDER = os.path.join(os.environ["ROUTING_BIN"], "order-service")
    bench.TRACKER = os.path.join(os.environ["ROUTING_BIN"], "tracker-service")
LOCAL_ONLY = {"Tracker-Forwarded-By": "routing-bench"}


def get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Tracker-Instance", "")


def percentile(sorted_ms, q):
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def timed(conns, paths, expect):
    """Latencies in ms of GETs of `paths`, round robin over the connections, one at a time."""
    ms = []
    for i in range(GETS):
        conn, path = conns[i % len(conns)], paths[i % len(paths)]
        t0 = time.perf_counter()
        status, _ = get(conn, path)
        ms.append((time.perf_counter() - t0) * 1000)
        if status != expect:
            raise RuntimeError(f"{path}: {status}, expected {expect}")
    return sorted(ms)


def main():
    if not os.path.exists(bench.TRACKER):
        sys.exit(f"missing {bench.TRACKER}: build the release preset first")
    bench.BOOT = bench.start_broker(bench.KDIR)
    try:
        run()
    finally:
        for p in list(bench.children):
            bench.stop(p)
        subprocess.run([bench.KAFKA_SH, "stop", "--dir", bench.KDIR], capture_output=True)


def run():
    topic, group = "routing-bench", "routing-bench"
    order_port = bench.free_port()
    order = bench.start("order", [bench.ORDER, "--bootstrap-servers", bench.BOOT, "--topic", topic,
                                  "--http-listen", f"127.0.0.1:{order_port}", "--log-level", "warn"])
    bench.wait_ready(order_port, order)
    trackers = []
    for i in range(3):
        port = bench.free_port()
        p = bench.start(f"tracker{i}", [bench.TRACKER, "--bootstrap-servers", bench.BOOT,
                                        "--topic", topic, "--group-id", group, "--http-listen",
                                        f"127.0.0.1:{port}", "--quiet-orders", "--log-level",
                                        "warn"])
        trackers.append(port)
    deadline = time.monotonic() + 120
    while True:
        owned = []
        for port in trackers:
            code, body = bench.http(f"http://127.0.0.1:{port}/stats")
            owned.append(len(json.loads(body)["partitions"]) if code == 200 else 0)
        if owned == [1, 1, 1] and all(
                bench.http(f"http://127.0.0.1:{p}/readyz")[0] == 200 for p in trackers):
            break
        if time.monotonic() > deadline:
            sys.exit(f"the group did not settle: partitions per member {owned}")
        time.sleep(0.2)

    oc = http.client.HTTPConnection("127.0.0.1", order_port, timeout=10)
    ids = []
    for i in range(ORDERS):
        oc.request("POST", "/orders", body=json.dumps({"user": "bench", "item": f"i{i % 7}",
                                                       "quantity": 1}),
                   headers={"Content-Type": "application/json"})
        r = oc.getresponse()
        body = r.read()
        if r.status != 201:
            sys.exit(f"POST /orders: {r.status} {body[:200]}")
        ids.append(json.loads(body)["order_id"])
    oc.close()

    conns = {p: http.client.HTTPConnection("127.0.0.1", p, timeout=10) for p in trackers}
    # Wait until every order is tracked, and learn which instance holds which.
    holder = {}
    deadline = time.monotonic() + 60
    while len(holder) < len(ids) and time.monotonic() < deadline:
        for oid in ids:
            if oid in holder:
                continue
            for p in trackers:
                if get(conns[p], f"/orders/{oid}", LOCAL_ONLY)[0] == 200:
                    holder[oid] = p
        time.sleep(0.1)
    if len(holder) < len(ids):
        sys.exit(f"only {len(holder)} of {len(ids)} orders tracked")
    # Owner maps are refreshed every 2 s: let the last rebalance's refresh land.
    time.sleep(3)

    rows = {}
    for kind in ("local", "routed"):
        per_conn = []
        for p in trackers:
            mine = [f"/orders/{o}" for o, h in holder.items() if (h == p) == (kind == "local")]
            per_conn.append(timed([conns[p]], mine, 200)[:])
        rows[kind] = sorted(x for ms in per_conn for x in ms)
    missing = [f"/orders/{uuid.uuid4()}" for _ in range(100)]
    rows["searched (404)"] = timed(list(conns.values()), missing, 404)
    for c in conns.values():
        c.close()

    print(f"GET /orders/{{id}} on 3 Trackers, {ORDERS} orders, keep-alive client, one request "
          f"at a time ({GETS} per kind per Tracker for local and routed, {GETS} for searched):")
    print("| Answered | p50 | p99 |")
    print("|---|---:|---:|")
    for kind, ms in rows.items():
        print(f"| {kind} | {percentile(ms, 0.50):.3f} ms | {percentile(ms, 0.99):.3f} ms |")


if __name__ == "__main__":
    main()
