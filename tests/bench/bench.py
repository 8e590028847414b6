# The benchmark of issue 6, run by tests/bench/run.sh (which builds first). Starts its own broker
# on free loopback ports in a temp dir, measures everything side by side in one run, stops what it
# started (by pid), writes BENCHMARKS.md and bench-results.json at the repository root.
#
# Environment: BENCH_N (orders per throughput run, default 1000000), BENCH_E2E_S (seconds at
# 1,000 orders/s, default 15), BENCH_STEADY_S (steady run for RSS growth, default 300; 0 skips),
# BENCH_STEADY_RATE (orders/s in the steady run, default 1000), BENCH_WRK_C (connections, 256),
# BENCH_WRK_D (seconds, 10).
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "bench")
BIN = os.path.join(ROOT, "build", "bin")
ORDER = os.path.join(BIN, "order-service")
TRACKER = os.path.join(BIN, "tracker-service")
FLOOR = os.path.join(BIN, "bench_e2e_floor")
KAFKA_SH = os.path.join(ROOT, "deploy", "local", "kafka.sh")
PY = "/usr/bin/python3"

N = int(os.environ.get("BENCH_N", "1000000"))
E2E_S = int(os.environ.get("BENCH_E2E_S", "15"))
STEADY_S = int(os.environ.get("BENCH_STEADY_S", "300"))
STEADY_RATE = int(os.environ.get("BENCH_STEADY_RATE", "1000"))
WRK_C = int(os.environ.get("BENCH_WRK_C", "256"))
WRK_D = int(os.environ.get("BENCH_WRK_D", "10"))
WARM_S = float(os.environ.get("BENCH_WARM_S", "3"))
CLK_TCK = os.sysconf("SC_CLK_TCK")

TMP = tempfile.mkdtemp(prefix="ot-bench-")
KDIR = os.path.join(TMP, "kafka")
children = []  # every Popen we started and that may still run
R = {}  # results
notes = []
skipped = []
T_START = time.monotonic()


def log(msg):
    print(f"[bench {time.monotonic() - T_START:6.1f}s] {msg}", flush=True)


# ---------------------------------------------------------------- processes and measurements
def start_broker(kdir):
    """A fresh one-node broker on free loopback ports (deploy/local/kafka.sh); its bootstrap."""
    port = free_port(pair=True)
    ks = subprocess.run([KAFKA_SH, "start", "--fresh", "--port", str(port), "--dir", kdir],
                        capture_output=True, text=True)
    if ks.returncode != 0:
        sys.exit(f"broker did not start: {ks.stdout[-1000:]}{ks.stderr[-1000:]}")
    return ks.stdout.strip().splitlines()[-1]


def free_port(pair=False):
    for _ in range(200):
        p = random.randint(20000, 32000)  # below the ephemeral range (32768+)
        ok = True
        for q in ([p, p + 1] if pair else [p]):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    raise RuntimeError("no free port")


def parse_time_v(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("User time (seconds):"):
                out["user_s"] = float(line.split(":")[1])
            elif line.startswith("System time (seconds):"):
                out["sys_s"] = float(line.split(":")[1])
            elif line.startswith("Maximum resident set size (kbytes):"):
                out["maxrss_mib"] = int(line.split(":")[1]) / 1024.0
            elif line.startswith("Exit status:"):
                out["exit"] = int(line.split(":")[1])
    out["cpu_s"] = out.get("user_s", 0) + out.get("sys_s", 0)
    return out


def run_timed(name, cmd, env=None, stdout_path=None, timeout=900, at=None):
    """Runs cmd under /usr/bin/time -v; returns wall (our monotonic clock), cpu, peak RSS.
    at=(seconds, fn): calls fn() that long after the start, if the process still runs."""
    tfile = os.path.join(TMP, f"{name}.time")
    out = open(stdout_path or os.path.join(TMP, f"{name}.out"), "w")
    err = open(os.path.join(TMP, f"{name}.err"), "w")
    full_env = dict(os.environ, **(env or {}))
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tfile] + cmd, stdout=out, stderr=err,
                         env=full_env)
    children.append(p)
    if at:
        try:
            p.wait(timeout=at[0])
        except subprocess.TimeoutExpired:
            at[1]()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = -1
    wall = time.monotonic() - t0
    children.remove(p)
    out.close()
    err.close()
    res = parse_time_v(tfile) if os.path.exists(tfile) else {"cpu_s": float("nan")}
    res["wall_s"] = wall
    res["rc"] = rc
    if rc != 0:
        log(f"{name}: exit code {rc}; stderr tail: {open(err.name).read()[-800:]}")
    return res


