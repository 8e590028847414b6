"""The images a compose run needs on an engine that cannot pull: the Debian base image made from
Debian's archive, the project's own Kafka image (for apache/kafka:4.4.0), and the services' image
built from deploy/Dockerfile by docker-compose, as `docker compose up --build` builds it.
"""

import json
import os
import re
import subprocess
import threading

from compose_project import Failure, docker, expect
from docker_engine import DOCKER, REPO

HERE = REPO / "tests" / "compose"
KAFKA_IMAGE = "order-tracker/kafka:4.4.0"
SERVICE_IMAGE = "order-tracker:local"
RDKAFKA_PREFIX = "/opt/order-tracker/librdkafka-2.14.2"


def script(*cmd):
    r = subprocess.run([str(c) for c in cmd], text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=dict(os.environ, DOCKER=DOCKER))
    print(r.stdout.strip()[-4000:], flush=True)
    if r.returncode != 0:
        raise Failure(f"{cmd[0]} failed ({r.returncode})")


def base_image():
    script(HERE / "debian_base_image.sh", "debian:bookworm-slim")


def kafka_image():
    script(REPO / "deploy" / "kafka-image" / "build.sh", KAFKA_IMAGE)


def service_image(project):
    """docker-compose's own build of the services' image, from the compose file's build section."""
    out = project.compose("build", "order-service", timeout=3000)
    (project.log_dir / "image-build.log").write_text(out)
    print("\n".join(out.strip().splitlines()[-3:]), flush=True)


def build_all(phases, project):
    """The base image, then the Kafka image and the services' image side by side: the one mostly
    waits on apt and Java, the other compiles."""
    phases.run("base image", base_image)
    errors = []

    def kafka():
        try:
            phases.run("Kafka image (in parallel)", kafka_image)
        except Failure as e:
            errors.append(e)
    side = threading.Thread(target=kafka)
    side.start()
    try:
        phases.run("service image (docker-compose build)", service_image, project)
    finally:
        side.join()
    if errors:
        raise errors[0]


def rdkafka_version_built_against():
    """The librdkafka version deploy/install-librdkafka.sh builds (what CMake links against)."""
    text = (REPO / "deploy" / "install-librdkafka.sh").read_text()
    return re.search(r"^version=(\S+)", text, re.M).group(1)


def check_service_image(phases):
    """Non-root, no missing library, the project's librdkafka; prints the image's size."""
    info = json.loads(docker("image", "inspect", SERVICE_IMAGE))[0]
    user = info["Config"].get("User", "")
    expect(user and user.split(":")[0] not in ("0", "root"), f"image runs as user '{user}'")
    uid = docker("run", "--rm", "--entrypoint", "id", SERVICE_IMAGE, "-u").strip()
    expect(uid != "0", f"a container of the image runs as uid {uid}")
    phases.figure("service image user", f"{user} (id -u in a container: {uid})")

    ldd = docker("run", "--rm", "--entrypoint", "ldd", SERVICE_IMAGE,
                 "/usr/local/bin/order-service", "/usr/local/bin/tracker-service")
    missing = [l.strip() for l in ldd.splitlines() if "not found" in l]
    expect(not missing, f"ldd in the image: missing libraries {missing}")
    rdkafka = sorted({l.split("=>")[1].split()[0] for l in ldd.splitlines()
                      if l.strip().startswith("librdkafka")})
    version = rdkafka_version_built_against()
    want = f"/opt/order-tracker/librdkafka-{version}/lib/librdkafka.so.1"
    expect(rdkafka == [want], f"the binaries load librdkafka from {rdkafka}, want {want}")
    phases.figure("ldd in the image", f"no missing library; librdkafka {want}")

    size = info["Size"]
    phases.figure("service image size", f"{size / 1e6:.0f} MB ({size} bytes)")
    kafka_size = json.loads(docker("image", "inspect", KAFKA_IMAGE))[0]["Size"]
    phases.figure("Kafka image size (CI's stand-in)", f"{kafka_size / 1e6:.0f} MB")
    return version
