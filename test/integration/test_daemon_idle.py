"""What an idle daemon does between changes, and what it must notice anyway.

- Passes reuse the leader's master connection (which holds the advisory lock) instead of logging
  in again each time, and a pass that changes nothing leaves the state file alone, while
  `gprdsd status` still shows when the last pass ran.
- A state file that changed behind the daemon's back is read again, not shadowed by the records
  the daemon kept in memory.
- A kept connection that the server ended (an operator's pg_terminate_backend, a failover) is
  replaced by the next pass: the daemon logs in again, takes the lock again and stays leader,
  and that pass applies the change that arrived, without reporting an error.
- A pass that hangs (PostgreSQL holds the connection open but never answers, so the server's
  statement_timeout cannot fire) stops the WATCHDOG=1 pings after reconcile.stall_timeout, and
  they resume once the pass moves again.
"""

import json
import os
import signal
import time

from daemon_helpers import (daemon_config, daemons, role_exists, wait_until,  # noqa: F401
                            write_config)
from world import Entry, catalog_entry, standard_layout

DEV_ENTRIES = 5  # standard_layout: five entries in dev


def pg_now(world):
    return world.pg.query("SELECT now()")[0][0]


def gprdsd_backends(world, since):
    """(pid, holds an advisory lock) of every gprdsd session on the master database that
    started after `since` (earlier tests' sessions are not this daemon's)."""
    return world.pg.query(
        "SELECT a.pid, EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid "
        "                      AND l.locktype = 'advisory' AND l.granted) "
        "FROM pg_stat_activity a "
        "WHERE a.application_name = 'gprdsd' AND a.backend_start >= %s ORDER BY a.pid",
        (since,))


def state_path(world):
    return os.path.join(world.gd.state_dir, "dev.state.json")


