"""Processes the chaos suite starts: each is registered, logged to a file and, whatever happens
to the suite, stopped by pid (SIGCONT first, so a paused one can die)."""
import atexit
import ctypes
import os
import random
import signal
import socket
import subprocess
import time

_registry = []
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # A SIGKILLed suite cannot clean up: the kernel then stops its services for it.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Proc:
    """One child process, its log file and its pid."""

    def __init__(self, name, cmd, log_path, env=None):
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                      stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        self.started = time.monotonic()
        _registry.append(self)

    def alive(self):
        return self.popen.poll() is None

    def send(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill9(self):
        self.send(signal.SIGKILL)
        self.popen.wait()
        self._log.close()

    def stop(self, timeout=30.0):
        """SIGTERM, then SIGKILL after `timeout`. Returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        if self.alive():
            self.send(signal.SIGCONT)
            self.send(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send(signal.SIGKILL)
                self.popen.wait()
        self._log.close()
        return self.popen.returncode, time.monotonic() - t0

    def log_text(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()


def cleanup():
    for p in reversed(_registry):
        if p.alive():
            try:
                os.kill(p.pid, signal.SIGCONT)
                os.kill(p.pid, signal.SIGKILL)
                p.popen.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(cleanup)


def _on_signal(signo, _frame):
    raise SystemExit(128 + signo)


for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def free_ports(count=1):
    """`count` consecutive free loopback ports; returns the first."""
    for _ in range(500):
        base = random.randint(20000, 32000 - count)  # below the ephemeral range (32768+)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free loopback ports")
