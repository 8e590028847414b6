# The Order service's HTTP path (issue 16), side by side in one run against its own broker:
#   kcat -P          produce rate of N orders (the reference)
#   wrk              -t2 -c256 POST /orders, closed loop: 201/s, latency, CPU per 201, peak RSS,
#                    once per producer setting (BENCH_HTTP_SETTINGS)
#   fixed rate       bench_http_load at BENCH_HTTP_RATE (5,000/s) over 256 connections: p99 of the
#                    201 latency, counted from each request's scheduled time (the wrk2 approach),
#                    against the generator path's delivery p99 at the same rate
#   10k connections  bench_http_load with 10,000 keep-alive connections open at once at the same
#                    fixed rate: errors, CPU per 201, peak RSS
# Usage: /usr/bin/python3 tests/bench/http_bench.py [--build] [--bin-dir build/bin] [--json out.json]
#        [--skip kcat,wrk,rate,many]; tests/bench/run.sh runs it with --build before its own part.
# Needs wrk, kcat and the release build of order-service and bench_http_load (tests/bench/run.sh
# builds them). Starts everything it measures and stops it by pid; prints a Markdown summary.
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

KCAT_N = int(os.environ.get("BENCH_HTTP_KCAT_N", "1000000"))
RATE = int(os.environ.get("BENCH_HTTP_RATE", "5000"))
RATE_S = int(os.environ.get("BENCH_HTTP_RATE_S", "15"))
MANY = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "10000"))
# Producer settings for the wrk runs: ';'-separated, each a space-separated list of -X values.
SETTINGS = [s.split() for s in os.environ.get(
    "BENCH_HTTP_SETTINGS",
    ";linger.ms=0;linger.ms=1;linger.ms=20;socket.nagle.disable=true").split(";")]

# The process helpers of the main benchmark: its temp dir, its list of children (stopped by pid),
# start/stop, /proc sampling, readiness.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

ROOT, HERE, KAFKA_SH, PY, WRK_C, WRK_D = b.ROOT, b.HERE, b.KAFKA_SH, b.PY, b.WRK_C, b.WRK_D

TMP = b.TMP
children = b.children
free_port, proc_sample, start, stop, get, wait_ready = (b.free_port, b.proc_sample, b.start,
                                                        b.stop, b.http, b.wait_ready)
BROKER_PID = 0
T0 = time.monotonic()


def log(msg):
    print(f"[http-bench {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def raise_fd_limit():
    # 10,000 connections need 10,000 descriptors in the client and as many in the service.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * MANY + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def histogram(port, name):
    """Cumulative buckets {le: count} of a Prometheus histogram from /metrics."""
    _, text = get(f"http://127.0.0.1:{port}/metrics")
    out = {}
    for m in re.finditer(name + r'_bucket\{le="([^"]+)"\} (\S+)', text):
        out[float("inf") if m.group(1) == "+Inf" else float(m.group(1))] = float(m.group(2))
    return out


def quantile_ms(q, after, before):
    """Linear interpolation inside the bucket, as Prometheus' histogram_quantile does."""
    les = sorted(after)
    counts = [after[le] - before.get(le, 0) for le in les]
    total = counts[-1] if counts else 0
    if total <= 0:
        return float("nan")
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in zip(les, counts):
        if c >= rank:
            if le == float("inf"):
                return prev_le * 1000
            return (prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9)) * 1000
        prev_le, prev_c = le, c
    return float("nan")


def create_topic(name):
    subprocess.run([KAFKA_SH, "cli", "--dir", KDIR, "kafka-topics", "--create", "--topic", name,
                    "--partitions", "3", "--replication-factor", "1"],
                   check=True, capture_output=True)


def topic_count(name):
    r = subprocess.run(["kcat", "-b", BOOT, "-C", "-t", name, "-o", "beginning", "-e", "-q",
                        "-f", "\n"], capture_output=True, timeout=300)
    return r.stdout.count(b"\n")


def kcat_produce():
    create_topic("h.kcat")
    lines = os.path.join(TMP, "orders.lines")
    with open(lines, "w") as f:
        subprocess.run([PY, os.path.join(HERE, "gen_lines.py"), str(KCAT_N)], stdout=f, check=True)
    t = time.monotonic()
    subprocess.run(["kcat", "-P", "-b", BOOT, "-t", "h.kcat", "-K", "\t", "-l", lines], check=True)
    wall = time.monotonic() - t
    got = topic_count("h.kcat")
    return {"n": got, "wall_s": wall, "msgs_per_s": got / wall}


