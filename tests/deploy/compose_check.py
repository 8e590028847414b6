#!/usr/bin/env python3
"""Checks deploy/Dockerfile and the docker compose files without a Docker engine.

Usage: compose_check.py BIN_DIR    (BIN_DIR holds the built order-service and tracker-service)

What it holds the deployment to:
  - both compose files parse; every service has an image or a build;
  - the brokers, both services and the topic-init job are wired as the README says: healthchecks,
    depends_on with conditions, restart policy, stop_grace_period longer than the services'
    SHUTDOWN_TIMEOUT_MS, published ports that match HTTP_LISTEN and let the Tracker scale;
  - every environment variable given to a service is one its binary knows (the `env NAME` tokens
    of `BIN --help`; RDKAFKA_* is librdkafka passthrough), so a renamed option breaks this test
    rather than a deployment;
  - the Kafka image is apache/kafka at the version of deploy/local/pom.xml, and each node's
    settings equal what deploy/local/kafka.sh writes for a cluster of that size (the script's own
    write_server_properties is run to get them);
  - topic-init creates the services' topic and dead-letter topic with the services' own
    partition, replication and min.insync.replicas settings;
  - both files are valid for Debian 12's docker-compose 1.29.2 as well as Compose v2 (no
    top-level `name:`), and each image variable (KAFKA_IMAGE) has a default and a comment;
  - the Dockerfile's build stage installs only packages deploy/install-deps.sh installs, builds
    librdkafka with deploy/install-librdkafka.sh and the services with the release preset, and its
    runtime stage is Debian 12 slim, runs as a non-root user and stops with SIGTERM.
Prints one line per check (and why it failed), then "N passed, M failed"; exits 1 on a failure.
"""

import base64
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.3-brokers.yml"]
BINARIES = ("order-service", "tracker-service")
KAFKA_IMAGE = "apache/kafka"
# Time a service gets after SHUTDOWN_TIMEOUT_MS to log, close and exit before Docker kills it.
GRACE_MARGIN_MS = 5000
# Per-node settings that necessarily differ between a loopback test broker and a container.
TOPOLOGY_KEYS = {
    "node.id", "listeners", "advertised.listeners", "listener.security.protocol.map", "log.dirs",
    "controller.quorum.bootstrap.servers", "controller.quorum.voters",
}


class Problem(Exception):
    """A check cannot even be evaluated (missing file, unparsable input)."""


# ------------------------------------------------------------------------------------------------
# Inputs

def service_options(bin_dir, binary):
    """{ENV_NAME: default or None} and whether RDKAFKA_* passthrough exists, from BIN --help."""
    path = Path(bin_dir) / binary
    if not os.access(path, os.X_OK):
        raise Problem(f"{path} is not an executable (build first, or pass the right BIN_DIR)")
    try:
        run = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Problem(f"{path} --help: {e}") from e
    if run.returncode != 0:
        raise Problem(f"{path} --help exited {run.returncode}: {run.stderr.strip()}")
    options = {}
    # Boost.Program_options prints each option at a two-space indent; its description wraps onto
    # deeper-indented lines, sometimes between "env" and the name.
    for entry in re.split(r"\n(?=  -)", run.stdout):
        flat = " ".join(entry.split())
        env = re.search(r"[\[(]env \$?([A-Z][A-Z0-9_]*)[\])]", flat)
        if env:
            default = re.search(r"\(=([^)]*)\)", flat)
            options[env.group(1)] = default.group(1) if default else None
    if not options:
        raise Problem(f"{path} --help names no environment variables (no 'env $NAME' tokens)")
    return options, "RDKAFKA_" in run.stdout


def pom_kafka_version():
    pom = DEPLOY / "local" / "pom.xml"
    try:
        root = ET.parse(pom).getroot()
    except (OSError, ET.ParseError) as e:
        raise Problem(f"cannot read {pom}: {e}") from e
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:kafka.version", namespaces=ns)
    if not version:
        raise Problem(f"{pom} has no <properties><kafka.version>")
    return version.strip()


_broker_props_cache = {}


