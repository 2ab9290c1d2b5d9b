"""Bounds under a frozen dependency: a server that accepts the connection and then never
answers (a frozen host, a dropped network path) must not hang a pass. Each case puts a
fault-injecting TCP relay between gprdsd and the real server: it forwards bytes both ways
until told to freeze, then keeps every socket open and forwards nothing more. The pass must
end, with a failure that names the dependency, within a generous deadline; and with the
relay gone the next pass converges.

The deadlines asserted here are correctness bounds, not speed figures: each is several times
the configured timeouts."""

import select
import socket
import struct
import threading
import time

from checks import assert_can_login
from world import standard_layout


class FreezingRelay:
    """Listens on a loopback port and relays to (host, port). `freeze_on` decides when the
    client's stream stops being forwarded: "now" (accept, never relay a byte), or
    "first-query" (relay the PostgreSQL startup and authentication, then swallow everything
    from the first simple or extended query message on, so the server never sees it)."""

    def __init__(self, port, freeze_on="now"):
        self.target = ("127.0.0.1", port)
        self.freeze_on = freeze_on
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.stop = threading.Event()
        self.frozen_at = None
        self.socks = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.lsock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.socks.append(c)
            if self.freeze_on == "now":
                self.frozen_at = self.frozen_at or time.monotonic()
                continue                       # keep it open, never answer
            threading.Thread(target=self._relay, args=(c,), daemon=True).start()

    def _relay(self, c):
        s = socket.create_connection(self.target)
        self.socks.append(s)
        buf, startup_done, frozen = b"", False, False
        while not self.stop.is_set():
            r, _, _ = select.select([c, s], [], [], 0.2)
            for x in r:
                try:
                    data = x.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if x is s:
                    if not frozen:
                        c.sendall(data)
                    continue
                if frozen:
                    continue
                buf += data
                # Walk the client's messages: the startup packet has no type byte.
                out = b""
                while True:
                    if not startup_done:
                        if len(buf) < 4:
                            break
                        n = struct.unpack("!I", buf[:4])[0]
                        if len(buf) < n:
                            break
                        out, buf, startup_done = out + buf[:n], buf[n:], True
                        continue
                    if len(buf) < 5:
                        break
                    if buf[:1] in (b"Q", b"P"):
                        frozen = True
                        self.frozen_at = self.frozen_at or time.monotonic()
                        break
                    n = struct.unpack("!I", buf[1:5])[0] + 1
                    if len(buf) < n:
                        break
                    out, buf = out + buf[:n], buf[n:]
                if out:
                    s.sendall(out)

    def close(self):
        self.stop.set()
        for x in self.socks + [self.lsock]:
            try:
                x.close()
            except OSError:
                pass


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
    return r, took


def test_postgres_frozen_before_handshake_ends_the_pass(world):
    """Accepts TCP, never speaks: connect_timeout bounds the wait."""
    lay = _layout(world)
    relay = FreezingRelay(world.pg.port, freeze_on="now")
    try:
        _pg_via(world, relay)
        r, _ = _timed_once(world, 60)
    finally:
        relay.close()
    assert r.rc == 1, r
    assert "timeout" in r.err.lower() or "timed out" in r.err.lower(), r
    _recovers(world, lay)


def test_postgres_frozen_mid_session_ends_the_pass(world):
    """Authenticates, then the first query never reaches the server: the server's own
    statement_timeout cannot fire, so only the client's deadline ends the wait."""
    lay = _layout(world)
    relay = FreezingRelay(world.pg.port, freeze_on="first-query")
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
    """Secrets Manager accepts the connection and never answers: the per-call timeout plus
    the per-pass breaker end the pass instead of waiting once per entry."""
    lay = _layout(world)
    moto_port = int(world.gd.moto_url.rsplit(":", 1)[1].split("/")[0])
    relay = FreezingRelay(moto_port, freeze_on="now")
    try:
        world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{relay.port}",
                                   "timeout": "2s"})
        r, took = _timed_once(world, 60)
    finally:
        relay.close()
    assert r.rc == 1, r
    assert "secrets manager" in r.err.lower() or "timed out" in r.err.lower(), r
    _recovers(world, lay)
