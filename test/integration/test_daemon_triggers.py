"""What makes the daemon run a pass: a commit to the checkout (fs events, debounced, within
2 s), SIGHUP (reload: a broken config is refused and the old one kept; a good one takes
effect), a retry timer for a transiently failed entry, and the interval, which keeps running
after a pass that failed as a whole."""

import signal
import statistics
import time

from daemon_helpers import (daemon_config, daemons, role_exists, wait_until,  # noqa: F401
                            write_config)
from world import Entry, Layout, catalog_entry


def add_owner(world, lay, name, env="dev"):
    u = world.uid
    e = Entry(env, f"{name}-{u}", f"{name}_{u}", f"{name}_own_{u}")
    lay.entries.append(e)
    lay.catalog[e.database] = catalog_entry(env, e.database, e.username, key=e.key,
                                            status="approved")
    return e


def one_entry_layout(world):
    lay = Layout(modes={"dev": "standalone"})
    add_owner(world, lay, "first")
    return lay


def test_commit_is_applied_within_two_seconds(world, daemons):
    lay = one_entry_layout(world)
    world.repo.write_layout(lay)
    # A one-hour interval: only the checkout's fs events can bring a pass this soon.
    cfg = write_config(world, daemon_config(world, interval="1h"))
    d = daemons(cfg).start()
    d.wait_ready()
    d.wait_status(60, pred=lambda s: "1 active" in s)

    figures = []
    for k in range(3):
        e = add_owner(world, lay, f"lat{k}")
        t_write = time.monotonic()          # the change starts: files written, then committed
        world.repo.write_layout(lay)
        t_commit = time.monotonic()
        wait_until(lambda: role_exists(world.pg, e.username), 10, 0.01,
                   what=f"role {e.username}")
        t_seen = time.monotonic()
        figures.append((t_seen - t_commit, t_seen - t_write))
        print(f"\nchange {k}: commit -> role visible {t_seen - t_commit:.3f}s "
              f"(first file written -> role visible {t_seen - t_write:.3f}s)")
    worst = max(w for _, w in figures)
    print(f"commit-to-applied latency: median {statistics.median(c for c, _ in figures):.3f}s, "
          f"worst (from first write) {worst:.3f}s")
    assert worst < 2.0, figures
    assert d.stop() == 0


def test_sighup_with_a_broken_config_keeps_the_old_one(world, daemons):
    lay = one_entry_layout(world)
    world.repo.write_layout(lay)
    good = daemon_config(world, interval="1h")
    cfg = write_config(world, good)
    d = daemons(cfg).start()
    d.wait_ready()
    d.wait_status(60, pred=lambda s: "1 active" in s)

    # A config that does not parse (unknown key) and one that is not YAML at all.
    for broken in ("# broken\nrepository: {path: /nowhere}\nno_such_key: 1\n",
                   "repository: [unclosed\n"):
        with open(cfg, "w") as f:
            f.write(broken)
        off = len(d.log())
        n0 = d.notify.count()
        d.signal(signal.SIGHUP)
        i, _, _ = d.notify.wait_key("RELOADING", 10, start=n0, value="1")
        d.notify.wait_key("READY", 10, start=i + 1, value="1")
        text = d.wait_log("keeping the previous configuration", 10, start=off)
        print(f"\nlog after SIGHUP with a broken config:\n{text.strip()}")
        _, _, f = d.wait_status(30, start=i + 1)
        assert "failed, running the previous configuration" in f["STATUS"], f
        assert "1 active" in f["STATUS"], f
        assert d.running()

    # Still running with the old config: a later commit is applied (its repository path and
    # allow_provision still hold).
    e = add_owner(world, lay, "after")
    world.repo.write_layout(lay)
    wait_until(lambda: role_exists(world.pg, e.username), 10, what=f"role {e.username}")

    # A good config again: the warning leaves STATUS=.
    write_config(world, good)
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    _, _, f = d.wait_status(30, start=n0)
    assert "previous configuration" not in f["STATUS"], f
    assert d.stop() == 0