def proc_sample(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    hwm = rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024.0
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024.0
    return {"cpu_s": cpu, "hwm_mib": hwm, "rss_mib": rss}


def start(name, cmd):
    out = open(os.path.join(TMP, f"{name}.log"), "w")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    children.append(p)
    return p


def stop(p, timeout=20):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in children:
        children.remove(p)
    return p.returncode


def http(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception:
        return 0, ""


def wait_ready(port, p, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"process {p.pid} exited with {p.returncode}")
        if http(f"http://127.0.0.1:{port}/readyz")[0] == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"not ready on port {port} after {timeout}s")


def tracker_orders(port):
    code, body = http(f"http://127.0.0.1:{port}/stats")
    return json.loads(body)["orders"] if code == 200 else -1


def start_tracker(name, topic, group, flags=("--quiet-orders", "--log-level", "warn")):
    """A Tracker whose stdout and stderr go to the file TMP/<name>.log."""
    port = free_port()
    p = start(name, [TRACKER, "--bootstrap-servers", BOOT, "--topic", topic, "--group-id", group,
                     "--http-listen", f"127.0.0.1:{port}", *flags])
    return p, port


# ---------------------------------------------------------------- histograms (PromQL-style)
BUCKET_RE = re.compile(r'^tracker_end_to_end_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$')


def e2e_hist(port):
    code, body = http(f"http://127.0.0.1:{port}/metrics")
    les, cums = [], []
    for line in body.splitlines():
        m = BUCKET_RE.match(line)
        if m:
            les.append(float("inf") if m.group(1) == "+Inf" else float(m.group(1)))
            cums.append(float(m.group(2)))
    return les, cums


def hist_delta(after, before):
    les, a = after
    _, b = before
    return les, [x - y for x, y in zip(a, b)]


def hist_sum(hs):
    les = hs[0][0]
    return les, [sum(h[1][i] for h in hs) for i in range(len(les))]


def prom_quantile(q, hist):
    les, cums = hist
    if not cums or cums[-1] <= 0:
        return float("nan")
    total = cums[-1]
    rank = q * total
    for i, c in enumerate(cums):
        if c >= rank and (c - (cums[i - 1] if i else 0)) > 0:
            if les[i] == float("inf"):
                return les[i - 1]
            lo = les[i - 1] if i else 0.0
            prev = cums[i - 1] if i else 0.0
            return lo + (les[i] - lo) * (rank - prev) / (c - prev)
    return les[-2]


def quantiles_ms(hist):
    return {"p50_ms": prom_quantile(0.5, hist) * 1000, "p99_ms": prom_quantile(0.99, hist) * 1000,
            "p999_ms": prom_quantile(0.999, hist) * 1000, "count": int(hist[1][-1])}


# ---------------------------------------------------------------- Kafka helpers
def create_topic(name, partitions=3):
    fs = ADMIN.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    for f in fs.values():
        f.result(30)
    time.sleep(0.3)


def topic_count(name, partitions=3):
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "bench-watermarks"})
    total = 0
    for p in range(partitions):
        lo, hi = c.get_watermark_offsets(TopicPartition(name, p), timeout=10)
        total += hi - lo
    c.close()
    return total


def load():
    return os.getloadavg()


# ---------------------------------------------------------------- the measurements
def m1_kcat_produce(lines):
    create_topic("b1.kcat")
    r = run_timed("kcat_produce", ["kcat", "-P", "-b", BOOT, "-t", "b1.kcat", "-K", "\t", "-l", lines])
    got = topic_count("b1.kcat")
    R["kcat_produce"] = dict(r, n=got, msgs_per_s=got / r["wall_s"])
    R["kcat_produce_msgs_per_s"] = got / r["wall_s"]
    log(f"1 kcat produce: {got} in {r['wall_s']:.2f}s = {got / r['wall_s']:.0f}/s")


def order_gen(name, topic, count, rate=0, partitions=3, extra=(), at=None):
    cmd = [ORDER, "--bootstrap-servers", BOOT, "--topic", topic, "--partitions", str(partitions),
           "--generate-rate", str(rate), "--count", str(count), "--no-http", "--log-level", "warn",
           *extra]
    return run_timed(name, cmd, at=at)