def order_service(name, topic, extra=()):
    port = free_port()
    p = start(name, [ORDER, "--bootstrap-servers", BOOT, "--topic", topic, "--http-listen",
                     f"127.0.0.1:{port}", "--log-level", "warn", *extra])
    wait_ready(port, p)
    return p, port


def wrk_run(setting, index):
    topic = f"h.wrk{index}"
    create_topic(topic)
    extra = [a for x in setting for a in ("-X", x)]
    p, port = order_service(f"wrk{index}", topic, extra)
    try:
        # Warm-up: connections, metadata, the first batches; not measured.
        subprocess.run(["wrk", "-t2", f"-c{WRK_C}", "-d2s", "-s",
                        os.path.join(HERE, "post_orders.lua"), f"http://127.0.0.1:{port}/orders"],
                       capture_output=True)
        before = proc_sample(p.pid)
        broker_before = proc_sample(BROKER_PID)["cpu_s"] if BROKER_PID else 0.0
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.monotonic()
        wrk = subprocess.run(["wrk", "-t2", f"-c{WRK_C}", f"-d{WRK_D}s", "--timeout", "10s", "-s",
                              os.path.join(HERE, "post_orders.lua"),
                              f"http://127.0.0.1:{port}/orders"], capture_output=True, text=True)
        after = proc_sample(p.pid)
        wall = time.monotonic() - t
        broker_after = proc_sample(BROKER_PID)["cpu_s"] if BROKER_PID else 0.0
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        rc = stop(p)
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime - children_before.ru_utime -
               children_before.ru_stime)
    m = re.search(r"^BENCH (.*)$", wrk.stdout, re.M)
    if not m:
        raise RuntimeError("wrk gave no BENCH line: " + wrk.stdout + wrk.stderr)
    kv = {k: int(v) for k, v in (x.split("=") for x in m.group(1).split())}
    created = kv["created"]
    cpu = after["cpu_s"] - before["cpu_s"]
    return {"setting": " ".join(setting) or "defaults", "created": created, "other": kv["other"],
            "errors": sum(v for k, v in kv.items() if k.startswith("errors_")),
            "per_s": created / (kv["duration_us"] / 1e6), "p50_ms": kv["p50_us"] / 1000,
            "p99_ms": kv["p99_us"] / 1000, "cpu_us_per_201": cpu / max(created, 1) * 1e6,
            "peak_rss_mib": after["hwm_mib"], "exit": rc,
            # Where the machine's two CPUs went during the run (CPUs busy = CPU s / wall s).
            "cpus_service": cpu / wall, "cpus_broker": (broker_after - broker_before) / wall,
            "cpus_wrk": wrk_cpu / wall}


def load_run(name, connections, rate, seconds):
    topic = f"h.{name}"
    create_topic(topic)
    extra = ["--max-connections", str(connections + 1024)] if connections > 4096 else []
    p, port = order_service(name, topic, extra)
    try:
        h0 = histogram(port, "order_delivery_latency_seconds")
        before = proc_sample(p.pid)
        r = subprocess.run([LOAD, "--port", str(port), "--rate", str(rate), "--seconds",
                            str(seconds), "--connections", str(connections)],
                           capture_output=True, text=True, timeout=seconds + 300)
        after = proc_sample(p.pid)
        h1 = histogram(port, "order_delivery_latency_seconds")
        _, metrics = get(f"http://127.0.0.1:{port}/metrics")
    finally:
        rc = stop(p)
    m = re.search(r"^HTTPLOAD (.*)$", r.stdout, re.M)
    if not m:
        raise RuntimeError("bench_http_load gave no HTTPLOAD line: " + r.stdout + r.stderr)
    kv = {k: float(v) for k, v in (x.split("=") for x in m.group(1).split())}
    created = kv["created"]
    return {"connections": int(kv["connections"]), "rate": rate, "created": int(created),
            "other": int(kv["other"]), "errors": int(kv["errors"]), "unsent": int(kv["unsent"]),
            "p50_ms": kv["p50_us"] / 1000, "p99_ms": kv["p99_us"] / 1000,
            "max_ms": kv["max_us"] / 1000,
            "delivery_p99_ms": quantile_ms(0.99, h1, h0),
            "cpu_us_per_201": (after["cpu_s"] - before["cpu_s"]) / max(created, 1) * 1e6,
            "peak_rss_mib": after["hwm_mib"], "exit": rc}


