"""What both compose tests do around their checks: an engine (or the skip), a fresh project, the
images, and on the way out the project's removal, the engine's stop and every figure."""

import socket
import time
from pathlib import Path

import images
from compose_project import LOOPBACK, Failure, Phases, Project, expect
from docker_engine import Engine, NoEngine

SKIP = 77
# Host ports both compose files publish (Kafka, the Order service, the Trackers' range).
HOST_PORTS = (9092, 8080, 8081, 8082, 8083)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
            return True
        except OSError:
            return False


def run(work_dir, project_name, compose_file, checks):
    """checks(project, phases) runs the scenario's phases; returns the test's exit code."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    phases = Phases()
    total = time.monotonic()
    try:
        engine = phases.run("engine", Engine.open, work)
    except NoEngine as e:
        print(f"skipped: no Docker engine: {e}")
        return SKIP
    project = Project(project_name, compose_file, {"KAFKA_IMAGE": images.KAFKA_IMAGE}, work)
    ok = False
    try:
        project.down()  # what an interrupted earlier run may have left
        busy = [p for p in HOST_PORTS if not port_free(p)]
        expect(not busy, f"host ports the compose file publishes are taken: {busy}")
        images.build_all(phases, project)
        checks(project, phases)
        ok = True
    except Failure as e:
        print(f"FAILED: {e}")
    finally:
        if not ok:
            project.save_logs("failed")
            print(f"container logs saved in {work}")
            project.down()
        engine.close()
        phases.figure("total", f"{time.monotonic() - total:.1f} s")
        phases.summary()
    return 0 if ok else 1