def m2_order_generator():
    create_topic("b2.gen")
    r = order_gen("order_gen", "b2.gen", N)
    got = topic_count("b2.gen")
    R["order_generator"] = dict(r, n=got, msgs_per_s=got / r["wall_s"])
    R["order_generator_msgs_per_s"] = got / r["wall_s"]
    log(f"2 order generator: {got} in {r['wall_s']:.2f}s = {got / r['wall_s']:.0f}/s")
    # The throughput profile (documented override), for comparison.
    create_topic("b2.gen50")
    r = order_gen("order_gen_linger50", "b2.gen50", N,
                  extra=("-X", "linger.ms=50", "-X", "batch.num.messages=10000"))
    got = topic_count("b2.gen50")
    R["order_generator_linger50"] = dict(r, n=got, msgs_per_s=got / r["wall_s"])
    log(f"2b order generator linger.ms=50: {got / r['wall_s']:.0f}/s")


def m3_http():
    create_topic("b3.http")
    port = free_port()
    p = start("order_http", [ORDER, "--bootstrap-servers", BOOT, "--topic", "b3.http",
                             "--http-listen", f"127.0.0.1:{port}", "--log-level", "warn"])
    try:
        wait_ready(port, p)
        before = proc_sample(p.pid)
        wrk = subprocess.run(["wrk", "-t2", f"-c{WRK_C}", f"-d{WRK_D}s", "--timeout", "10s",
                              "-s", os.path.join(HERE, "post_orders.lua"),
                              f"http://127.0.0.1:{port}/orders"], capture_output=True, text=True)
        after = proc_sample(p.pid)
    finally:
        rc = stop(p)
    with open(os.path.join(TMP, "wrk.out"), "w") as f:
        f.write(wrk.stdout + wrk.stderr)
    m = re.search(r"^BENCH (.*)$", wrk.stdout, re.M)
    if not m:
        raise RuntimeError("wrk gave no BENCH line: " + wrk.stdout + wrk.stderr)
    kv = {k: int(v) for k, v in (x.split("=") for x in m.group(1).split())}
    secs = kv["duration_us"] / 1e6
    got = topic_count("b3.http")
    res = dict(kv, seconds=secs, msgs_per_s=kv["created"] / secs, topic_messages=got,
               cpu_s=after["cpu_s"] - before["cpu_s"], maxrss_mib=after["hwm_mib"],
               connections=WRK_C, exit=rc)
    R["order_http"] = res
    R["order_http_msgs_per_s"] = res["msgs_per_s"]
    R["order_http_p50_ms"] = kv["p50_us"] / 1000
    R["order_http_p99_ms"] = kv["p99_us"] / 1000
    log(f"3 HTTP: {kv['created']} 201s ({kv['other']} other) in {secs:.1f}s = "
        f"{res['msgs_per_s']:.0f}/s, p50 {kv['p50_us'] / 1000:.2f} ms p99 {kv['p99_us'] / 1000:.2f} ms")


def m4_python_producer():
    create_topic("b4.py")
    r = run_timed("seed_producer", [PY, os.path.join(HERE, "seed_producer_n.py"), "b4.py", str(N)],
                  env={"KAFKA_BOOTSTRAP_SERVERS": BOOT})
    got = topic_count("b4.py")
    R["seed_python_produce"] = dict(r, n=got, msgs_per_s=got / r["wall_s"])
    R["seed_python_produce_msgs_per_s"] = got / r["wall_s"]
    log(f"4 seed python producer: {got} in {r['wall_s']:.2f}s = {got / r['wall_s']:.0f}/s")


def tracker_drain(name, topic, n, group, flags=("--quiet-orders", "--log-level", "warn")):
    """Starts a Tracker on a backlog of n orders; rate from its last /stats reading at 0 to n."""
    p, port = start_tracker(name, topic, group, flags)
    t_zero = None
    t_start = time.monotonic()
    deadline = t_start + 120
    if n <= 0:
        stop(p)
        raise RuntimeError(f"{name}: empty backlog")
    try:
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"tracker exited {p.returncode}")
            now = time.monotonic()
            c = tracker_orders(port)
            if c <= 0:
                t_zero = now
            elif c >= n:
                break
            time.sleep(0.01)
        t_done = time.monotonic()
        c = tracker_orders(port)
        s = proc_sample(p.pid)
    finally:
        rc = stop(p)
    window = t_done - (t_zero or t_start)
    return {"n": c, "window_s": window, "wall_s": t_done - t_start, "msgs_per_s": c / window,
            "cpu_s": s["cpu_s"], "maxrss_mib": s["hwm_mib"], "exit": rc}