def local_broker_properties(nodes):
    """server.properties of node 0 as deploy/local/kafka.sh writes it for an N-node cluster.

    Runs the script's own write_server_properties (with its `main "$@"` line cut off, so loading
    it runs nothing) rather than parsing its text, so whatever the script computes is compared."""
    if nodes in _broker_props_cache:
        return _broker_props_cache[nodes]
    script = DEPLOY / "local" / "kafka.sh"
    try:
        text = script.read_text()
    except OSError as e:
        raise Problem(f"cannot read {script}: {e}") from e
    body, n = re.subn(r'^main "\$@"[ \t]*$', "", text, flags=re.M)
    if n != 1 or "write_server_properties()" not in text:
        raise Problem(f"{script}: expected a write_server_properties() function and a final "
                      "`main \"$@\"` line; update compose_check.py to match the script")
    driver = ('set -euo pipefail; source "$1"; DIR=$2; NODES=$3; PORT=19092; SASL=0; '
              'SASL_MECHS=""; CLUSTER_ID=compose-check; DIR_IDS=$(seq -s " " "$NODES"); '
              'write_server_properties 0; cat "$(node_dir 0)/server.properties"')
    with tempfile.TemporaryDirectory(prefix="compose-check-") as tmp:
        lib = Path(tmp) / "kafka-lib.sh"
        lib.write_text(body)
        run = subprocess.run(["bash", "-c", driver, "compose-check", str(lib),
                              str(Path(tmp) / "cluster"), str(nodes)],
                             capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise Problem(f"running {script}'s write_server_properties failed: {run.stderr.strip()}")
    props = {}
    for line in run.stdout.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    if "process.roles" not in props:
        raise Problem(f"{script} wrote no process.roles; its output was:\n{run.stdout}")
    _broker_props_cache[nodes] = props
    return props


def parse_dockerfile(path):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        instructions.append((word.upper(), rest.strip()))
        current = ""
    return instructions


# ------------------------------------------------------------------------------------------------
# Compose helpers

def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out
    return {k: scalar(v) for k, v in env.items()}


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def command_words(value):
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def duration_ms(value):
    """Compose duration ("30s", "1m30s", "1500ms") in milliseconds."""
    text = str(value).strip()
    units = {"h": 3600000, "m": 60000, "s": 1000, "ms": 1, "us": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise Problem(f"'{text}' is not a duration like 30s or 1m30s")
    return sum(float(n) * units[u] for n, u in parts)


def ports_of(service):
    """[(host part or None, container port)] from short or long port syntax."""
    out = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            out.append((None if published is None else str(published), int(entry["target"])))
            continue
        text = str(entry).split("/")[0]
        text = re.sub(r"^\[[^]]*\]:", "", text)  # [ipv6]:
        parts = text.split(":")
        container = parts[-1]
        host = parts[-2] if len(parts) >= 2 else None
        out.append((host, int(container.split("-")[0])))
    return out


def listeners(value):
    """{listener name: (host, port)} from a Kafka listeners string."""
    out = {}
    for item in filter(None, (s.strip() for s in str(value or "").split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_]+)://([^:]*):(\d+)", item)
        if not m:
            raise Problem(f"cannot parse listener '{item}'")
        out[m.group(1)] = (m.group(2), int(m.group(3)))
    return out


def kafka_env_name(prop):
    # The apache/kafka image's mapping: '.' -> '_', '_' -> '__', '-' -> '___', upper case.
    return "KAFKA_" + prop.replace("_", "__").replace("-", "___").replace(".", "_").upper()


def image_of(service):
    """The image a user gets: `${VAR:-default}` (how the files let CI substitute an image) gives
    its default."""
    image = str(service.get("image", ""))
    m = re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*:-([^}]+)\}", image)
    return m.group(1) if m else image


def is_kafka_image(service):
    return image_of(service).split(":")[0].split("@")[0] == KAFKA_IMAGE


def kafka_nodes(services):
    return {name: s for name, s in services.items()
            if is_kafka_image(s) and "broker" in env_of(s).get("KAFKA_PROCESS_ROLES", "")}


def topic_jobs(services):
    return {name: s for name, s in services.items()
            if is_kafka_image(s) and "KAFKA_PROCESS_ROLES" not in env_of(s)}


def app_services(services):
    """{name: (binary, service)} for services that run one of our binaries."""
    out = {}
    for name, s in services.items():
        words = command_words(s.get("command"))
        if words and os.path.basename(words[0]) in BINARIES:
            out[name] = (os.path.basename(words[0]), s)
    return out