def file_id(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


def converged(status):
    return f"{DEV_ENTRIES} active, 0 pending, 0 failed" in status


def start_converged(world, daemons, interval, stall_timeout=None, **kw):
    """The standard layout and a daemon on it, awaited until its first pass converged:
    (layout, the server's time before the start, config path, daemon, index of that STATUS=)."""
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    t0 = pg_now(world)
    c = daemon_config(world, interval=interval)
    if stall_timeout:
        c["reconcile"]["stall_timeout"] = stall_timeout
    cfg = write_config(world, c)
    d = daemons(cfg, **kw).start()
    d.wait_ready()
    i = d.wait_status(60, pred=converged)[0]
    return lay, t0, cfg, d, i


def test_idle_passes_reuse_the_connection_and_leave_the_state_file(world, daemons):
    lay, t0, cfg, d, i = start_converged(world, daemons, "1s")
    # The pass after provisioning still records what it observed of the new objects (secret
    # dates, privilege checks); from then on there is nothing to record.
    i = d.wait_status(20, start=i + 1, pred=converged)[0]

    # One session: the pass's master connection is the one holding the lock.
    backends = gprdsd_backends(world, t0)
    assert len(backends) == 1 and backends[0][1], backends
    before = file_id(state_path(world))
    records = json.load(open(state_path(world)))["entries"]

    # Three more passes (1 s interval) that find nothing to do.
    n0 = i + 1
    for _ in range(3):
        n0 = d.wait_status(20, start=n0, pred=converged)[0] + 1
    after = gprdsd_backends(world, t0)
    print(f"\ngprdsd sessions after 4+ passes: {after}")
    assert after == backends, f"a pass opened another session: {backends} -> {after}"
    now = json.load(open(state_path(world)))["entries"]
    assert now == records, [(a, b) for a, b in zip(records, now) if a != b]
    assert file_id(state_path(world)) == before, "an idle pass rewrote the state file"

    # status shows the daemon's latest pass, newer than the state file's own last_pass.
    r = world.gd.run("status", "--json", config=cfg)
    assert r.rc == 0, r
    dev = next(e for e in r.json()["environments"] if e["env"] == "dev")
    on_disk = json.load(open(state_path(world)))
    assert dev["last_pass"] and dev["last_pass"] >= dev["daemon"]["last_pass"], dev
    assert dev["last_pass"] > on_disk["last_pass"], (dev["last_pass"], on_disk["last_pass"])
    assert {x["key"] for x in dev["entries"]} == {e.key for e in lay.entries if e.env == "dev"}
    assert d.stop() == 0


def test_state_file_removed_behind_the_daemon_is_written_again(world, daemons):
    lay, _, _, d, _ = start_converged(world, daemons, "1h")
    os.unlink(state_path(world))

    # The next pass reads "no records" from disk (not its copy in memory), adopts the entries
    # again and writes the file.
    n0 = d.notify.count()
    d.signal(signal.SIGHUP)
    d.wait_status(60, start=n0, pred=converged)
    wait_until(lambda: os.path.exists(state_path(world)), 10, what="the state file")
    keys = {x["key"] for x in json.load(open(state_path(world)))["entries"]}
    assert keys == {e.key for e in lay.entries if e.env == "dev"}, keys
    assert d.stop() == 0


def test_lock_connection_ended_by_the_server_is_replaced(world, daemons):
    lay, t0, _, d, _ = start_converged(world, daemons, "1h")
    [(pid, locked)] = gprdsd_backends(world, t0)
    assert locked

    world.pg.execute("SELECT pg_terminate_backend(%s)", (pid,))
    wait_until(lambda: not gprdsd_backends(world, t0), 10, what="the session to end")
    # A change arrives: the pass it triggers finds the kept session dead and replaces it.
    extra = Entry("dev", f"late-{world.uid}", f"late_{world.uid}", f"late_own_{world.uid}")
    lay.entries.append(extra)
    lay.catalog[extra.database] = catalog_entry("dev", extra.database, extra.username,
                                                key=extra.key, status="approved")
    n0 = d.notify.count()
    world.repo.write_layout(lay)
    wait_until(lambda: role_exists(world.pg, extra.username), 20, what="the new entry applied")
    d.wait_status(30, start=n0, pred=lambda s: f"{DEV_ENTRIES + 1} active" in s)
    seen = [s for _, s in d.notify.all("STATUS", n0)]
    assert not any("error:" in s or "standby" in s for s in seen), seen
    after = gprdsd_backends(world, t0)
    assert len(after) == 1 and after[0][1] and after[0][0] != pid, (pid, after)
    assert "standby" not in d.log()
    assert d.stop() == 0


def test_watchdog_pings_stop_while_a_pass_hangs(world, daemons):
    # A ping every 0.5 s.
    _, t0, _, d, _ = start_converged(world, daemons, "1h", stall_timeout="2s",
                                     watchdog_usec=1_000_000)
    (backend, locked), = gprdsd_backends(world, t0)
    assert locked

    # The server side of gprdsd's session stops answering (its TCP stays up).
    os.kill(backend, signal.SIGSTOP)
    try:
        n0, log0 = d.notify.count(), len(d.log())
        d.signal(signal.SIGHUP)  # reload, then a pass: its first statement never returns
        t_pass = time.monotonic()
        d.wait_log("it hangs; watchdog pings stop", 20, start=log0)
        t_logged = time.monotonic()
        n_hang = d.notify.count()
        # Three ping periods (1.5 s) and more: no WATCHDOG=1 while the pass hangs.
        try:
            d.notify.wait_key("WATCHDOG", 2.0, start=n_hang, value="1")
            raise AssertionError("WATCHDOG=1 sent while the pass hangs")
        except AssertionError as e:
            if "timed out" not in str(e):
                raise
        pings = [t for t, v in d.notify.all("WATCHDOG", n0) if v == "1"]
        last = max(pings) if pings else t_pass
        print(f"\nhang noticed {t_logged - t_pass:.2f}s after the pass started; last ping "
              f"{last - t_pass:+.2f}s; none in the {time.monotonic() - last:.2f}s since")
        assert time.monotonic() - last >= 2.0
        assert d.running()
    finally:
        os.kill(backend, signal.SIGCONT)

    # The server answers again: the pass ends and the pings resume.
    n1 = d.notify.count()
    d.wait_status(60, start=n1, pred=converged)
    d.notify.wait_key("WATCHDOG", 5, start=n1, value="1")
    assert d.stop() == 0