def kcat_consume(topic):
    """kcat -C from the beginning to the end; rate from its first output byte to its exit."""
    tfile = os.path.join(TMP, "kcat_consume.time")
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tfile, "kcat", "-C", "-b", BOOT, "-t", topic,
                          "-o", "beginning", "-e", "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    children.append(p)
    first = None
    got = 0
    fd = p.stdout.fileno()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic()
        got += chunk.count(b"\n")
    p.wait()
    t1 = time.monotonic()
    children.remove(p)
    r = parse_time_v(tfile)
    window = t1 - (first or t0)
    return dict(r, n=got, wall_s=t1 - t0, window_s=window, msgs_per_s=got / window,
                msgs_per_s_incl_startup=got / (t1 - t0), startup_s=(first or t0) - t0)


def kcat_consume_to_file(topic):
    """kcat -C from the beginning to the end into a file; rate from the first byte in the file to
    kcat's exit, the file's size looked at every 10 ms (as the Tracker's /stats is)."""
    path = os.path.join(TMP, "kcat_consume_file.out")
    tfile = os.path.join(TMP, "kcat_consume_file.time")
    t0 = time.monotonic()
    with open(path, "w") as out:
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tfile, "kcat", "-C", "-b", BOOT, "-t",
                              topic, "-o", "beginning", "-e", "-q"], stdout=out,
                             stderr=subprocess.DEVNULL)
        children.append(p)
        first = None
        while p.poll() is None:
            if first is None and os.path.getsize(path) > 0:
                first = time.monotonic()
            time.sleep(0.01)
        t1 = time.monotonic()
        children.remove(p)
    with open(path, "rb") as f:
        got = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    size = os.path.getsize(path)
    os.remove(path)
    r = parse_time_v(tfile)
    window = t1 - (first or t0)
    return dict(r, n=got, bytes=size, wall_s=t1 - t0, window_s=window, msgs_per_s=got / window)


def m5_consume():
    n = topic_count("b2.gen")
    k = kcat_consume("b2.gen")
    R["kcat_consume"] = k
    R["kcat_consume_msgs_per_s"] = k["msgs_per_s"]
    log(f"5 kcat consume: {k['n']} in {k['window_s']:.2f}s (+{k['startup_s']:.2f}s to the first "
        f"message) = {k['msgs_per_s']:.0f}/s")

    t = tracker_drain("tracker_drain", "b2.gen", n, "bench-g5")
    R["tracker"] = t
    R["tracker_msgs_per_s"] = t["msgs_per_s"]
    log(f"5 tracker: {t['n']} in {t['window_s']:.2f}s = {t['msgs_per_s']:.0f}/s")

    # Per-order lines on (the default), to a file, next to kcat writing the same messages to one.
    k = kcat_consume_to_file("b2.gen")
    R["kcat_consume_file"] = k
    log(f"5 kcat consume to a file: {k['n']} in {k['window_s']:.2f}s = {k['msgs_per_s']:.0f}/s")
    t = tracker_drain("tracker_drain_lines", "b2.gen", n, "bench-g5lines", flags=())
    path = os.path.join(TMP, "tracker_drain_lines.log")
    t["log_bytes"] = os.path.getsize(path)
    with open(path, "rb") as f:
        t["lines"] = sum(1 for line in f if b"Received order " in line)
    os.remove(path)
    R["tracker_lines"] = t
    log(f"5 tracker with per-order lines: {t['n']} in {t['window_s']:.2f}s = {t['msgs_per_s']:.0f}/s "
        f"({t['lines']} lines)")

    r = run_timed("seed_consumer", [PY, os.path.join(HERE, "seed_consumer_n.py"), "b2.gen",
                                    "bench-g5py", str(n)], env={"KAFKA_BOOTSTRAP_SERVERS": BOOT})
    j = json.loads(open(os.path.join(TMP, "seed_consumer.out")).read().strip().splitlines()[-1])
    R["seed_python_consume"] = dict(r, **j)
    R["seed_python_consume_msgs_per_s"] = j["msgs_per_s"]
    log(f"5 seed python consumer: {j['consumed']} in {j['window_s']:.2f}s = {j['msgs_per_s']:.0f}/s")


