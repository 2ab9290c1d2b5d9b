"""`gprdsd retry --env ENV [KEY...]` (DESIGN §7): an entry made to fail for real (its CREATE
ROLE waits on a lock a test session holds on pg_authid and hits statement_timeout) and backing
off for half an hour or more is attempted again as soon as it is asked for: by the running
daemon within seconds, or by the command's own pass when no daemon runs. Each request brings
one attempt forward, once; unknown keys are refused with a "did you mean"; a key that is not
failed is said and needs nothing."""

import contextlib
import datetime
import os
import signal
import time

from checks import assert_can_login
from daemon_helpers import daemon_config, daemons, write_config  # noqa: F401
from world import Entry, Layout, catalog_entry


def owner(world, lay, name, env="dev"):
    u = world.uid
    e = Entry(env, f"{name}-{u}", f"{name}_{u}", f"{name}_own_{u}")
    lay.entries.append(e)
    lay.modes[env] = "standalone"
    lay.catalog[e.database] = catalog_entry(env, e.database, e.username, key=e.key,
                                            status="approved")
    return e


def slow_backoff(cfg):
    """A failed entry waits at least 30 minutes (retry_base 1h: half of it at the least), and
    a statement blocked on a lock fails after 1 s (57014, transient)."""
    cfg["reconcile"] = dict(cfg.get("reconcile", {}), retry_base="1h", retry_max="2h")
    cfg["environments"]["dev"]["postgres"]["statement_timeout"] = "1s"
    return cfg


@contextlib.contextmanager
def roles_locked(world):
    """CREATE ROLE blocks while this is held (reads of pg_authid do not)."""
    blocker = world.pg.connect()
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE pg_authid IN SHARE MODE")
    try:
        yield
    finally:
        blocker.rollback()
        blocker.close()


def records(world):
    st = world.gd.status_json("--env", "dev")
    return {x["key"]: x for env in st["environments"] for x in env["entries"]}