def internal_address(name, node):
    """(host, port) other containers use for this node: an advertised listener on its own name."""
    env = env_of(node)
    names = {name, str(node.get("hostname", name))}
    for host, port in listeners(env.get("KAFKA_ADVERTISED_LISTENERS")).values():
        if host in names:
            return host, port
    raise Problem(f"{name}: no advertised listener on its compose name ({name}:PORT)")


def host_port_range(host_part):
    if host_part is None:
        return None
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", host_part)
    if not m:
        return None
    low = int(m.group(1))
    return low, int(m.group(2) or low)


# ------------------------------------------------------------------------------------------------
# Checks on one compose file: each returns a list of problems (empty: passed).

def check_images_or_builds(doc, ctx):
    problems = []
    for name, s in doc["services"].items():
        if not s.get("image") and not s.get("build"):
            problems.append(f"service {name} has neither image nor build")
    for name, (_, s) in app_services(doc["services"]).items():
        build = s.get("build")
        if not build:
            problems.append(f"{name}: no build section (the image comes from deploy/Dockerfile)")
            continue
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        root = (ctx["path"].parent / context).resolve()
        if root != REPO:
            problems.append(f"{name}: build context {context} is {root}, not the repo root "
                            f"{REPO} (deploy/Dockerfile COPYs the whole tree)")
        elif (root / dockerfile).resolve() != (DEPLOY / "Dockerfile").resolve():
            problems.append(f"{name}: builds {dockerfile}, not deploy/Dockerfile")
    if not problems and set(b for b, _ in app_services(doc["services"]).values()) != set(BINARIES):
        problems.append("expected services running both order-service and tracker-service "
                        "(as their command)")
    return problems


# What Debian 12's docker-compose 1.29.2 accepts at the top level (Compose v2 accepts it too);
# `name:` is newer and makes 1.29.2 refuse the whole file.
COMPOSE_V1_TOP_LEVEL = {"version", "services", "volumes", "networks", "configs", "secrets"}


def check_compose_v1_keys(doc, ctx):
    return [f"top-level `{key}:` is refused by Debian's docker-compose 1.29.2"
            for key in doc if key not in COMPOSE_V1_TOP_LEVEL and not str(key).startswith("x-")]


def check_image_variables(doc, ctx):
    """Every ${VAR} in an image name has a default and is documented in the file's comments."""
    text = ctx["path"].read_text()
    comments = "\n".join(l for l in text.splitlines() if l.lstrip().startswith("#"))
    problems = []
    for name, s in doc["services"].items():
        for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", str(s.get("image", ""))):
            if not re.search(r"\$\{" + var + r":-[^}]+\}", str(s["image"])):
                problems.append(f"{name}: image variable {var} has no default")
            if var not in comments:
                problems.append(f"{name}: image variable {var} is not documented in a comment")
    return problems


def check_kafka_image(doc, ctx):
    version = pom_kafka_version()
    problems = []
    kafka = [n for n, s in doc["services"].items() if is_kafka_image(s)]
    if not kafka_nodes(doc["services"]):
        problems.append(f"no {KAFKA_IMAGE} service with KAFKA_PROCESS_ROLES")
    for name in kafka:
        image = image_of(doc["services"][name])
        tag = image.split("@")[0].partition(":")[2]
        if tag != version:
            problems.append(f"{name}: image {image}, but the tests run Kafka {version} "
                            f"(deploy/local/pom.xml): use {KAFKA_IMAGE}:{version}")
    return problems


def check_healthchecks(doc, ctx):
    problems = []
    services = doc["services"]
    for name in list(kafka_nodes(services)) + list(app_services(services)):
        hc = services[name].get("healthcheck") or {}
        test = hc.get("test")
        if not test or hc.get("disable") or test in (["NONE"], "NONE"):
            problems.append(f"{name}: no healthcheck")
    for name, (binary, s) in app_services(services).items():
        test = " ".join(command_words((s.get("healthcheck") or {}).get("test")))
        port = http_port(s, ctx["options"][binary][0])
        if "/healthz" not in test or f":{port}/" not in test:
            problems.append(f"{name}: healthcheck '{test}' should GET :{port}/healthz")
    return problems