def committed_sum(consumer, topic, partitions=3):
    parts = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=5)
    return sum(tp.offset for tp in parts if tp.offset >= 0)


def m_responsive():
    """Issue 14 item 1 at full size: one Tracker drains the 1M backlog of 2 (fresh group,
    --quiet-orders, its defaults: commits every second). Meanwhile one thread asks /healthz and
    /metrics in turn (a fresh connection each, as a probe would), and another reads the group's
    committed offsets from the broker every 100 ms. SIGTERM once 60% of the backlog is processed;
    the time to exit, then the committed offsets against the orders it processed."""
    import threading
    topic, group = "b2.gen", "bench-g10"
    n = topic_count(topic)
    p, port = start_tracker("tracker_responsive", topic, group, ("--quiet-orders",))
    stop_flag, signalled = threading.Event(), threading.Event()
    answers, committed = [], []
    progress = {"processed": -1}
    t_start = time.monotonic()

    def prober():
        while not stop_flag.is_set():
            for path in ("/healthz", "/metrics"):
                t0 = time.monotonic()
                code, body = http(f"http://127.0.0.1:{port}{path}", timeout=10)
                ms = (time.monotonic() - t0) * 1000
                if path == "/metrics" and code == 200:
                    m = re.search(r"^tracker_orders_processed_total (\S+)$", body, re.M)
                    if m:
                        progress["processed"] = int(float(m.group(1)))
                # Only answers back before SIGTERM count: the stopping service rightly refuses.
                answers.append((path, code, ms, progress["processed"], not signalled.is_set()))

    def committer():
        c = Consumer({"bootstrap.servers": BOOT, "group.id": group})
        try:
            while not stop_flag.is_set():
                try:
                    committed.append((time.monotonic() - t_start, committed_sum(c, topic)))
                except Exception:
                    pass
                time.sleep(0.1)
        finally:
            c.close()

    threads = [threading.Thread(target=prober), threading.Thread(target=committer)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 120
        while progress["processed"] < n * 0.6 and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        at_signal = progress["processed"]
        t_sig = time.monotonic()
        signalled.set()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        exit_s = time.monotonic() - t_sig
    finally:
        stop_flag.set()
        for t in threads:
            t.join()
        stop(p)
    c = Consumer({"bootstrap.servers": BOOT, "group.id": group})
    final_committed = committed_sum(c, topic)
    c.close()
    text = open(os.path.join(TMP, "tracker_responsive.log")).read()
    m = re.search(r"stopped: processed (\d+)", text)
    processed = int(m.group(1)) if m else None
    m = re.search(r"runs on librdkafka (\S+)", text)
    if m:
        R["machine"]["services_librdkafka"] = m.group(1)

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))] if xs else float("nan")

    during = [a for a in answers if 0 < a[3] < n and a[4]]
    res = {"orders": n, "processed_at_signal": at_signal, "processed": processed,
           "committed_after_exit": final_committed, "exit_code": rc, "sigterm_to_exit_s": exit_s,
           "failed_during_drain": sum(1 for a in during if a[1] != 200)}
    for path in ("/healthz", "/metrics"):
        ms = [a[2] for a in during if a[0] == path and a[1] == 200]
        res[path] = {"answers": len(ms), "p50_ms": pct(ms, 0.5), "p99_ms": pct(ms, 0.99),
                     "max_ms": max(ms) if ms else float("nan")}
    # The committed offsets while the drain ran: each distinct value once, with the lag it left.
    steps, last = [], None
    for t, c_sum in committed:
        if c_sum != last:
            steps.append({"t_s": round(t, 2), "committed": c_sum, "lag": n - c_sum})
            last = c_sum
    res["committed_steps"] = steps
    R["responsive"] = res
    log(f"10 responsiveness: /healthz p99 {res['/healthz']['p99_ms']:.1f} ms "
        f"({res['/healthz']['answers']} answers), /metrics p99 {res['/metrics']['p99_ms']:.1f} ms, "
        f"SIGTERM at {at_signal} -> exit {rc} in {exit_s:.2f}s, processed {processed}, "
        f"committed {final_committed}, {len(steps)} committed values")


