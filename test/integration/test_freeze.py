"""Bounds under a frozen dependency: a server that accepts the connection and then never
answers (a frozen host, a dropped network path) must not hang a pass. Each case puts a
fault-injecting TCP relay (relay.py) between gprdsd and the real server: it forwards bytes
both ways until a chosen request, then keeps every socket open and forwards nothing more. The pass must
end, with a failure that names the dependency, within a generous deadline; and with the
relay gone the next pass converges.

The deadlines asserted here are correctness bounds, not speed figures: each is several times
the configured timeouts."""

import os
import signal
import subprocess
import time

import pytest

from checks import assert_can_login
from relay import Relay
from world import standard_layout


def _layout(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    return lay


def _pg_via(world, relay, statement_timeout="2s"):
    cfg = world.gd.config()
    for env in cfg["environments"].values():
        env["postgres"]["port"] = relay.port
        env["postgres"]["connect_timeout"] = "3s"
        env["postgres"]["statement_timeout"] = statement_timeout
    world.gd.write_config(cfg)


def _recovers(world, lay):
    """With the relay gone and the normal config back, the next pass converges."""
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, f"after the server came back the pass should converge:{r}"
    for e in lay.entries if lay else ():
        assert_can_login(world, e)


def _timed_once(world, deadline):
    t0 = time.monotonic()
    r = world.gd.once(timeout=deadline + 30)
    took = time.monotonic() - t0
    assert took < deadline, f"the pass took {took:.1f}s against a frozen server:{r}"
    print(f"pass against a frozen server ended after {took:.1f}s (bound {deadline}s)")
    return r, took


def test_postgres_frozen_before_handshake_ends_the_pass(world):
    """Accepts TCP, never speaks: connect_timeout bounds the wait."""
    lay = _layout(world)
    relay = Relay(world.pg.port, freeze_at=0)
    try:
        _pg_via(world, relay)
        r, _ = _timed_once(world, 60)
    finally:
        relay.close()
    assert r.rc == 1, r
    assert "timeout" in r.err.lower() or "timed out" in r.err.lower(), r
    _recovers(world, lay)


def test_postgres_frozen_mid_session_ends_the_pass(world):
    """Mid-pass: from the 12th statement on nothing reaches the server (the lock and the
    observation have run): the server's own statement_timeout cannot fire, so only the
    client's deadline ends the wait."""
    lay = _layout(world)
    relay = Relay(world.pg.port, freeze_at=12)
    try:
        _pg_via(world, relay, statement_timeout="2s")
        r, _ = _timed_once(world, 90)
        assert relay.frozen_at is not None, "the relay never saw a query: nothing was tested"
    finally:
        relay.close()
    assert r.rc == 1, r
    assert "did not answer" in r.err or "timeout" in r.err.lower(), r
    _recovers(world, lay)


def test_secrets_manager_frozen_ends_the_pass(world):
    """Mid-pass, from the 4th call on, Secrets Manager never answers: the per-call timeout
    plus the per-pass breaker end the pass instead of waiting once per entry."""
    lay = _layout(world)
    relay = Relay(world.gd.moto_port, protocol="http", freeze_at=4)
    try:
        world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{relay.port}",
                                   "timeout": "2s"})
        r, took = _timed_once(world, 60)
        assert relay.frozen, "the pass made fewer than 4 Secrets Manager calls: nothing tested"
    finally:
        relay.close()
    assert r.rc == 1, r
    assert "secrets manager" in r.err.lower() or "timed out" in r.err.lower(), r
    _recovers(world, lay)


# --- the servers themselves stopped (SIGSTOP), before and during a pass ---------------------

def _cluster_pids(pg):
    """The postmaster and every process it started."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        root = int(f.readline())
    pids = [root]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == root:
                        pids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return pids


class Stopped:
    """SIGSTOPs processes on demand; SIGCONTs them on exit, whatever happened."""

    def __init__(self, pids_fn):
        self.pids_fn, self.pids = pids_fn, []

    def stop(self, *_):
        if not self.pids:
            self.pids = self.pids_fn()
            for p in self.pids:
                os.kill(p, signal.SIGSTOP)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.pids:
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("when", [0, 30])
def test_postgres_sigstopped_ends_the_pass(world, when):
    """The real server stopped before the pass (when=0) or as the 30th statement reaches it
    (the relay only counts, it forwards everything)."""
    lay = _layout(world)
    relay = Relay(world.pg.port)
    with Stopped(lambda: _cluster_pids(world.pg)) as st:
        if when:
            relay.on_request = lambda k: k == when and st.stop()
        else:
            st.stop()
        try:
            _pg_via(world, relay, statement_timeout="2s")
            r, _ = _timed_once(world, 60)
        finally:
            relay.close()
        assert st.pids, "the server was never stopped: nothing was tested"
    assert r.rc == 1, r
    _recovers(world, lay)


def test_secrets_manager_sigstopped_ends_the_pass(world, moto):
    """moto stopped as the 4th Secrets Manager call reaches it."""
    lay = _layout(world)
    relay = Relay(world.gd.moto_port, protocol="http")
    with Stopped(lambda: [moto.proc.pid]) as st:
        relay.on_request = lambda k: k == 4 and st.stop()
        try:
            world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{relay.port}",
                                       "timeout": "2s"})
            r, _ = _timed_once(world, 60)
        finally:
            relay.close()
        assert st.pids, "moto was never stopped: nothing was tested"
    assert r.rc == 1, r
    _recovers(world, lay)


def test_sigterm_during_a_stuck_pass_exits_1(world):
    """SIGTERM while a statement waits on a frozen server: the run ends within the
    statement's bound and does not claim success."""
    _layout(world)
    relay = Relay(world.pg.port, freeze_at=12)
    try:
        _pg_via(world, relay, statement_timeout="2s")
        p = world.gd.start("--once", output=subprocess.PIPE)
        end = time.monotonic() + 30
        while not relay.frozen and time.monotonic() < end:
            time.sleep(0.05)
        assert relay.frozen, "the pass never reached the frozen statement"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        relay.close()
    assert p.returncode == 1, (p.returncode, out, err)
    assert b"stopped" in err, err
