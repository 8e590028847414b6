"""A Docker engine for the compose tests: the one that runs, or one started here and stopped again.

`Engine.open()` returns an engine or raises `NoEngine` with the reason (not root, no packages,
dockerd would not start): the tests then report "skipped: no Docker engine". An engine started
here is stopped by its pid, and the host's iptables FORWARD policy and net.ipv4.ip_forward, which
dockerd changes and leaves changed, are put back as they were found.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Debian's client (20.10): the newer /usr/local/bin/docker some machines put first in PATH needs
# buildx for BuildKit, which Debian does not package.
DOCKER = "/usr/bin/docker"
COMPOSE = "/usr/bin/docker-compose"
SOCKET = "/var/run/docker.sock"


class NoEngine(Exception):
    """No Docker engine can be used here; the message says why."""


def run(cmd, check=True, capture=True, timeout=None, env=None):
    return subprocess.run(cmd, check=check, text=True, timeout=timeout, env=env,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)


def engine_answers():
    if not Path(DOCKER).exists():
        return False
    r = subprocess.run([DOCKER, "info", "--format", "{{.ServerVersion}}"], text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.returncode == 0 and r.stdout.strip() != ""


def forward_policy():
    """The FORWARD chain's policy, or None where iptables is not installed (yet)."""
    if shutil.which("iptables") is None:
        return None
    r = subprocess.run(["iptables", "-S", "FORWARD"], text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    for line in r.stdout.splitlines():
        if line.startswith("-P FORWARD "):
            return line.split()[2]
    return None


IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


class Engine:
    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.proc = None
        self.started_here = False
        self.found_policy = forward_policy()
        self.found_ip_forward = IP_FORWARD.read_text().strip() if IP_FORWARD.exists() else None

    @classmethod
    def open(cls, log_dir):
        """The running engine, else one started here (installing Debian's packages if root)."""
        engine = cls(log_dir)
        if engine_answers():
            print("engine: using the Docker engine that already runs")
            return engine
        if os.geteuid() != 0:
            raise NoEngine("not root, and no Docker engine runs")
        started = time.monotonic()
        r = run([str(REPO / "deploy" / "install-docker.sh")], check=False)
        if r.returncode != 0:
            raise NoEngine("deploy/install-docker.sh failed:\n" + r.stdout[-2000:])
        print(f"phase install-docker: {time.monotonic() - started:.1f} s")
        # On a fresh machine iptables arrives with the packages: its policy before dockerd runs
        # is the one to put back.
        if engine.found_policy is None:
            engine.found_policy = forward_policy()
        engine._start()
        return engine

    def _start(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        attempts = [
            [],
            # Where overlay2 or iptables are not available (nested containers).
            ["--storage-driver=vfs", "--iptables=false", "--bridge=none"],
        ]
        reasons = []
        for flags in attempts:
            log = self.log_dir / "dockerd.log"
            started = time.monotonic()
            with open(log, "w") as out:
                self.proc = subprocess.Popen(
                    ["dockerd", "--host", f"unix://{SOCKET}", "--pidfile",
                     str(self.log_dir / "dockerd.pid")] + flags,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            self.started_here = True
            deadline = started + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                if engine_answers():
                    print(f"engine: started dockerd (pid {self.proc.pid}) {' '.join(flags)} "
                          f"in {time.monotonic() - started:.1f} s")
                    return
                time.sleep(0.3)
            reasons.append(f"dockerd {' '.join(flags)}: " + log.read_text()[-1500:])
            self._stop_daemon()
        self.restore_host()
        raise NoEngine("dockerd did not start:\n" + "\n".join(reasons))

    def _stop_daemon(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restore_host(self):
        if self.found_policy and forward_policy() not in (None, self.found_policy):
            subprocess.run(["iptables", "-P", "FORWARD", self.found_policy], check=False)
        if self.found_ip_forward is not None and IP_FORWARD.read_text().strip() != self.found_ip_forward:
            IP_FORWARD.write_text(self.found_ip_forward + "\n")
        print(f"engine: iptables FORWARD policy {forward_policy()} (found {self.found_policy}), "
              f"ip_forward {IP_FORWARD.read_text().strip()} (found {self.found_ip_forward})")

    def close(self):
        """Stops dockerd if it was started here, and restores what it changed on the host."""
        if not self.started_here:
            return
        self._stop_daemon()
        self.restore_host()


def have_tools():
    missing = [t for t in (DOCKER, COMPOSE) if not Path(t).exists()]
    if missing:
        raise NoEngine("missing " + ", ".join(missing))
    if shutil.which("debootstrap") is None:
        raise NoEngine("debootstrap is missing")