def e2e_run(name, topic, rate, seconds, trackers):
    """Order generator at a fixed rate for WARM_S + seconds; trackers already ready. The latency
    histogram and the costs count from WARM_S on: the first orders of a fresh producer wait for
    its producer id and the topic's metadata (up to ~1 s), which is start-up, not steady state.
    Returns quantiles + costs."""
    base = sum(tracker_orders(port) for _, port in trackers)
    count = int(rate * (WARM_S + seconds))
    snap = {}

    def warmed_up():
        snap["before"] = [e2e_hist(port) for _, port in trackers]
        snap["cpu0"] = [proc_sample(p.pid)["cpu_s"] for p, _ in trackers]
        snap["tracked"] = sum(tracker_orders(port) for _, port in trackers) - base

    r = order_gen(name, topic, count, rate=rate, at=(WARM_S, warmed_up))
    if "before" not in snap:
        raise RuntimeError(f"{name}: the generator ended within its warm-up")
    before, cpu0 = snap["before"], snap["cpu0"]
    deadline = time.monotonic() + 60
    while sum(tracker_orders(port) for _, port in trackers) - base < count:
        if time.monotonic() > deadline:
            log(f"{name}: trackers saw only "
                f"{sum(tracker_orders(port) for _, port in trackers) - base} of {count}")
            break
        time.sleep(0.05)
    after = [e2e_hist(port) for _, port in trackers]
    samples = [proc_sample(p.pid) for p, _ in trackers]
    h = hist_sum([hist_delta(a, b) for a, b in zip(after, before)])
    q = quantiles_ms(h)
    q["buckets_nonzero"] = [[le, int(c - (h[1][i - 1] if i else 0))] for i, (le, c) in
                            enumerate(zip(*h)) if c - (h[1][i - 1] if i else 0) > 0]
    q.update(rate=rate, orders=count, warm_up_s=WARM_S, measured_orders=count - snap["tracked"],
             order_wall_s=r["wall_s"], order_cpu_s=r["cpu_s"],
             order_maxrss_mib=r.get("maxrss_mib"),
             tracker_cpu_s=sum(s["cpu_s"] - c for s, c in zip(samples, cpu0)),
             tracker_maxrss_mib=max(s["hwm_mib"] for s in samples))
    return q


