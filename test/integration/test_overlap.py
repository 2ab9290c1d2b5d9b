"""One pass applies several entries at once (the apply pipeline, docs/architecture.md): one
entry's failure, in Secrets Manager or at its login check, fails that entry alone while the
others, whose calls and logins overlap with it, go active in the same pass. The values a pass
reads are asked for in overlapping calls too; the writes of passes that run at once are paced
together."""

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from psycopg2 import sql

from checks import assert_can_login
from daemon_helpers import daemon_config, daemons, write_config  # noqa: F401
from world import owners_layout, standard_layout


class FailingSecretsManager:
    """An HTTP relay in front of moto that answers one operation on one secret (None: on any)
    with a ValidationException (not retried) and forwards every other request. With hold, it
    instead keeps the first request of that operation (any secret) unanswered until a second
    one arrives (or 20 s pass), and notes which it was."""

    def __init__(self, moto_port, op, secret_name=None, hold=False):
        relay = self
        self.held = threading.Event()
        self.released_by_another = None
        self.seen = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                args = json.loads(body or b"{}")
                with relay.lock:
                    relay.log.append((time.monotonic(), target.split(".")[-1],
                                      args.get("Name") or args.get("SecretId") or ""))
                if hold and target == f"secretsmanager.{op}":
                    with relay.lock:
                        relay.seen += 1
                        first = relay.seen == 1
                    if first:
                        relay.released_by_another = relay.held.wait(20)
                    else:
                        relay.held.set()
                elif target == f"secretsmanager.{op}" and \
                        (secret_name is None or args.get("Name") == secret_name):
                    relay.refused += 1
                    self._answer(400, json.dumps({"__type": "ValidationException",
                                                  "message": "refused by the test"}).encode())
                    return
                c = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                c.request("POST", self.path, body=body, headers=headers)
                r = c.getresponse()
                self._answer(r.status, r.read())
                c.close()

            def _answer(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.refused = 0
        self.log = []  # (monotonic time of arrival, operation, secret) of every request
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _states(world):
    st = world.gd.status_json()
    return {x["key"]: x for env in st["environments"] for x in env["entries"]}


def test_one_secret_write_fails_the_others_go_active(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    bad = next(e for e in lay.entries if e.key.startswith("orders-") and e.access == "owner")
    waits = next(e for e in lay.entries if e.database == bad.database and e is not bad)
    relay = FailingSecretsManager(world.gd.moto_port, "CreateSecret", bad.secret_name)
    try:
        world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{relay.port}"})
        r = world.gd.once()
    finally:
        relay.close()
        world.gd.write_config()
    assert r.rc == 1, r
    assert relay.refused == 1, relay.refused
    st = _states(world)
    assert st[bad.key]["state"] == "failed", st[bad.key]
    assert "CreateSecret failed: ValidationException" in st[bad.key]["reason"], st[bad.key]
    # Its role never took a password that no secret holds; its reader waits for its database.
    assert bad.username not in world.pg.roles()
    assert bad.secret_name not in world.secret_names()
    assert st[waits.key]["state"] != "active", st[waits.key]
    for e in lay.entries:
        if e not in (bad, waits):
            assert st[e.key]["state"] == "active", st[e.key]
            assert_can_login(world, e)
    rows = world.gd.audit_rows("dev")
    assert any(x["username"] == bad.username and x["action"] == "create_secret" and
               x["status"] == "error" for x in rows), rows

    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_can_login(world, e)


def test_one_login_fails_the_others_go_active(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    bad = next(e for e in lay.entries if e.env == "dev" and e.access == "editor")
    # A role that exists already (adopted: it takes the secret's password) but whose password
    # has expired: every step succeeds, the login check is refused.
    world.pg.execute(sql.SQL("CREATE ROLE {} LOGIN VALID UNTIL '2000-01-01'")
                     .format(sql.Identifier(bad.username)))
    r = world.gd.once()
    assert r.rc == 1, r
    st = _states(world)
    assert st[bad.key]["state"] == "failed", st[bad.key]
    assert "verify_login" in st[bad.key]["reason"], st[bad.key]
    for e in lay.entries:
        if e is not bad:
            assert st[e.key]["state"] == "active", st[e.key]
            assert_can_login(world, e)
    rows = world.gd.audit_rows("dev")
    assert any(x["username"] == bad.username and x["action"] == "verify_login" and
               x["status"] == "error" for x in rows), rows

    world.pg.execute(sql.SQL("ALTER ROLE {} VALID UNTIL 'infinity'")
                     .format(sql.Identifier(bad.username)))
    r = world.gd.once()
    assert r.rc == 0, r
    assert_can_login(world, bad)


def test_value_reads_overlap(world):
    """The values a pass reads come 20 to a BatchGetSecretValue; the calls are asked for at
    once, not each after the one before: while the first is held unanswered, the next one
    arrives."""
    n = 45  # three batches
    world.repo.write_layout(owners_layout(world.uid, n, prefix="reads"))
    world.gd.write_config(envs=["dev"])
    r = world.gd.once()
    assert r.rc == 0, r
    relay = FailingSecretsManager(world.gd.moto_port, "BatchGetSecretValue", hold=True)
    try:
        world.gd.write_config(envs=["dev"], aws={"endpoint": f"http://127.0.0.1:{relay.port}"})
        r = world.gd.once("--verify")
    finally:
        relay.close()
        world.gd.write_config()
    assert r.rc == 0, r
    assert relay.seen == 3, relay.seen
    assert relay.released_by_another is True, "the second read waited for the first"
    assert "45 active" in r.out, r


def test_value_reads_refused(world):
    """Every BatchGetSecretValue of a verify pass refused (three in flight at once): the pass
    says so once, changes nothing and fails no entry; the next pass reads them."""
    n = 45
    world.repo.write_layout(owners_layout(world.uid, n, prefix="reads"))
    world.gd.write_config(envs=["dev"])
    assert world.gd.once().rc == 0
    rows = len(world.gd.audit_rows("dev"))
    relay = FailingSecretsManager(world.gd.moto_port, "BatchGetSecretValue")
    try:
        world.gd.write_config(envs=["dev"], aws={"endpoint": f"http://127.0.0.1:{relay.port}"})
        r = world.gd.once("--verify")
    finally:
        relay.close()
        world.gd.write_config(envs=["dev"])
    assert r.rc == 1, r
    assert relay.refused == 3, relay.refused
    assert r.err.count("cannot read secret values: ValidationException") == 1, r
    assert len(world.gd.audit_rows("dev")) == rows
    st = _states(world)
    assert all(x["state"] == "active" for x in st.values()), st
    r = world.gd.once("--verify")
    assert r.rc == 0 and "45 active" in r.out, r


WRITES = {"CreateSecret", "PutSecretValue", "UpdateSecretVersionStage", "TagResource",
          "RestoreSecret", "DeleteSecret"}


def test_write_pacing_is_the_processs(world, daemons):
    """The daemon reconciles two environments at once, each pass with a client of its own;
    their writes together still start aws.write_interval apart: the quota is the account's."""
    n = 8
    lay = owners_layout(world.uid, n, env="dev", prefix="pd")
    other = owners_layout(world.uid, n, env="test", prefix="pt")
    lay.entries += other.entries
    lay.catalog.update(other.catalog)
    lay.modes.update(other.modes)
    world.repo.write_layout(lay)
    relay = FailingSecretsManager(world.gd.moto_port, "none")  # refuses nothing
    try:
        aws = dict(world.gd.config()["aws"], endpoint=f"http://127.0.0.1:{relay.port}",
                   write_interval="150ms")
        d = daemons(write_config(world, daemon_config(world, envs=("dev", "test"), aws=aws)))
        d.start()
        d.wait_ready()
        d.wait_status(90, pred=lambda s: f"dev: {n} active" in s and f"test: {n} active" in s)
    finally:
        relay.close()
    writes = sorted((t, name) for t, op, name in relay.log if op in WRITES)
    assert len(writes) == 2 * n, writes
    dev = [t for t, name in writes if "/dev/" in name]
    test = [t for t, name in writes if "/test/" in name]
    # The two passes did run at once: otherwise this test would prove nothing.
    assert max(dev[0], test[0]) < min(dev[-1], test[-1]), (dev, test)
    gaps = [b[0] - a[0] for a, b in zip(writes, writes[1:])]
    assert min(gaps) > 0.075, f"two writes {min(gaps) * 1000:.0f} ms apart: {writes}"