def check_depends_on(doc, ctx):
    problems = []
    services = doc["services"]
    nodes = kafka_nodes(services)
    jobs = topic_jobs(services)
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, s in services.items():
        deps = s.get("depends_on")
        if deps is None:
            continue
        if not isinstance(deps, dict):
            problems.append(f"{name}: depends_on is a list; use the long form with a condition")
            continue
        for dep, spec in deps.items():
            condition = (spec or {}).get("condition")
            if condition not in allowed:
                problems.append(f"{name}: depends_on {dep} has no condition")
            if dep not in services:
                problems.append(f"{name}: depends_on unknown service {dep}")
    for name in list(app_services(services)) + list(jobs):
        deps = services[name].get("depends_on") or {}
        deps = deps if isinstance(deps, dict) else {}
        for node in nodes:
            if (deps.get(node) or {}).get("condition") != "service_healthy":
                problems.append(f"{name}: must wait for {node} with condition: service_healthy")
    for name in app_services(services):
        deps = services[name].get("depends_on") or {}
        deps = deps if isinstance(deps, dict) else {}
        for job in jobs:
            if (deps.get(job) or {}).get("condition") != "service_completed_successfully":
                problems.append(f"{name}: must wait for {job} with "
                                "condition: service_completed_successfully")
    return problems


def check_service_env(doc, ctx):
    problems = []
    for name, (binary, s) in app_services(doc["services"]).items():
        known, passthrough = ctx["options"][binary]
        for var in env_of(s):
            if var in known:
                continue
            if passthrough and var.startswith("RDKAFKA_") and len(var) > len("RDKAFKA_"):
                continue
            problems.append(f"{name}: {var} is not an option of {binary} (its --help lists "
                            f"{', '.join(sorted(known))}; librdkafka properties go as RDKAFKA_*)")
    return problems


def http_port(service, known):
    listen = env_of(service).get("HTTP_LISTEN") or known.get("HTTP_LISTEN") or ""
    m = re.search(r":(\d+)$", listen)
    if not m:
        raise Problem(f"HTTP_LISTEN '{listen}' is not HOST:PORT")
    return int(m.group(1))


def check_service_runtime(doc, ctx):
    problems = []
    for name, (binary, s) in app_services(doc["services"]).items():
        known = ctx["options"][binary][0]
        env = env_of(s)
        if s.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {s.get('restart')!r}, want unless-stopped")
        timeout = env.get("SHUTDOWN_TIMEOUT_MS") or known.get("SHUTDOWN_TIMEOUT_MS")
        if "stop_grace_period" not in s:
            problems.append(f"{name}: no stop_grace_period (Docker's 10 s default)")
        elif timeout is None or not str(timeout).isdigit():
            problems.append(f"{name}: SHUTDOWN_TIMEOUT_MS is not known ({timeout!r})")
        else:
            grace = duration_ms(s["stop_grace_period"])
            if grace < int(timeout) + GRACE_MARGIN_MS:
                problems.append(f"{name}: stop_grace_period {s['stop_grace_period']} must exceed "
                                f"SHUTDOWN_TIMEOUT_MS={timeout} by {GRACE_MARGIN_MS // 1000}s, "
                                "or Docker kills it mid-flush")
        if "SHUTDOWN_TIMEOUT_MS" not in known:
            problems.append(f"{binary} --help has no SHUTDOWN_TIMEOUT_MS")
    return problems


def check_ports(doc, ctx):
    problems = []
    for name, (binary, s) in app_services(doc["services"]).items():
        port = http_port(s, ctx["options"][binary][0])
        published = ports_of(s)
        for host, container in published:
            if container != port:
                problems.append(f"{name}: publishes container port {container}, but HTTP_LISTEN "
                                f"is on {port}")
        if binary == "order-service" and not published:
            problems.append(f"{name}: the HTTP API on {port} is not published")
        if binary == "tracker-service":
            # `--scale tracker-service=3` needs a host port per replica (or none at all).
            if s.get("container_name"):
                problems.append(f"{name}: container_name prevents --scale")
            for host, _ in published:
                rng = host_port_range(host)
                if rng is not None and rng[1] - rng[0] + 1 < 3:
                    problems.append(f"{name}: host port {host} is one port; --scale "
                                    "tracker-service=3 needs a range like 8081-8083")
        elif s.get("container_name"):
            problems.append(f"{name}: container_name set; compose names containers itself")
    return problems