def floor_run(topic, rate, seconds, linger):
    out = subprocess.run([FLOOR, "--bootstrap-servers", BOOT, "--topic", topic, "--rate", str(rate),
                          "--count", str(int(rate * seconds)), "--linger", str(linger)],
                         capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        log(f"floor rc {out.returncode}: {out.stderr[-500:]}")
    j = json.loads(out.stdout.strip().splitlines()[-1])
    j.pop("buckets", None)
    return j


def m6_e2e():
    create_topic("b6.e2e")
    create_topic("b6.floor")
    t = start_tracker("tracker_e2e", "b6.e2e", "bench-g6")
    try:
        wait_ready(t[1], t[0])
        q = e2e_run("order_e2e_1k", "b6.e2e", 1000, E2E_S, [t])
        R["e2e_1k"] = q
        R["e2e_p50_ms_1k"], R["e2e_p99_ms_1k"], R["e2e_p999_ms_1k"] = (q["p50_ms"], q["p99_ms"],
                                                                     q["p999_ms"])
        log(f"6 e2e at 1k/s: p50 {q['p50_ms']:.2f} p99 {q['p99_ms']:.2f} p99.9 {q['p999_ms']:.2f} ms")
        half = max(1000, int(R["order_generator_msgs_per_s"] / 2))
        q = e2e_run("order_e2e_half", "b6.e2e", half, 8, [t])
        R["e2e_half"] = q
        R["e2e_p50_ms_half"], R["e2e_p99_ms_half"], R["e2e_p999_ms_half"] = (
            q["p50_ms"], q["p99_ms"], q["p999_ms"])
        log(f"6 e2e at {half}/s: p50 {q['p50_ms']:.2f} p99 {q['p99_ms']:.2f} "
            f"p99.9 {q['p999_ms']:.2f} ms")
    finally:
        stop(t[0])
    for linger in (5, 0):
        f = floor_run("b6.floor", 1000, E2E_S, linger)
        R[f"floor_1k_linger{linger}"] = f
        log(f"6 floor at 1k/s linger {linger}: p50 {f['p50_ms']:.2f} p99 {f['p99_ms']:.2f} "
            f"p99.9 {f['p999_ms']:.2f} ms ({f['received']}/{f['count']})")
    R["floor_p50_ms_1k"] = R["floor_1k_linger5"]["p50_ms"]
    R["floor_p99_ms_1k"] = R["floor_1k_linger5"]["p99_ms"]
    R["floor_p999_ms_1k"] = R["floor_1k_linger5"]["p999_ms"]
    R["floor_p99_ms_1k_linger0"] = R["floor_1k_linger0"]["p99_ms"]
    half = R["e2e_half"]["rate"]
    f = floor_run("b6.floor", half, 8, 5)
    R["floor_half"] = f
    log(f"6 floor at {half}/s linger 5: p50 {f['p50_ms']:.2f} p99 {f['p99_ms']:.2f} ms")


def m8_growth(lines):
    n8 = max(N // 2, 1000)
    g = {"orders": n8, "partitions": {}, "trackers": {}}
    for parts in (1, 3, 12):
        topic = f"b8.p{parts}"
        create_topic(topic, parts)
        r = order_gen(f"order_gen_p{parts}", topic, n8, partitions=parts)
        got = topic_count(topic, parts)
        t = tracker_drain(f"tracker_p{parts}", topic, got, f"bench-g8p{parts}")
        etopic = f"b8.e2e.p{parts}"
        create_topic(etopic, parts)
        tr = start_tracker(f"tracker_e2e_p{parts}", etopic, f"bench-g8e{parts}")
        try:
            wait_ready(tr[1], tr[0])
            q = e2e_run(f"order_e2e_p{parts}", etopic, 1000, 8, [tr])
        finally:
            stop(tr[0])
        g["partitions"][parts] = {"order_generator_msgs_per_s": got / r["wall_s"],
                                  "tracker_msgs_per_s": t["msgs_per_s"], "e2e_1k": q}
        log(f"8 partitions {parts}: gen {got / r['wall_s']:.0f}/s tracker {t['msgs_per_s']:.0f}/s "
            f"e2e p99 {q['p99_ms']:.2f} ms")
    for k in (1, 2, 3):
        topic = f"b8.t{k}"
        create_topic(topic, 3)
        group = f"bench-g8t{k}"
        trs = [start_tracker(f"tracker_t{k}_{i}", topic, group) for i in range(k)]
        try:
            for p, port in trs:
                wait_ready(port, p, timeout=90)
            time.sleep(1)
            for p, port in trs:  # still ready after the last join's rebalance
                wait_ready(port, p, timeout=90)
            # Backlog while the Trackers are stopped (SIGSTOP), then all resume at once.
            for p, _ in trs:
                p.send_signal(signal.SIGSTOP)
            subprocess.run(f"head -n {n8} {lines} | kcat -P -b {BOOT} -t {topic} -K '\t'",
                           shell=True, check=True)
            t0 = time.monotonic()
            for p, _ in trs:
                p.send_signal(signal.SIGCONT)
            deadline = t0 + 60
            while sum(max(tracker_orders(port), 0) for _, port in trs) < n8:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            drain = time.monotonic() - t0
            done = sum(max(tracker_orders(port), 0) for _, port in trs)
            q = e2e_run(f"order_e2e_t{k}", topic, 1000, 8, trs)
        finally:
            for p, _ in trs:
                p.send_signal(signal.SIGCONT)
                stop(p)
        g["trackers"][k] = {"tracker_msgs_per_s": done / drain, "drained": done, "e2e_1k": q}
        log(f"8 trackers {k}: {done} in {drain:.2f}s = {done / drain:.0f}/s, e2e p99 "
            f"{q['p99_ms']:.2f} ms")
    R["growth"] = g


def m_steady():
    if STEADY_S <= 0:
        skipped.append("steady RSS run (BENCH_STEADY_S=0)")
        return
    create_topic("b9.steady")
    t = start_tracker("tracker_steady", "b9.steady", "bench-g9")
    wait_ready(t[1], t[0])
    port = free_port()
    o = start("order_steady", [ORDER, "--bootstrap-servers", BOOT, "--topic", "b9.steady",
                               "--http-listen", f"127.0.0.1:{port}", "--log-level", "warn",
                               "--generate-rate", str(STEADY_RATE)])
    samples = []
    try:
        wait_ready(port, o)
        t0 = time.monotonic()
        while time.monotonic() - t0 < STEADY_S:
            time.sleep(10)
            so, st = proc_sample(o.pid), proc_sample(t[0].pid)
            samples.append({"t_s": round(time.monotonic() - t0, 1), "order_rss_mib": so["rss_mib"],
                            "tracker_rss_mib": st["rss_mib"], "tracker_orders": tracker_orders(t[1])})
    finally:
        stop(o)
        stop(t[0])
    R["steady"] = {"rate": STEADY_RATE, "seconds": STEADY_S, "samples": samples}
    log(f"steady: order RSS {samples[0]['order_rss_mib']:.1f} -> {samples[-1]['order_rss_mib']:.1f} "
        f"MiB, tracker {samples[0]['tracker_rss_mib']:.1f} -> {samples[-1]['tracker_rss_mib']:.1f} MiB")


# ---------------------------------------------------------------- report
def machine():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(open("/proc/meminfo").readline().split()[1]) // 1024
    import confluent_kafka
    kcat_v = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    m = re.search(r"Version ([\d.]+)", kcat_v)
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem_mib": mem, "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME", "") if hasattr(
                platform, "freedesktop_os_release") else "",
            "librdkafka": confluent_kafka.libversion()[0], "confluent_kafka": confluent_kafka.version()[0],
            "kcat": m.group(1) if m else kcat_v.split("\n")[0], "kafka": "4.4.0 (KRaft, 1 node)"}


