"""Helpers for the daemon tests (test_daemon_*.py): a NOTIFY_SOCKET listener, a running
gprdsd daemon process, a private systemd-journald, and polling with deadlines.

The daemon is awaited through the sd_notify protocol (READY=1, STATUS=, ...) on a datagram
socket the test binds, never with sleeps. Outcomes (roles, databases, audit rows) are read
from PostgreSQL and files with psycopg2/csv, polled against a deadline.

Every process started here is registered in $GPRDSD_TEST_RUNDIR (as servers.py does) so that
test/run-tests.sh stops it even if pytest dies first, and is stopped by the fixtures.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from servers import _register, _unregister  # the run registry run-tests.sh cleans up
from world import to_yaml


# --- small utilities -------------------------------------------------------------------------

def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; returns it. Raises AssertionError with
    `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def role_exists(pg, name):
    return bool(pg.query("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)))


# --- sd_notify -------------------------------------------------------------------------------

class Notify:
    """An AF_UNIX SOCK_DGRAM socket that plays systemd's side of sd_notify(3). Every datagram
    is kept as (monotonic time, {KEY: VALUE}, sender pid). The path lives in a short temp dir:
    sun_path is limited to 108 bytes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gpn-", dir="/tmp")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.msgs = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        ucred_len = socket.CMSG_SPACE(12)
        while not self.closed:
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, ucred_len)
            except OSError:
                return
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = int.from_bytes(cdata[0:4], "little")
            fields = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.cond:
                self.msgs.append((time.monotonic(), fields, pid))
                self.cond.notify_all()

    def count(self):
        with self.cond:
            return len(self.msgs)

    def wait(self, pred, timeout, start=0, what="a notification"):
        """Waits for the first message at index >= start for which pred(fields) holds;
        returns (index, time, fields)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.msgs):
                    t, f, _ = self.msgs[i]
                    if pred(f):
                        return i, t, f
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f for _, f, _ in self.msgs[start:]][-15:]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                                         f"last messages: {seen}")
                self.cond.wait(left)

    def wait_key(self, key, timeout, start=0, value=None):
        return self.wait(lambda f: key in f and (value is None or f[key] == value), timeout,
                         start, what=f"{key}={value if value is not None else '*'}")

    def all(self, key, start=0):
        """[(time, value)] of every message carrying key."""
        with self.cond:
            return [(t, f[key]) for t, f, _ in self.msgs[start:] if key in f]

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the daemon ------------------------------------------------------------------------------

def is_status(f):
    """A STATUS= that reports a finished pass (not 'started' or 'reloading')."""
    s = f.get("STATUS", "")
    return bool(s) and ("last pass" in s or "standby" in s or "error" in s)


class Daemon:
    """One `gprdsd` daemon process with its own NOTIFY_SOCKET listener. stderr (the console
    log) goes to a file. watchdog_usec sets WATCHDOG_USEC and, through a `sh -c exec` wrapper
    that keeps the pid, WATCHDOG_PID=<the daemon's pid>, as systemd does."""

    def __init__(self, gd, config_path, name="gprdsd", watchdog_usec=None, args=(),
                 prefix=(), extra_env=None):
        self.gd = gd
        self.config_path = config_path
        self.name = name
        self.notify = Notify()
        self.log_path = os.path.join(gd.workdir, f"{name}.log")
        self.args = list(args)
        self.prefix = list(prefix)
        self.watchdog_usec = watchdog_usec
        self.extra_env = extra_env or {}
        self.proc = None
        self.rc = None

    def environ(self):
        env = self.gd.environ()
        env["NOTIFY_SOCKET"] = self.notify.path
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
        env.update(self.extra_env)
        return env

    def argv(self):
        core = [self.gd.bin, "--config", self.config_path] + self.args
        if self.watchdog_usec:
            # exec keeps the pid, so WATCHDOG_PID names the daemon itself.
            core = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"',
                    "sh"] + core
        return self.prefix + core

    def start(self):
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.log_file = open(self.log_path, "ab")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env=self.environ(), cwd=self.gd.workdir,
                                     start_new_session=True)
        _register(f"gprdsd-{self.proc.pid}", "pid", self.proc.pid)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, timeout=20):
        try:
            return self.notify.wait_key("READY", timeout, value="1")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- {self.name} log\n{self.log()[-4000:]}")

    def wait_status(self, timeout=30, start=0, pred=None):
        """Waits for a STATUS= reporting a finished pass; returns (index, time, fields)."""
        p = (lambda f: is_status(f) and pred(f["STATUS"])) if pred else is_status
        try:
            return self.notify.wait(p, timeout, start, what=f"STATUS from {self.name}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- {self.name} log\n{self.log()[-4000:]}")

    def start_ready(self, timeout=30):
        """Starts, waits for READY=1 and the first pass's STATUS=."""
        self.start()
        self.wait_ready(timeout)
        return self.wait_status(timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout}s\n"
                                 f"--- log\n{self.log()[-4000:]}")
        _unregister(f"gprdsd-{self.proc.pid}", "pid")
        return self.rc

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self):
        """SIGKILL to the daemon's process group (its git children included)."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
            _unregister(f"gprdsd-{self.proc.pid}", "pid")

    def children(self):
        """Pids of the daemon's child processes (uv_spawn forks from the loop thread)."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout, start=0):
        """Waits until needle (a string, or a callable on the text) appears in the log after
        byte offset start; returns the text."""
        def found():
            text = self.log()[start:]
            ok = needle(text) if callable(needle) else needle in text
            return text if ok else None
        try:
            return wait_until(found, timeout, 0.05, what=f"{needle!r} in {self.name}'s log")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- log\n{self.log()[-4000:]}")

    def close(self):
        self.kill()
        if getattr(self, "log_file", None):
            self.log_file.close()
        self.notify.close()