def generator_run(rate, seconds):
    """The generator path at the same rate: its delivery p99 from the service's own histogram."""
    topic = "h.gen"
    create_topic(topic)
    port = free_port()
    p = start("gen", [ORDER, "--bootstrap-servers", BOOT, "--topic", topic, "--http-listen",
                      f"127.0.0.1:{port}", "--log-level", "warn", "--generate-rate", str(rate)])
    try:
        wait_ready(port, p)
        time.sleep(2)  # warm-up, as for the HTTP runs
        h0 = histogram(port, "order_delivery_latency_seconds")
        before = proc_sample(p.pid)
        time.sleep(seconds)
        after = proc_sample(p.pid)
        h1 = histogram(port, "order_delivery_latency_seconds")
    finally:
        stop(p)
    n = max(h1.get(float("inf"), 0) - h0.get(float("inf"), 0), 1)
    return {"rate": rate, "delivered": int(n), "p50_ms": quantile_ms(0.5, h1, h0),
            "p99_ms": quantile_ms(0.99, h1, h0),
            "cpu_us_per_order": (after["cpu_s"] - before["cpu_s"]) / n * 1e6}


def main():
    global ORDER, LOAD, BOOT, KDIR, BROKER_PID
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--json", default="")
    ap.add_argument("--skip", default="", help="comma list of kcat,wrk,rate,many")
    ap.add_argument("--build", action="store_true",
                    help="build order-service and bench_http_load with the release preset first")
    args = ap.parse_args()
    if args.build:
        subprocess.run(["cmake", "--preset", "release"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", "--preset", "release", "--target", "order-service",
                        "bench_http_load"], cwd=ROOT, check=True)
    skip = set(filter(None, args.skip.split(",")))
    ORDER = os.path.join(args.bin_dir, "order-service")
    LOAD = os.path.join(args.bin_dir, "bench_http_load")
    KDIR = os.path.join(TMP, "kafka")
    fds = raise_fd_limit()
    R = {"load_avg_start": os.getloadavg(), "fd_limit": fds}
    BOOT = b.start_broker(KDIR)
    log(f"broker {BOOT}, temp dir {TMP}")
    pid = subprocess.run([KAFKA_SH, "pid", "0", "--dir", KDIR], capture_output=True, text=True)
    BROKER_PID = int(pid.stdout.strip()) if pid.returncode == 0 else 0
    try:
        if "kcat" not in skip:
            R["kcat"] = kcat_produce()
            log(f"kcat -P: {R['kcat']['msgs_per_s']:.0f}/s")
        if "wrk" not in skip:
            R["wrk"] = []
            for i, s in enumerate(SETTINGS):
                r = wrk_run(s, i)
                R["wrk"].append(r)
                log(f"wrk {r['setting']}: {r['per_s']:.0f} 201/s, p99 {r['p99_ms']:.1f} ms, "
                    f"{r['cpu_us_per_201']:.1f} us CPU per 201, peak RSS {r['peak_rss_mib']:.0f} MiB, "
                    f"other {r['other']}, errors {r['errors']}; CPUs busy: service "
                    f"{r['cpus_service']:.2f}, broker {r['cpus_broker']:.2f}, wrk {r['cpus_wrk']:.2f}")
        if "rate" not in skip:
            R["generator"] = generator_run(RATE, RATE_S)
            log(f"generator at {RATE}/s: delivery p99 {R['generator']['p99_ms']:.2f} ms")
            R["fixed_rate"] = load_run("rate", 256, RATE, RATE_S)
            r = R["fixed_rate"]
            log(f"fixed rate {RATE}/s: 201 p99 {r['p99_ms']:.2f} ms (delivery p99 "
                f"{r['delivery_p99_ms']:.2f} ms), {r['cpu_us_per_201']:.1f} us CPU per 201")
        if "many" not in skip:
            R["many"] = load_run("many", MANY, RATE, RATE_S)
            r = R["many"]
            log(f"{r['connections']} connections at {RATE}/s: created {r['created']}, other "
                f"{r['other']}, errors {r['errors']}, p99 {r['p99_ms']:.2f} ms, "
                f"{r['cpu_us_per_201']:.1f} us CPU per 201, peak RSS {r['peak_rss_mib']:.0f} MiB")
    finally:
        for p in list(children):
            stop(p, timeout=5)
        subprocess.run([KAFKA_SH, "stop", "--dir", KDIR], capture_output=True)
    R["load_avg_end"] = os.getloadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(R, f, indent=1)
    print(json.dumps(R, indent=1))
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
