"""The daemon (no command): awaited through NOTIFY_SOCKET, never with sleeps (STYLE, Tests).
READY=1 once the loop runs, STATUS= after each pass, RELOADING=1/READY=1 around SIGHUP,
STOPPING=1 and a clean exit on SIGTERM."""

import os
import signal
import socket
import subprocess
import time

import pytest

from checks import assert_can_login
from world import standard_layout


class Notify:
    """A NOTIFY_SOCKET that collects sd_notify datagrams."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait(self, pred, timeout, proc):
        """Reads datagrams until pred(message) holds; returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching sd_notify message within {timeout}s; "
                                     f"got {self.messages}")
            # Datagrams already queued are read even after the process exited.
            self.sock.settimeout(min(left, 0.5))
            try:
                data = self.sock.recv(65536).decode("utf-8", "replace")
            except socket.timeout:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                    raise AssertionError(f"gprdsd exited {proc.returncode} while awaited; "
                                         f"messages {self.messages}\nstderr:\n{err[-4000:]}")
                continue
            self.messages.append(data)
            if pred(data):
                return data

    def close(self):
        self.sock.close()


@pytest.fixture
def daemon(world):
    procs = []
    notify = Notify(os.path.join(world.tmp, "notify.sock"))

    def start():
        env = world.gd.environ()
        env["NOTIFY_SOCKET"] = notify.path
        p = subprocess.Popen([world.gd.bin, "--config", world.gd.config_path], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=world.gd.workdir)
        procs.append(p)
        return p

    yield start, notify
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    notify.close()


def test_daemon_ready_converges_reloads_and_stops(world, daemon):
    start, notify = daemon
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.gd.write_config(reconcile={"interval": "1h"})
    p = start()
    notify.wait(lambda m: "READY=1" in m, 30, p)

    def converged():
        try:
            for e in lay.entries:
                assert_can_login(world, e)
            return True
        except Exception:
            return False

    # STATUS= follows each environment's pass; once no environment is still in its first
    # pass, the first passes are over and must have converged everything.
    notify.wait(lambda m: "STATUS=" in m and "first pass" not in m, 60, p)
    assert converged(), f"the daemon's first passes did not converge: {notify.messages[-1]}"

    p.send_signal(signal.SIGHUP)
    notify.wait(lambda m: "RELOADING=1" in m, 30, p)
    notify.wait(lambda m: "READY=1" in m, 30, p)

    p.send_signal(signal.SIGTERM)
    notify.wait(lambda m: "STOPPING=1" in m, 30, p)
    try:
        rc = p.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("gprdsd did not exit within 30s of SIGTERM")
    err = p.stderr.read().decode("utf-8", "replace")
    assert rc == 0, f"exit {rc}; stderr:\n{err[-3000:]}"
    assert any("STOPPING=1" in m for m in notify.messages), notify.messages


def test_daemon_bad_reload_keeps_old_config(world, daemon):
    start, notify = daemon
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    world.gd.write_config(reconcile={"interval": "1h"})
    p = start()
    notify.wait(lambda m: "READY=1" in m, 30, p)
    with open(world.gd.config_path, "a") as f:
        f.write("no_such_key: true\n")
    p.send_signal(signal.SIGHUP)
    notify.wait(lambda m: "READY=1" in m, 30, p)
    assert p.poll() is None, "a bad reload must keep the daemon running on the old config"
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 0
    err = p.stderr.read().decode("utf-8", "replace")
    assert "no_such_key" in err, err[-3000:]