def test_sighup_with_a_good_config_takes_effect(world, daemons):
    lay = one_entry_layout(world)
    world.repo.write_layout(lay)
    c = daemon_config(world, interval="1h")
    c["environments"]["dev"]["allow_provision"] = False
    cfg = write_config(world, c)
    d = daemons(cfg).start()
    d.wait_ready()
    i, _, f = d.wait_status(60)
    assert "0 active, 1 pending" in f["STATUS"], f
    assert not role_exists(world.pg, lay.entries[0].username)

    c["environments"]["dev"]["allow_provision"] = True
    write_config(world, c)
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    i, _, _ = d.notify.wait_key("RELOADING", 10, start=n0, value="1")
    d.notify.wait_key("READY", 10, start=i + 1, value="1")
    d.wait_status(30, start=i + 1, pred=lambda s: "1 active" in s)
    assert role_exists(world.pg, lay.entries[0].username)
    assert "configuration reloaded" in d.log()
    assert d.stop() == 0


def test_retry_timer_fires_for_a_transient_failure(world, daemons):
    """CREATE ROLE is blocked by a lock a test session holds on pg_authid, so it hits
    statement_timeout (57014, transient). The entry is retried by its timer (base 1 s), not by
    the one-hour interval, once the lock is gone."""
    lay = one_entry_layout(world)
    e = lay.entries[0]
    world.repo.write_layout(lay)
    c = daemon_config(world, interval="1h")
    c["reconcile"].update({"retry_base": "1s", "retry_max": "4s"})
    c["environments"]["dev"]["postgres"]["statement_timeout"] = "1s"
    cfg = write_config(world, c)

    blocker = world.pg.connect()
    blocker.autocommit = False
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE pg_authid IN SHARE MODE")
    try:
        d = daemons(cfg).start()
        d.wait_ready()
        i, t_failed, f = d.wait_status(60, pred=lambda s: "1 failed" in s)
        print(f"\nSTATUS={f['STATUS']}")
        assert "57014" in d.log() or "statement timeout" in d.log(), d.log()[-3000:]
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: role_exists(world.pg, e.username), 20, what="the retry to create the role")
    _, t_ok, f = d.wait_status(20, start=i + 1, pred=lambda s: "1 active" in s)
    print(f"retried and converged {t_ok - t_failed:.1f}s after the failure: {f['STATUS']}")
    assert t_ok - t_failed < 20
    rows = world.gd.audit_rows("dev")
    assert any(r["action"] == "create_role" and r["status"] == "error" for r in rows), rows
    assert any(r["action"] == "create_role" and r["status"] == "success" for r in rows), rows
    assert d.stop() == 0


def test_loop_survives_a_failed_pass(world, daemons):
    """No master secret: the pass fails as a whole, STATUS says why, the loop keeps running
    passes on its interval, and once the secret exists the environment converges."""
    lay = one_entry_layout(world)
    world.repo.write_layout(lay)
    world.sm.delete_secret(SecretId="goldenpath/dev/rds/master", ForceDeleteWithoutRecovery=True)
    cfg = write_config(world, daemon_config(world, interval="1s"))
    d = daemons(cfg, watchdog_usec=1_000_000).start()
    d.wait_ready()
    i, _, f = d.wait_status(30, pred=lambda s: "error" in s)
    print(f"\nSTATUS={f['STATUS']}")
    assert "master secret" in f["STATUS"], f
    # More passes come (the loop did not stop), and the watchdog keeps pinging.
    i, _, _ = d.wait_status(10, start=i + 1, pred=lambda s: "error" in s)
    n0 = d.notify.count()
    d.notify.wait_key("WATCHDOG", 5, start=n0, value="1")
    world.create_master_secret("dev")
    d.wait_status(20, start=i + 1, pred=lambda s: "1 active" in s)
    assert role_exists(world.pg, lay.entries[0].username)
    assert d.stop() == 0