def check_bootstrap(doc, ctx):
    problems = []
    services = doc["services"]
    nodes = kafka_nodes(services)
    want = {internal_address(n, s) for n, s in nodes.items()}
    for name, (binary, s) in app_services(services).items():
        value = env_of(s).get("KAFKA_BOOTSTRAP_SERVERS") or ""
        got = set()
        for item in filter(None, (x.strip() for x in value.split(","))):
            host, _, port = item.rpartition(":")
            got.add((host, int(port) if port.isdigit() else port))
        if got != want:
            problems.append(f"{name}: KAFKA_BOOTSTRAP_SERVERS={value!r}, want all brokers on "
                            f"the compose network: "
                            f"{','.join(f'{h}:{p}' for h, p in sorted(want))}")
    return problems


def check_kafka_cluster(doc, ctx):
    """The KRaft wiring: ids, quorum, listeners, data volumes."""
    problems = []
    services = doc["services"]
    nodes = kafka_nodes(services)
    declared_volumes = set((doc.get("volumes") or {}).keys())
    cluster_ids, voters_seen, node_ids, volumes_seen = set(), set(), {}, {}
    expected_voters = set()
    for name, s in nodes.items():
        env = env_of(s)
        cid = env.get("CLUSTER_ID", "")
        cluster_ids.add(cid)
        try:
            ok = len(base64.urlsafe_b64decode(cid + "==")) == 16 and len(cid) == 22
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{name}: CLUSTER_ID {cid!r} is not a Kafka uuid (22 base64url chars)")
        node_id = env.get("KAFKA_NODE_ID", "")
        if node_id in node_ids:
            problems.append(f"{name}: KAFKA_NODE_ID {node_id} also used by {node_ids[node_id]}")
        node_ids[node_id] = name
        if env.get("KAFKA_PROCESS_ROLES") != "broker,controller":
            problems.append(f"{name}: KAFKA_PROCESS_ROLES should be broker,controller (combined)")
        lst = listeners(env.get("KAFKA_LISTENERS"))
        adv = listeners(env.get("KAFKA_ADVERTISED_LISTENERS"))
        proto = dict(p.split(":", 1) for p in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                                                       "").split(",") if ":" in p)
        for lname in set(lst) | set(adv):
            if lname not in proto:
                problems.append(f"{name}: listener {lname} missing from the protocol map")
        controller = env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "")
        if controller not in lst:
            problems.append(f"{name}: no {controller or 'controller'} listener in KAFKA_LISTENERS")
        else:
            expected_voters.add(f"{node_id}@{s.get('hostname', name)}:{lst[controller][1]}")
        voters_seen.add(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", ""))
        # A listener for the host: advertised as localhost:P and published as P.
        host_facing = [(h, p) for h, p in adv.values() if h in ("localhost", "127.0.0.1")]
        published = {(h, c) for h, c in ports_of(s)}
        for h, p in host_facing:
            lname = next(n for n, hp in adv.items() if hp == (h, p))
            container = lst.get(lname, (None, None))[1]
            if (str(p), container) not in published:
                problems.append(f"{name}: advertises {h}:{p} to host clients but does not "
                                f"publish host port {p} to its {lname} listener")
        if not host_facing:
            problems.append(f"{name}: no listener advertised on localhost for host clients")
        log_dir = env.get("KAFKA_LOG_DIRS", "")
        mounted = None
        for v in s.get("volumes") or []:
            src, _, dst = (v.partition(":") if isinstance(v, str)
                           else (v.get("source", ""), ":", v.get("target", "")))
            if dst.split(":")[0] == log_dir:
                mounted = src
        if mounted is None or mounted not in declared_volumes:
            problems.append(f"{name}: KAFKA_LOG_DIRS {log_dir!r} is not on a named volume")
        elif mounted in volumes_seen:
            problems.append(f"{name}: shares volume {mounted} with {volumes_seen[mounted]}")
        else:
            volumes_seen[mounted] = name
    if len(cluster_ids) > 1:
        problems.append(f"nodes disagree on CLUSTER_ID: {sorted(cluster_ids)}")
    for voters in voters_seen:
        if set(voters.split(",")) != expected_voters:
            problems.append(f"KAFKA_CONTROLLER_QUORUM_VOTERS={voters!r}, want "
                            f"{','.join(sorted(expected_voters))}")
    return problems


def check_matches_local_broker(doc, ctx):
    """Every non-topology setting kafka.sh writes for a cluster of this size, on every node."""
    problems = []
    nodes = kafka_nodes(doc["services"])
    local = local_broker_properties(len(nodes))
    for name, s in nodes.items():
        env = env_of(s)
        for prop, value in sorted(local.items()):
            if prop in TOPOLOGY_KEYS:
                continue
            var = kafka_env_name(prop)
            if var not in env:
                problems.append(f"{name}: {var} missing; deploy/local/kafka.sh sets "
                                f"{prop}={value} for {len(nodes)} node(s)")
            elif env[var] != value:
                problems.append(f"{name}: {var}={env[var]}, but deploy/local/kafka.sh sets "
                                f"{prop}={value} for {len(nodes)} node(s)")
    return problems


def parse_topic_creates(job):
    """[{topic, partitions, replication, configs, if_not_exists, bootstrap}] of a job's command."""
    script = " ".join(command_words(job.get("entrypoint")) + command_words(job.get("command")))
    creates = []
    for line in script.splitlines():
        if "kafka-topics" not in line or "--create" not in line:
            continue
        words = shlex.split(line)
        spec = {"configs": {}, "if_not_exists": "--if-not-exists" in words}
        for i, w in enumerate(words[:-1]):
            nxt = words[i + 1]
            if w == "--topic":
                spec["topic"] = nxt
            elif w == "--partitions":
                spec["partitions"] = int(nxt)
            elif w == "--replication-factor":
                spec["replication"] = int(nxt)
            elif w == "--config":
                k, _, v = nxt.partition("=")
                spec["configs"][k] = v
            elif w == "--bootstrap-server":
                spec["bootstrap"] = nxt
        creates.append(spec)
    return creates


def check_topic_init(doc, ctx):
    problems = []
    services = doc["services"]
    nodes = kafka_nodes(services)
    jobs = topic_jobs(services)
    apps = app_services(services)
    if not jobs:
        return ["no topic-init job (an apache/kafka service running kafka-topics.sh --create)"]
    creates = {}
    for name, job in jobs.items():
        if job.get("restart") not in (None, "no"):
            problems.append(f"{name}: a one-shot job must not restart (restart: \"no\")")
        for spec in parse_topic_creates(job):
            creates[spec.get("topic")] = spec
            if not spec["if_not_exists"]:
                problems.append(f"{name}: create {spec.get('topic')} with --if-not-exists, or a "
                                "second `up` fails")
            hosts = {h.strip() for h in spec.get("bootstrap", "").split(",") if h.strip()}
            want = {f"{h}:{p}" for h, p in (internal_address(n, s) for n, s in nodes.items())}
            if not hosts or not hosts <= want:
                problems.append(f"{name}: --bootstrap-server {spec.get('bootstrap')!r} is not "
                                f"among the brokers {sorted(want)}")
    order = next((s for b, s in apps.values() if b == "order-service"), None)
    tracker = next((s for b, s in apps.values() if b == "tracker-service"), None)
    if order is None or tracker is None:
        return problems + ["cannot find order-service and tracker-service"]
    o_known = ctx["options"]["order-service"][0]
    t_known = ctx["options"]["tracker-service"][0]
    o_env, t_env = env_of(order), env_of(tracker)

    def setting(env, known, var, fallback=None):
        value = env.get(var)
        if value in (None, ""):
            value = known.get(var)
        return fallback if value in (None, "") else value

    topic = setting(o_env, o_known, "KAFKA_TOPIC")
    t_topic = setting(t_env, t_known, "KAFKA_TOPIC")
    if topic != t_topic:
        problems.append(f"order-service produces to {topic} but tracker-service reads {t_topic}")
    dlq = setting(t_env, t_known, "DLQ_TOPIC", f"{t_topic}.dlq")
    partitions = int(setting(o_env, o_known, "TOPIC_PARTITIONS", "0"))
    replication = int(setting(o_env, o_known, "TOPIC_REPLICATION_FACTOR", "0"))
    min_isr = int(setting(o_env, o_known, "TOPIC_MIN_INSYNC_REPLICAS", "0"))
    for name in (topic, dlq):
        spec = creates.get(name)
        if spec is None:
            problems.append(f"topic-init does not create {name}")
            continue
        if spec.get("partitions") != partitions:
            problems.append(f"{name}: {spec.get('partitions')} partitions, order-service's "
                            f"TOPIC_PARTITIONS is {partitions}")
        if spec.get("replication") != replication:
            problems.append(f"{name}: replication {spec.get('replication')}, order-service's "
                            f"TOPIC_REPLICATION_FACTOR is {replication}")
        got_isr = int(spec["configs"].get("min.insync.replicas", "0"))
        if got_isr != min_isr:
            problems.append(f"{name}: min.insync.replicas={got_isr or 'broker default'}, "
                            f"order-service's TOPIC_MIN_INSYNC_REPLICAS is {min_isr}")
    if replication > len(nodes):
        problems.append(f"replication {replication} needs {replication} brokers, there are "
                        f"{len(nodes)}")
    if len(nodes) >= 3 and not (replication >= 3 and 2 <= min_isr < replication):
        problems.append(f"{len(nodes)} brokers: {topic} should have replication >= 3 and "
                        f"min.insync.replicas 2 (has {replication} and {min_isr})")
    return problems


COMPOSE_CHECKS = [
    ("valid for Debian's docker-compose 1.29 (no top-level name:)", check_compose_v1_keys),
    ("image variables have defaults and are documented", check_image_variables),
    ("every service has an image or a build", check_images_or_builds),
    ("Kafka image is the tested version", check_kafka_image),
    ("KRaft nodes are wired consistently", check_kafka_cluster),
    ("Kafka settings match deploy/local/kafka.sh", check_matches_local_broker),
    ("healthchecks on brokers and services", check_healthchecks),
    ("depends_on uses conditions", check_depends_on),
    ("service env vars are options the binaries know", check_service_env),
    ("services point at every broker", check_bootstrap),
    ("restart policy and stop_grace_period", check_service_runtime),
    ("ports match HTTP_LISTEN; tracker can scale", check_ports),
    ("topic-init creates the services' topics", check_topic_init),
]


# ------------------------------------------------------------------------------------------------
# Dockerfile

def install_deps_packages():
    """The package names of deploy/install-deps.sh's `packages=( ... )` list."""
    text = (DEPLOY / "install-deps.sh").read_text()
    m = re.search(r"^packages=\((.*?)^\)", text, re.S | re.M)
    if not m:
        raise Problem("deploy/install-deps.sh has no packages=( ... ) list")
    words = []
    for line in m.group(1).splitlines():
        words += line.split("#")[0].split()
    return set(words)


def apt_installed(runs):
    """Package names given to `apt-get install` in the RUN lines."""
    names = []
    for m in re.finditer(r"apt-get install ([^&;|]*)", runs):
        names += [w for w in m.group(1).split() if not w.startswith("-")]
    return names


def dockerfile_checks():
    path = DEPLOY / "Dockerfile"
    ins = parse_dockerfile(path)
    stages, current = [], None
    for word, rest in ins:
        if word == "FROM":
            image = [w for w in rest.split() if not w.startswith("--")][0]
            current = {"image": image, "ins": []}
            stages.append(current)
        elif current is not None:
            current["ins"].append((word, rest))
    if len(stages) < 2:
        return [("multi-stage build", [f"{path}: want a build stage and a runtime stage"])]
    build, runtime = stages[0], stages[-1]
    runs = [rest for st in stages[:-1] for word, rest in st["ins"] if word == "RUN"]
    all_runs = " \n".join(runs)
    debian12 = r"debian:(bookworm|12)(\.\d+)*"

    build_problems = []
    if not re.fullmatch(debian12 + r"(-slim)?(@sha256:[0-9a-f]+)?", build["image"]):
        build_problems.append(f"build stage FROM {build['image']}, want debian:bookworm(-slim)")
    copies = [rest for word, rest in build["ins"] if word == "COPY"]
    if not any("deploy/install-librdkafka.sh" in c for c in copies):
        build_problems.append("build stage does not COPY deploy/install-librdkafka.sh")
    if "deploy/install-librdkafka.sh" not in all_runs:
        build_problems.append("build stage does not RUN deploy/install-librdkafka.sh (librdkafka "
                              "built as on developer machines and CI)")
    ci_packages = install_deps_packages()
    foreign = [p for p in apt_installed(all_runs) if p not in ci_packages]
    if foreign:
        build_problems.append(f"build stage installs {foreign}, which deploy/install-deps.sh "
                              "does not: the image would build with what CI never tests")
    for needed in ("cmake --preset release", "cmake --build --preset release"):
        if needed not in all_runs:
            build_problems.append(f"no RUN with `{needed}`")

    runtime_problems = []
    if not re.fullmatch(debian12 + r"-slim(@sha256:[0-9a-f]+)?", runtime["image"]):
        runtime_problems.append(f"runtime stage FROM {runtime['image']}, want debian:bookworm-slim")
    if any("install-deps" in rest for word, rest in runtime["ins"] if word == "RUN"):
        runtime_problems.append("runtime stage runs install-deps.sh (compilers in the image)")
    copied = " ".join(rest for word, rest in runtime["ins"] if word == "COPY")
    for binary in BINARIES:
        if binary not in copied:
            runtime_problems.append(f"runtime stage does not COPY {binary}")
    users = [rest for word, rest in runtime["ins"] if word == "USER"]
    if not users:
        runtime_problems.append("runtime stage has no USER: it would run as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        runtime_problems.append(f"runtime stage runs as USER {users[-1]}")
    signals = [rest for word, rest in runtime["ins"] if word == "STOPSIGNAL"]
    if not signals or signals[-1] not in ("SIGTERM", "15"):
        runtime_problems.append("runtime stage needs STOPSIGNAL SIGTERM")

    ignore_problems = []
    ignore = REPO / ".dockerignore"
    if not ignore.exists():
        ignore_problems.append(f"{ignore} missing: build dirs and .git would enter the context")
    else:
        lines = {l.strip().lstrip("/").rstrip("/") for l in ignore.read_text().splitlines()}
        for want in (".git", "build*", ".kafka", "deploy/local/libs"):
            if want not in lines:
                ignore_problems.append(f".dockerignore does not exclude {want}")
        for needed in ("deploy", "common", "services", "deploy/install-librdkafka.sh",
                   "CMakeLists.txt", "CMakePresets.json"):
            if needed in lines:
                ignore_problems.append(f".dockerignore excludes {needed}, which the build needs")

    return [
        ("Dockerfile build stage: CI's packages and librdkafka, release preset", build_problems),
        ("Dockerfile runtime stage: Debian 12 slim, non-root, SIGTERM", runtime_problems),
        (".dockerignore keeps the context to the sources", ignore_problems),
    ]


# ------------------------------------------------------------------------------------------------

def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    passed = failed = 0

    def report(label, problems):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {label}")
            for p in problems:
                print(f"     - {p}")
        else:
            passed += 1
            print(f"ok   {label}")

    def attempt(label, fn, *args):
        try:
            report(label, fn(*args))
        except Problem as e:
            report(label, [str(e)])

    ctx = {"options": {}}
    for binary in BINARIES:
        try:
            ctx["options"][binary] = service_options(argv[1], binary)
            report(f"{binary} --help lists its environment variables", [])
        except Problem as e:
            report(f"{binary} --help lists its environment variables", [str(e)])
    have_options = len(ctx["options"]) == len(BINARIES)

    for file in COMPOSE_FILES:
        path = DEPLOY / file
        try:
            doc = yaml.safe_load(path.read_text())
            if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
                raise Problem("no services: mapping")
        except (OSError, yaml.YAMLError, Problem) as e:
            report(f"{file}: parses", [str(e)])
            continue
        report(f"{file}: parses", [])
        ctx["path"] = path
        for label, fn in COMPOSE_CHECKS:
            if not have_options and fn in (check_healthchecks, check_service_env,
                                           check_service_runtime, check_ports, check_topic_init):
                report(f"{file}: {label}", ["skipped: needs both binaries' --help"])
                continue
            attempt(f"{file}: {label}", fn, doc, ctx)

    try:
        for label, problems in dockerfile_checks():
            report(label, problems)
    except (OSError, IndexError) as e:
        report("Dockerfile parses", [str(e)])

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