def daemon_config(world, interval="1h", envs=("dev",), state=None, **over):
    """A config for daemon tests: console log at info, one environment by default, a long
    interval (so that only the trigger under test causes a pass), zero jitter."""
    cfg = world.gd.config(envs=envs)
    cfg["reconcile"] = {"interval": interval, "jitter": "0%"}
    if state:
        cfg["state_dir"] = os.path.join(world.gd.workdir, state, "state")
        cfg["audit_dir"] = os.path.join(world.gd.workdir, state, "audit")
    for k, v in over.items():
        cfg[k] = v
    return cfg


def write_config(world, cfg, name="gprdsd.yaml"):
    path = os.path.join(world.gd.workdir, name)
    os.makedirs(world.gd.workdir, exist_ok=True)
    with open(path, "w") as f:
        f.write("# gprdsd daemon test config\n" + to_yaml(cfg))
    return path


@pytest.fixture
def daemons(world):
    """Starts daemons for a test: daemons(config_path, **kw) -> Daemon (not yet started).
    Every one is killed at teardown if it still runs."""
    made = []

    def make(config_path=None, **kw):
        d = Daemon(world.gd, config_path or world.gd.config_path,
                   name=kw.pop("name", f"gprdsd{len(made)}"), **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


# --- a private systemd-journald --------------------------------------------------------------

JOURNALD = "/lib/systemd/systemd-journald"

_JOURNALD_NS = r"""
set -e
# Private mount namespace: the host's /run/systemd, /run/log and /var/log/journal are hidden
# behind temp dirs, so this journald neither sees nor touches the host's journal.
mount --bind "$1/run-systemd" /run/systemd
mkdir -p /run/systemd/journal
mount --bind "$1/run-log" /run/log
mount --bind "$1/var-journal" /var/log/journal
mount --bind "$1/journald.conf" /etc/systemd/journald.conf
exec {journald}
"""

_JOURNALD_CONF = """[Journal]
Storage=volatile
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
RateLimitIntervalSec=0
RateLimitBurst=0
"""


class Journald:
    """systemd-journald in a private mount namespace (unshare -m), run as root without PID 1
    being systemd. Processes join its namespace with nsenter (prefix()), and its journal files
    are read from outside with `journalctl --directory`."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gprdsd-journal-", dir="/tmp")
        self.proc = None

    @staticmethod
    def unavailable():
        """Why a private journald cannot run here, or None."""
        if os.geteuid() != 0:
            return "needs root (a private mount namespace and bind mounts)"
        for p in (JOURNALD, "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/journalctl"):
            if not os.access(p, os.X_OK):
                return f"{p} is missing"
        for p in ("/run/systemd", "/run/log", "/var/log/journal", "/etc/systemd/journald.conf"):
            if not os.path.exists(p):
                return f"{p} does not exist on this host (needed as a mount point)"
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"unshare -m is not permitted here: {r.stderr.strip()}"
        return None

    def start(self, timeout=20):
        for d in ("run-systemd", "run-log", "var-journal"):
            os.makedirs(os.path.join(self.dir, d))
        with open(os.path.join(self.dir, "journald.conf"), "w") as f:
            f.write(_JOURNALD_CONF)
        script = os.path.join(self.dir, "ns.sh")
        with open(script, "w") as f:
            f.write(_JOURNALD_NS.format(journald=JOURNALD))
        self.log = open(os.path.join(self.dir, "journald.out"), "ab")
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", script,
                                      self.dir], stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _register(f"journald-{self.proc.pid}", "pid", self.proc.pid)
        sock = os.path.join(self.dir, "run-systemd", "journal", "socket")
        wait_until(lambda: os.path.exists(sock) or self.proc.poll() is not None, timeout,
                   what="journald's socket")
        if self.proc.poll() is not None:
            raise AssertionError(f"journald exited: {self.output()}")
        wait_until(lambda: self.journal_dir(), timeout, what="journald's runtime journal")
        return self

    def output(self):
        with open(os.path.join(self.dir, "journald.out"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def prefix(self):
        """argv prefix that runs a command inside journald's mount namespace."""
        return ["nsenter", "-t", str(self.proc.pid), "-m", "--"]

    def journal_dir(self):
        found = glob.glob(os.path.join(self.dir, "run-log", "journal", "*"))
        return found[0] if found else None

    def journalctl(self, *args):
        argv = ["journalctl", f"--directory={self.journal_dir()}", "--no-pager"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def journalctl_with_catalog(self, catalog_files, *args):
        """journalctl -x reads the catalog only from /var/lib/systemd/catalog/database. The
        database is built from catalog_files under a private --root, then bind-mounted over
        that path in a throwaway mount namespace for this one journalctl; the host's catalog
        is never touched."""
        root = os.path.join(self.dir, "catroot")
        src = os.path.join(root, "usr", "lib", "systemd", "catalog")
        os.makedirs(src, exist_ok=True)
        for f in catalog_files:
            shutil.copy(f, src)
        r = subprocess.run(["journalctl", f"--root={root}", "--update-catalog"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return r
        db = os.path.join(root, "var", "lib", "systemd", "catalog")
        script = ('mount --bind "$1" /var/lib/systemd/catalog && shift && '
                  'exec journalctl --no-pager "$@"')
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                               "sh", db, f"--directory={self.journal_dir()}"] + list(args),
                              capture_output=True, text=True, timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc:
            _unregister(f"journald-{self.proc.pid}", "pid")
            self.log.close()
        if os.environ.get("GPRDSD_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def journald():
    why = Journald.unavailable()
    if why:
        pytest.skip(f"cannot run a private systemd-journald: {why}")
    j = Journald().start()
    yield j
    j.stop()
