"""SIGTERM during a pass: no new step starts, the running one finishes or times out, audit and
state are flushed, the daemon exits 0 within statement_timeout + a few seconds; the audit file
has no torn row; the next start converges."""

import csv
import io
import signal
import time

from daemon_helpers import daemon_config, daemons, role_exists, wait_until, write_config  # noqa
from world import AUDIT_HEADER, owners_layout

STATEMENT_TIMEOUT = 3


def layout(world, n):
    return owners_layout(world.uid, n)


def assert_audit_whole(world):
    """Every row parses with the csv module and has exactly the 10 documented fields; the file
    ends with a newline (no torn last row)."""
    text = world.gd.audit_text("dev")
    assert text.startswith(AUDIT_HEADER + "\r\n") or text.startswith(AUDIT_HEADER + "\n"), \
        text[:200]
    assert text.endswith("\n"), f"torn last row: {text[-300:]!r}"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for r in rows:
        assert len(r) == 10, f"row with {len(r)} fields: {r}"
    return rows[1:]


def config(world):
    c = daemon_config(world, interval="1h")
    c["environments"]["dev"]["postgres"]["statement_timeout"] = f"{STATEMENT_TIMEOUT}s"
    # An entry cut short by SIGTERM is recorded as failed (transient) and retried with the
    # back-off; a short base keeps the restart quick.
    c["reconcile"]["retry_base"] = "1s"
    return write_config(world, c)


def restart_converges(world, daemons, cfg, lay):
    d = daemons(cfg, name="again").start()
    d.wait_ready()
    n = len(lay.entries)
    d.wait_status(60, pred=lambda s: f"{n} active, 0 pending, 0 failed" in s)
    for e in lay.entries:
        assert role_exists(world.pg, e.username), e
    assert d.stop() == 0
    assert_audit_whole(world)


def test_sigterm_while_a_statement_is_blocked(world, daemons):
    lay = layout(world, 3)
    world.repo.write_layout(lay)
    cfg = config(world)
    blocker = world.pg.connect()
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE pg_authid IN SHARE MODE")  # CREATE ROLE waits for it
    try:
        d = daemons(cfg).start()
        d.wait_ready()
        wait_until(lambda: world.pg.query(
            "SELECT 1 FROM pg_stat_activity WHERE usename = 'rdsmaster' "
            "AND wait_event_type = 'Lock' AND query ILIKE 'CREATE ROLE%%'"), 30,
            what="gprdsd's CREATE ROLE waiting for the lock")
        t0 = time.monotonic()
        n0 = d.notify.count()
        d.signal(signal.SIGTERM)
        d.notify.wait_key("STOPPING", 5, start=n0, value="1")
        rc = d.wait_exit(STATEMENT_TIMEOUT + 10)
        took = time.monotonic() - t0
    finally:
        blocker.rollback()
        blocker.close()
    print(f"\nSIGTERM -> exit {rc} in {took:.2f}s (statement_timeout {STATEMENT_TIMEOUT}s)")
    assert rc == 0, d.log()[-3000:]
    assert took < STATEMENT_TIMEOUT + 5
    rows = assert_audit_whole(world)
    # The blocked step was not abandoned silently: it is audited as an error, and no step of
    # another entry started after SIGTERM.
    assert any(r[6] == "create_role" and r[7] == "error" for r in rows), rows
    assert not role_exists(world.pg, lay.entries[-1].username)
    assert "stopping on" in d.log()
    restart_converges(world, daemons, cfg, lay)


def test_sigterm_in_the_middle_of_a_pass(world, daemons):
    lay = layout(world, 12)
    world.repo.write_layout(lay)
    cfg = config(world)
    d = daemons(cfg).start()
    d.wait_ready()
    # Once the pass has provisioned a couple of entries (of twelve), stop it.
    wait_until(lambda: sum(role_exists(world.pg, e.username) for e in lay.entries[:3]) >= 2,
               30, 0.005, what="the pass's second role")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(STATEMENT_TIMEOUT + 10)
    took = time.monotonic() - t0
    done = sum(role_exists(world.pg, e.username) for e in lay.entries)
    print(f"\nSIGTERM mid-pass -> exit {rc} in {took:.2f}s; {done}/{len(lay.entries)} roles made")
    assert rc == 0, d.log()[-3000:]
    assert took < STATEMENT_TIMEOUT + 5
    assert done < len(lay.entries), "the pass was not interrupted (too fast to test)"
    assert_audit_whole(world)
    restart_converges(world, daemons, cfg, lay)
