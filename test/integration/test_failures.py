"""(h) Unreachable dependencies: the pass fails cleanly with exit 1 and a clear error, and
the next pass with the dependency back converges."""

import json
import re

from checks import assert_can_login
from servers import free_port
from world import standard_layout


def _layout(world):
    lay = standard_layout(world.uid)
    world.repo.write_layout(lay)
    return lay


def _status(world):
    st = world.gd.status_json()
    return {x["key"]: x for env in st["environments"] for x in env["entries"]}


def test_postgres_unreachable_then_recovers(world):
    lay = _layout(world)
    closed = free_port()
    cfg = world.gd.config()
    for env in cfg["environments"].values():
        env["postgres"]["port"] = closed
    world.gd.write_config(cfg)
    r = world.gd.once()
    assert r.rc == 1, r
    assert re.search(r"(?i)connect|refused", r.err), r
    assert str(closed) in r.err or "127.0.0.1" in r.err, r
    roles = world.pg.roles()
    assert not any(e.username in roles for e in lay.entries)
    # The failure must be visible in `status`: either per entry (failed, with a reason) or,
    # when the environment as a whole could not be reconciled, on the environment.
    doc = world.gd.status_json()
    for env in doc["environments"]:
        if env["entries"]:
            for x in env["entries"]:
                assert x["state"] == "failed" and x["reason"], x
        else:
            assert any(env.get(k) for k in ("error", "last_error", "reason")), \
                f"status shows nothing about the failed pass of {env['env']}: {env}"

    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, f"after PostgreSQL came back the pass should converge:{r}"
    for e in lay.entries:
        assert_can_login(world, e)
    st = _status(world)
    assert all(st[e.key]["state"] == "active" for e in lay.entries), st


def test_secrets_manager_unreachable_then_recovers(world):
    lay = _layout(world)
    world.gd.write_config(aws={"endpoint": f"http://127.0.0.1:{free_port()}",
                               "timeout": "3s"})
    r = world.gd.once(timeout=180)
    assert r.rc == 1, r
    assert re.search(r"(?i)secrets ?manager|connect|refused|endpoint|couldn't|curl", r.err), r
    roles, dbs = world.pg.roles(), world.pg.databases()
    assert not any(e.username in roles or e.database in dbs for e in lay.entries)

    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_can_login(world, e)


def test_missing_master_secret_is_env_error(world):
    lay = _layout(world)
    world.sm.delete_secret(SecretId="goldenpath/test/rds/master",
                           ForceDeleteWithoutRecovery=True)
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 1, r
    assert "goldenpath/test/rds/master" in r.err, r
    roles = world.pg.roles()
    assert not any(e.username in roles for e in lay.env_entries("test"))
    for e in lay.env_entries("dev"):
        assert_can_login(world, e)


def test_wrong_master_password_is_env_error(world):
    lay = _layout(world)
    bad = dict(world.master_secret_value(), password="not-the-password")
    world.sm.put_secret_value(SecretId="goldenpath/dev/rds/master",
                              SecretString=json.dumps(bad))
    world.gd.write_config()
    r = world.gd.once()
    assert r.rc == 1, r
    assert re.search(r"(?i)authentication|password", r.err), r
    assert "not-the-password" not in r.err + r.out
    for e in lay.env_entries("test"):
        assert_can_login(world, e)
    world.sm.put_secret_value(SecretId="goldenpath/dev/rds/master",
                              SecretString=json.dumps(world.master_secret_value()))
    r = world.gd.once()
    assert r.rc == 0, r
    for e in lay.entries:
        assert_can_login(world, e)


def test_postgres_lost_mid_run_then_recovers(world):
    """PostgreSQL goes away in the middle of a pass (here: gprdsd's sessions are terminated
    while a CREATE ROLE waits), not before it: exit 1 with a clear error, nothing half-done
    is hidden, and the next pass converges."""
    import subprocess
    import time

    from psycopg2 import sql

    lay = _layout(world)
    world.gd.write_config()
    e = next(x for x in lay.entries if x.env == "dev" and x.access == "owner")
    # An uncommitted role of the same name: gprdsd does not see it and its CREATE ROLE waits.
    blocker = world.pg.connect()
    blocker.autocommit = False
    blocker.cursor().execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(e.username)))
    p = subprocess.Popen([world.gd.bin, "--once", "--config", world.gd.config_path],
                         env=world.gd.environ(), cwd=world.gd.workdir,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            waiting = world.pg.query("SELECT count(*) FROM pg_stat_activity WHERE "
                                     "application_name = 'gprdsd' AND wait_event_type = 'Lock'")
            if waiting[0][0]:
                break
            assert p.poll() is None, "gprdsd finished before it reached the blocked statement"
            assert time.monotonic() < deadline, "gprdsd never blocked on the role"
            time.sleep(0.05)
        world.pg.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name LIKE 'gprdsd%%'")
        out, err = p.communicate(timeout=120)
    finally:
        blocker.rollback()
        blocker.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    err = err.decode("utf-8", "replace")
    assert p.returncode == 1, (p.returncode, out, err)
    assert re.search(r"(?i)terminat|57P01|connection", err), err
    assert f"create_role {e.username}" in err, err
    r = world.gd.once()
    assert r.rc == 0, f"after PostgreSQL came back the pass should converge:{r}"
    for x in lay.entries:
        assert_can_login(world, x)
    st = _status(world)
    assert all(st[x.key]["state"] == "active" for x in lay.entries), st


def test_lock_refused_is_an_error_not_standby(world):
    """The master may connect but not take the advisory lock (a locked-down server where
    pg_try_advisory_lock is not granted to it). That is no answer about another leader: the
    environment is not reconciled, with the server's reason, instead of waiting as a standby
    that nothing will ever relieve."""
    lay = _layout(world)
    world.pg.execute("REVOKE EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) FROM PUBLIC")
    try:
        r = world.gd.once()
    finally:
        world.pg.execute("GRANT EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) TO PUBLIC")
    assert r.rc == 1, r
    assert "standby" not in r.out, r
    line = next((l for l in r.out.splitlines() if l.startswith("dev: not reconciled:")), "")
    assert line.startswith("dev: not reconciled: cannot ask for the advisory lock: 42501 "), r
    assert "pg_try_advisory_lock" in line, r
    roles = world.pg.roles()
    assert not any(e.username in roles for e in lay.entries)

    r = world.gd.once()
    assert r.rc == 0, f"with the lock granted again the pass should converge:{r}"
    for e in lay.entries:
        assert_can_login(world, e)