def seconds_until(t):
    when = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    return (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


def assert_backing_off(rec):
    assert rec["state"] == "failed", rec
    assert "57014" in rec["reason"] or "statement" in rec["reason"], rec
    assert seconds_until(rec["next_retry"]) > 20 * 60, f"not backing off for long: {rec}"


def retry_rows(world, since=0):
    return [r for r in world.gd.audit_rows("dev")[since:] if r["action"] == "retry"]


def test_retry_without_daemon_runs_the_pass_itself(world):
    """No daemon: the command runs the pass, which attempts the named entry only; another
    failed entry keeps its backoff."""
    lay = Layout()
    notes = owner(world, lay, "notes")
    world.repo.write_layout(lay)
    world.gd.write_config(slow_backoff(world.gd.config(envs=("dev",))))
    assert world.gd.once().rc == 0
    ledger, orders = owner(world, lay, "ledger"), owner(world, lay, "orders")
    world.repo.write_layout(lay)
    with roles_locked(world):
        r = world.gd.once()
    assert r.rc == 1, r
    before = records(world)
    assert_backing_off(before[ledger.key])
    assert_backing_off(before[orders.key])

    n = len(world.gd.audit_rows("dev"))
    r = world.gd.run("retry", "--env", "dev", ledger.key, notes.key)
    assert r.rc == 0, r
    assert f"dev/{ledger.key}: retried, active" in r.out, r
    assert f"dev/{notes.key}: not failed, nothing to retry" in r.out, r
    assert "running daemon" not in r.out, r
    assert_can_login(world, ledger)
    after = records(world)
    assert after[ledger.key]["state"] == "active", after[ledger.key]
    # Only what was asked for: the other failed entry waits for its retry time.
    assert after[orders.key]["attempts"] == before[orders.key]["attempts"], after[orders.key]
    assert after[orders.key]["next_retry"] == before[orders.key]["next_retry"]
    rows = retry_rows(world, n)
    assert len(rows) == 1 and rows[0]["username"] == ledger.username, rows
    assert "retry requested by " in rows[0]["message"] and "@" in rows[0]["message"], rows

    # Without keys: every failed entry of the environment.
    r = world.gd.run("retry", "--env", "dev")
    assert r.rc == 0, r
    assert f"dev/{orders.key}: retried, active" in r.out, r
    assert ledger.key not in r.out and notes.key not in r.out, r
    assert_can_login(world, orders)
    r = world.gd.run("retry", "--env", "dev")
    assert r.rc == 0 and "dev: no failed entries, nothing to retry" in r.out, r


def test_retry_with_running_daemon(world, daemons):
    """The daemon retries within seconds, not at the retry time half an hour away; a retry
    that fails again says so (exit 1) and is not repeated by the daemon's next pass."""
    lay = Layout()
    owner(world, lay, "notes")
    world.repo.write_layout(lay)
    cfg = write_config(world, slow_backoff(daemon_config(world, interval="1h")))
    assert world.gd.once().rc == 0
    ledger = owner(world, lay, "ledger")
    world.repo.write_layout(lay)
    d = daemons(cfg)
    with roles_locked(world):
        d.start()
        d.wait_ready()
        d.wait_status(60, pred=lambda s: "1 failed" in s)
        assert_backing_off(records(world)[ledger.key])
        # --once is standby beside the daemon, and says what to run instead.
        r = world.gd.once()
        assert r.rc == 1 and "`gprdsd retry --env dev`" in r.out, r

        # Still locked: attempted at once, and it fails again.
        t0 = time.monotonic()
        r = world.gd.run("retry", "--env", "dev", ledger.key)
        assert r.rc == 1, r
        assert "the running daemon" in r.out, r
        assert f"dev/{ledger.key}: retried, failed again: " in r.out, r
        assert time.monotonic() - t0 < 30, r
        rec = records(world)[ledger.key]
        assert rec["attempts"] == 2, rec
        assert_backing_off(rec)

        # The request was used once: the next pass (a reload) leaves the entry waiting.
        n0 = d.notify.count()
        d.signal(signal.SIGHUP)
        d.wait_status(30, start=n0)
        assert records(world)[ledger.key]["attempts"] == 2, records(world)[ledger.key]

    # The cause is fixed: asked again, the daemon retries it within seconds.
    t0 = time.monotonic()
    r = world.gd.run("retry", "--env", "dev", ledger.key)
    took = time.monotonic() - t0
    assert r.rc == 0, r
    assert f"dev/{ledger.key}: retried, active" in r.out, r
    assert took < 30, f"the daemon took {took:.1f}s"
    assert_can_login(world, ledger)
    assert len(retry_rows(world)) == 2, retry_rows(world)
    log = d.log()
    assert f"dev/{ledger.key}: retry requested by " in log, log[-3000:]
    assert d.stop() == 0


def test_retry_refuses_unknown_keys(world):
    """A key that is not an entry of ENV is an error naming it, with the closest key or the
    environment that has it; nothing is requested. Usage errors are exit 2."""
    lay = Layout()
    ledger = owner(world, lay, "ledger")
    other = owner(world, lay, "audit", env="test")
    world.repo.write_layout(lay)
    world.gd.write_config()
    assert world.gd.once().rc == 0
    typo = f"ledgr-{world.uid}"
    r = world.gd.run("retry", "--env", "dev", ledger.key, typo, other.key)
    assert r.rc == 1, r
    assert f"dev/{typo}: no such entry" in r.err, r
    assert f'did you mean "{ledger.key}"?' in r.err, r
    assert f"dev/{other.key}: no such entry" in r.err, r
    assert "it is an entry of test (--env test)" in r.err, r
    assert "retried" not in r.out and "nothing to retry" not in r.out, r
    assert not os.path.exists(os.path.join(world.gd.state_dir, "dev.requests.json"))
    r = world.gd.run("retry", ledger.key)
    assert r.rc == 2 and "retry takes exactly one --env" in r.err, r
    r = world.gd.run("retry", "--env", "nope")
    assert r.rc == 2 and '"nope" is not in' in r.err, r
    # A key that is not failed needs nothing, and is not an error.
    r = world.gd.run("retry", "--env", "dev", ledger.key)
    assert r.rc == 0 and f"dev/{ledger.key}: not failed, nothing to retry" in r.out, r