def main():
    global BOOT, ADMIN
    global ORDER, TRACKER, FLOOR
    # Copies: other builds in this tree may relink build/bin while the benchmark runs.
    snap = []
    for exe in (ORDER, TRACKER, FLOOR):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: run tests/bench/run.sh (it builds first)")
        dst = os.path.join(TMP, os.path.basename(exe))
        shutil.copy2(exe, dst)
        snap.append(dst)
    ORDER, TRACKER, FLOOR = snap
    R["machine"] = machine()
    R["load_avg_start"] = load()
    R["config"] = {"orders": N, "e2e_seconds": E2E_S, "wrk_connections": WRK_C,
                   "wrk_seconds": WRK_D, "steady_seconds": STEADY_S, "steady_rate": STEADY_RATE,
                   "topic": "3 partitions, replication 1 (growth: 1/3/12)"}
    log(f"temp dir {TMP}; {N} orders per run; load {R['load_avg_start']}")
    BOOT = start_broker(KDIR)
    log(f"broker {BOOT}")
    ADMIN = AdminClient({"bootstrap.servers": BOOT})
    lines = os.path.join(TMP, "orders.lines")
    with open(lines, "w") as f:
        subprocess.run([PY, os.path.join(HERE, "gen_lines.py"), str(N)], stdout=f, check=True)
    sizes = [len(l.split(b"\t", 1)[1]) - 1 for l in open(lines, "rb").readlines()[:1000]]
    R["payload_bytes"] = sum(sizes) / len(sizes)
    try:
        steps = [("1 kcat produce", lambda: m1_kcat_produce(lines)),
                 ("2 order generator", m2_order_generator),
                 ("3 HTTP path", m3_http),
                 ("4 seed python producer", m4_python_producer),
                 ("5 consume", m5_consume),
                 ("10 responsiveness", m_responsive),
                 ("6 end-to-end latency", m6_e2e),
                 ("8 growth", lambda: m8_growth(lines)),
                 ("steady RSS run", m_steady)]
        for name, fn in steps:
            try:
                fn()
            except Exception as e:  # one failed measurement must not lose the others
                log(f"{name} FAILED: {e!r}")
                skipped.append(f"{name}: failed ({e!r})")
    finally:
        for p in list(children):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                stop(p)
        subprocess.run([KAFKA_SH, "stop", "--dir", KDIR], capture_output=True)
        R["load_avg_end"] = load()
        R["total_s"] = time.monotonic() - T_START
        R["skipped"] = skipped
        import report
        report.write(R, ROOT)
        log(f"wrote BENCHMARKS.md and bench-results.json in {R['total_s']:.0f}s; logs in {TMP}")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
